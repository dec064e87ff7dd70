//! Room ids in a cluster: `<node id>.<16 hex digits>`, so that any node can
//! tell which node runs a room without a lookup. A single node (no cluster)
//! uses the bare 16 hex digits.

/// Longest node id; node ids are lowercase letters, digits and `-`.
pub const MAX_NODE_ID_LEN: usize = 32;

/// A new room id for a room run by `node` (or by the only node).
pub fn new_room_id(node: Option<&str>) -> String {
    let random = &uuid::Uuid::new_v4().simple().to_string()[..16];
    match node {
        Some(node) => format!("{node}.{random}"),
        None => random.to_string(),
    }
}

/// The node a room id names, if it names one.
pub fn node_of(room_id: &str) -> Option<&str> {
    room_id.split_once('.').map(|(node, _)| node).filter(|node| is_valid_node_id(node))
}

pub fn is_valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_NODE_ID_LEN
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_id_names_its_node() {
        let id = new_room_id(Some("node-2"));
        assert_eq!(node_of(&id), Some("node-2"));
        assert_eq!(id.len(), "node-2.".len() + 16);
        let single = new_room_id(None);
        assert_eq!((single.len(), node_of(&single)), (16, None));
    }

    #[test]
    fn only_well_formed_node_ids_count() {
        assert_eq!(node_of("Node_2.abc"), None);
        assert_eq!(node_of(".abc"), None);
        assert_eq!(node_of("abc"), None);
        assert!(!is_valid_node_id(&"a".repeat(MAX_NODE_ID_LEN + 1)));
    }
}
