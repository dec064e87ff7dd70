//! Choosing nodes for new rooms: each room goes to the live, non-draining
//! node with the lowest load relative to its capacity, counting the rooms
//! placed earlier in the same call; a node at capacity gets nothing. Rooms
//! therefore spread in proportion to capacity.

use super::nodes::NodeInfo;

/// For each of `rooms` new rooms, the index in `nodes` of the node to run
/// it, or `None` when every node is full or draining.
pub fn place_rooms(nodes: &[NodeInfo], rooms: usize) -> Vec<Option<usize>> {
    let mut added = vec![0u32; nodes.len()];
    (0..rooms)
        .map(|_| {
            let chosen = nodes
                .iter()
                .enumerate()
                .filter(|(i, node)| node.accepts(added[*i]))
                .min_by(|(i, a), (j, b)| a.load(added[*i]).total_cmp(&b.load(added[*j])).then_with(|| a.id.cmp(&b.id)))
                .map(|(i, _)| i);
            if let Some(i) = chosen {
                added[i] += 1;
            }
            chosen
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, capacity: u32, rooms: u32) -> NodeInfo {
        NodeInfo::for_tests(id, capacity, rooms)
    }

    fn counts(nodes: &[NodeInfo], rooms: usize) -> Vec<usize> {
        let mut counts = vec![0; nodes.len()];
        for i in place_rooms(nodes, rooms).into_iter().flatten() {
            counts[i] += 1;
        }
        counts
    }

    #[test]
    fn rooms_spread_in_proportion_to_capacity() {
        let nodes = [node("a", 200, 0), node("b", 100, 0), node("c", 100, 0)];
        assert_eq!(counts(&nodes, 100), [50, 25, 25]);
    }

    #[test]
    fn existing_load_counts() {
        let nodes = [node("a", 100, 60), node("b", 100, 0)];
        assert_eq!(counts(&nodes, 40), [0, 40]);
        assert_eq!(counts(&nodes, 100), [20, 80]);
    }

    #[test]
    fn full_and_draining_nodes_get_nothing() {
        let draining = NodeInfo { draining: true, ..node("a", 100, 0) };
        let nodes = [draining, node("b", 3, 1)];
        assert_eq!(place_rooms(&nodes, 3), [Some(1), Some(1), None]);
        assert_eq!(place_rooms(&[], 1), [None]);
    }
}
