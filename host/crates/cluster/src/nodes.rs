//! The node directory: each node heartbeats its [`NodeInfo`] with a TTL;
//! whoever places rooms reads the live nodes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::ClusterError;
use super::advertise::AdvertisePolicy;
use super::auth::ClusterKey;

/// What a shared directory signs its records with and checks them against.
#[derive(Clone, Debug)]
pub struct NodeTrust {
    pub key: ClusterKey,
    pub advertise: AdvertisePolicy,
}

/// What a node says about itself at every heartbeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: String,
    /// Base URL players and other nodes reach it at (`http://10.0.0.5:8080`).
    pub url: String,
    /// The region it serves (`cluster.region`, e.g. `eu-west-1`); empty:
    /// every region. Records written before regions existed have none.
    #[serde(default)]
    pub region: String,
    /// Rooms it takes at most.
    pub capacity: u32,
    /// Rooms it runs now.
    pub rooms: u32,
    /// Draining nodes finish their games but take no new rooms.
    pub draining: bool,
    pub heartbeat_at_ms: u64,
}

impl NodeInfo {
    /// Can take `extra` more rooms on top of the ones it reported.
    pub fn accepts(&self, extra: u32) -> bool {
        !self.draining && self.rooms.saturating_add(extra) < self.capacity
    }

    /// Its rooms plus `extra`, as a share of its capacity: what placement
    /// evens out.
    pub fn load(&self, extra: u32) -> f64 {
        f64::from(self.rooms.saturating_add(extra)) / f64::from(self.capacity.max(1))
    }
}

#[cfg(test)]
impl NodeInfo {
    /// A live, non-draining node at `http://<id>:8080`.
    pub(crate) fn for_tests(id: &str, capacity: u32, rooms: u32) -> NodeInfo {
        NodeInfo {
            id: id.into(),
            url: format!("http://{id}:8080"),
            region: String::new(),
            capacity,
            rooms,
            draining: false,
            heartbeat_at_ms: 0,
        }
    }
}

/// Where nodes register. Safe to share between tasks.
#[async_trait]
pub trait NodeDirectory: Send + Sync {
    /// `memory` or `redis`, for logs.
    fn backend(&self) -> &'static str;

    /// Registers or refreshes `node`; it counts as live for `ttl`.
    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> Result<(), ClusterError>;

    /// The live nodes, sorted by id. Records that fail their checks are
    /// skipped (and counted), never an error for the whole list.
    async fn live_nodes(&self) -> Result<Vec<NodeInfo>, ClusterError>;

    /// Records refused when read since start (forged, malformed, or naming
    /// a host that is not allowed).
    fn rejected_records(&self) -> u64 {
        0
    }

    /// Forgets the registered nodes whose TTL ran out; returns their ids
    /// (each lost node is reported once, by whichever caller notices).
    async fn prune(&self) -> Result<Vec<String>, ClusterError>;

    /// Removes a node at once (a clean shutdown).
    async fn leave(&self, node_id: &str) -> Result<(), ClusterError>;
}

/// The nodes of this process only (a single node, or tests).
#[derive(Default)]
pub struct MemoryNodeDirectory {
    nodes: Mutex<HashMap<String, (NodeInfo, Instant)>>,
}

impl MemoryNodeDirectory {
    fn nodes(&self) -> std::sync::MutexGuard<'_, HashMap<String, (NodeInfo, Instant)>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl NodeDirectory for MemoryNodeDirectory {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> Result<(), ClusterError> {
        self.nodes().insert(node.id.clone(), (node.clone(), Instant::now() + ttl));
        Ok(())
    }

    async fn live_nodes(&self) -> Result<Vec<NodeInfo>, ClusterError> {
        let now = Instant::now();
        let mut live: Vec<NodeInfo> =
            self.nodes().values().filter(|(_, until)| *until > now).map(|(node, _)| node.clone()).collect();
        live.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(live)
    }

    async fn prune(&self) -> Result<Vec<String>, ClusterError> {
        let now = Instant::now();
        let mut nodes = self.nodes();
        let lost: Vec<String> =
            nodes.iter().filter(|(_, (_, until))| *until <= now).map(|(id, _)| id.clone()).collect();
        for id in &lost {
            nodes.remove(id);
        }
        Ok(lost)
    }

    async fn leave(&self, node_id: &str) -> Result<(), ClusterError> {
        self.nodes().remove(node_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, capacity: u32, rooms: u32) -> NodeInfo {
        NodeInfo::for_tests(id, capacity, rooms)
    }

    #[tokio::test]
    async fn a_node_that_stops_heartbeating_is_pruned_once() {
        let directory = MemoryNodeDirectory::default();
        directory.heartbeat(&node("a", 10, 0), Duration::from_secs(60)).await.unwrap();
        directory.heartbeat(&node("b", 10, 0), Duration::from_millis(30)).await.unwrap();
        assert_eq!(directory.live_nodes().await.unwrap().len(), 2);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let live: Vec<String> = directory.live_nodes().await.unwrap().into_iter().map(|n| n.id).collect();
        assert_eq!(live, ["a"]);
        assert_eq!(directory.prune().await.unwrap(), ["b"]);
        assert!(directory.prune().await.unwrap().is_empty());
        directory.leave("a").await.unwrap();
        assert!(directory.live_nodes().await.unwrap().is_empty());
    }

    #[test]
    fn records_without_a_region_serve_every_region() {
        // A record as nodes wrote it before regions existed.
        let old = r#"{"id":"a","url":"http://a:8080","capacity":10,"rooms":1,"draining":false,"heartbeat_at_ms":5}"#;
        let node: NodeInfo = serde_json::from_str(old).unwrap();
        assert_eq!(node, NodeInfo { heartbeat_at_ms: 5, ..NodeInfo::for_tests("a", 10, 1) });
        assert_eq!(node.region, "");
        let new = NodeInfo { region: "eu".into(), ..node };
        let json = serde_json::to_value(&new).unwrap();
        assert_eq!(json["region"], "eu");
        assert_eq!(serde_json::from_value::<NodeInfo>(json).unwrap(), new);
    }

    #[test]
    fn full_or_draining_nodes_take_no_rooms() {
        assert!(node("a", 2, 1).accepts(0));
        assert!(!node("a", 2, 1).accepts(1));
        assert!(!NodeInfo { draining: true, ..node("a", 2, 0) }.accepts(0));
    }
}
