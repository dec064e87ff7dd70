//! The Redis node directory, shared by every node and the matchmaker Lambda.
//!
//! | key | type | holds | TTL |
//! | --- | --- | --- | --- |
//! | `<ns>:node:<id>` | string | `{"record": <the node's NodeInfo JSON, as a string>, "signature": <hex>}` | the heartbeat TTL |
//! | `<ns>:nodes` | set | ids of registered nodes | none |
//!
//! A node is live while its key exists. `prune` removes set members whose
//! key has expired; `SREM` answers 1 to exactly one caller, so each lost
//! node is reported once.
//!
//! Records are signed with the cluster secret ([`ClusterKey::sign_record`])
//! and checked when read: a record that is malformed, unsigned, signed with
//! another secret, filed under another node's id or advertising a URL
//! outside `cluster.allowed_advertise_hosts` is skipped, logged and counted
//! ([`NodeDirectory::rejected_records`]); the other nodes stay live.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ::redis::AsyncCommands;
use ::redis::aio::ConnectionManager;
use async_trait::async_trait;

use super::ClusterError;
use super::nodes::{NodeDirectory, NodeInfo, NodeTrust};

pub struct RedisNodeDirectory {
    connection: ConnectionManager,
    namespace: String,
    trust: NodeTrust,
    /// Records refused when read, since start.
    rejected: AtomicU64,
}

/// A node record as stored: the record JSON exactly as signed, and its
/// signature.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SignedRecord {
    record: String,
    signature: String,
}

fn store_error(e: ::redis::RedisError) -> ClusterError {
    ClusterError::Store { backend: "redis", message: e.to_string() }
}

/// The node in the record stored under `id`, if it is signed with the
/// cluster secret, names `id` and advertises an allowed URL. Records signed
/// before nodes had a region read as region-less (serving every region).
fn verify_record(trust: &NodeTrust, id: &str, stored: &str) -> Result<NodeInfo, String> {
    let signed: SignedRecord = serde_json::from_str(stored).map_err(|e| format!("not a signed record: {e}"))?;
    if !trust.key.verify_record(&signed.record, &signed.signature) {
        return Err("bad signature (not signed with this cluster's secret)".into());
    }
    let node: NodeInfo = serde_json::from_str(&signed.record).map_err(|e| format!("malformed record: {e}"))?;
    if node.id != id {
        return Err(format!("the record names node {:?}", node.id));
    }
    if !node.region.is_empty() && !crate::matchmaking::request::is_valid_region(&node.region) {
        return Err(format!("the record's region {:?} is not a region name", node.region));
    }
    trust.advertise.check(&node.url)?;
    Ok(node)
}

impl RedisNodeDirectory {
    /// Connects to `url`; records are signed and checked with `trust`.
    pub async fn connect(url: &str, namespace: &str, trust: NodeTrust) -> Result<Self, ClusterError> {
        let client = crate::redis_client::open(url).map_err(store_error)?;
        let connection = ConnectionManager::new(client).await.map_err(store_error)?;
        Ok(RedisNodeDirectory { connection, namespace: namespace.to_string(), trust, rejected: AtomicU64::new(0) })
    }

    fn verify(&self, id: &str, stored: &str) -> Result<NodeInfo, String> {
        verify_record(&self.trust, id, stored)
    }

    fn node_key(&self, id: &str) -> String {
        format!("{}:node:{id}", self.namespace)
    }

    fn set_key(&self) -> String {
        format!("{}:nodes", self.namespace)
    }

    /// Registered ids with their record, `None` where the TTL ran out.
    async fn registered(&self) -> Result<Vec<(String, Option<String>)>, ClusterError> {
        let mut connection = self.connection.clone();
        let ids: Vec<String> = connection.smembers(self.set_key()).await.map_err(store_error)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| self.node_key(id)).collect();
        let records: Vec<Option<String>> =
            ::redis::cmd("MGET").arg(&keys).query_async(&mut connection).await.map_err(store_error)?;
        Ok(ids.into_iter().zip(records).collect())
    }
}

#[async_trait]
impl NodeDirectory for RedisNodeDirectory {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn rejected_records(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    async fn heartbeat(&self, node: &NodeInfo, ttl: Duration) -> Result<(), ClusterError> {
        let record = serde_json::to_string(node).map_err(|e| ClusterError::Corrupt(e.to_string()))?;
        let signature = self.trust.key.sign_record(&record);
        let record = serde_json::to_string(&SignedRecord { record, signature })
            .map_err(|e| ClusterError::Corrupt(e.to_string()))?;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut connection = self.connection.clone();
        ::redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.node_key(&node.id))
            .arg(record)
            .arg("PX")
            .arg(ttl_ms)
            .ignore()
            .sadd(self.set_key(), &node.id)
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(store_error)
    }

    async fn live_nodes(&self) -> Result<Vec<NodeInfo>, ClusterError> {
        let mut live = Vec::new();
        for (id, record) in self.registered().await? {
            let Some(record) = record else { continue };
            match self.verify(&id, &record) {
                Ok(node) => live.push(node),
                Err(why) => {
                    // One bad record never hides the good ones.
                    tracing::warn!(node = %id, %why, "node record refused");
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        live.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(live)
    }

    async fn prune(&self) -> Result<Vec<String>, ClusterError> {
        let mut lost = Vec::new();
        let mut connection = self.connection.clone();
        for (id, record) in self.registered().await? {
            if record.is_none() {
                let removed: u32 = connection.srem(self.set_key(), &id).await.map_err(store_error)?;
                if removed == 1 {
                    lost.push(id);
                }
            }
        }
        Ok(lost)
    }

    async fn leave(&self, node_id: &str) -> Result<(), ClusterError> {
        let mut connection = self.connection.clone();
        ::redis::pipe()
            .atomic()
            .del(self.node_key(node_id))
            .ignore()
            .srem(self.set_key(), node_id)
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AdvertisePolicy, ClusterKey};

    fn trust() -> NodeTrust {
        NodeTrust { key: ClusterKey::new(&"k".repeat(40)).unwrap(), advertise: AdvertisePolicy::any() }
    }

    fn signed(trust: &NodeTrust, record: &str) -> String {
        serde_json::to_string(&SignedRecord { record: record.into(), signature: trust.key.sign_record(record) })
            .unwrap()
    }

    #[test]
    fn records_signed_before_regions_existed_still_verify() {
        let trust = trust();
        let old =
            r#"{"id":"a","url":"http://10.0.0.5:8080","capacity":10,"rooms":0,"draining":false,"heartbeat_at_ms":1}"#;
        let node = verify_record(&trust, "a", &signed(&trust, old)).unwrap();
        assert_eq!((node.id.as_str(), node.region.as_str()), ("a", ""));
        let with_region = old.replace(r#""capacity""#, r#""region":"eu-west-1","capacity""#);
        assert_eq!(verify_record(&trust, "a", &signed(&trust, &with_region)).unwrap().region, "eu-west-1");
        // The region is signed: changing it breaks the signature.
        let mut tampered: SignedRecord = serde_json::from_str(&signed(&trust, &with_region)).unwrap();
        tampered.record = tampered.record.replace("eu-west-1", "us-east-1");
        let tampered = serde_json::to_string(&tampered).unwrap();
        assert!(verify_record(&trust, "a", &tampered).unwrap_err().contains("bad signature"));
        let bad_region = old.replace(r#""capacity""#, r#""region":"EU West","capacity""#);
        assert!(verify_record(&trust, "a", &signed(&trust, &bad_region)).unwrap_err().contains("region"));
    }
}
