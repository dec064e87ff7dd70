//! The Redis ticket store, shared by every node and Lambda invocation that
//! uses the same namespace. Each operation that changes state is one Lua
//! script (host/crates/cluster/src/matchmaking/lua/), so it is atomic: in particular a
//! match is committed only if all its tickets are still waiting.
//!
//! Keys (namespace `arcade:mm` by default):
//!
//! | key | type | holds | TTL |
//! | --- | --- | --- | --- |
//! | `<ns>:ticket:<id>` | hash | `ticket` JSON, `state`, `queue`, `match_id`, `secret` (SHA-256 hex of the ticket secret) | ticket TTL + retention; retention once finished |
//! | `<ns>:queue:<game>:<mode>` | hash | waiting ticket id → ticket JSON | none: entries leave when matched, cancelled or expired |
//! | `<ns>:player:<player>` | string | the waiting ticket holding the player | ticket TTL |
//! | `<ns>:match:<id>` | string | match JSON | retention |
//! | `<ns>:assignment:<id>` | string | room assignment JSON | the match's |
//! | `<ns>:lease:<game>:<mode>` | string | the holder running the queue's rounds | the lease's |
//! | `<ns>:unassigned` | sorted set | ids of matches without a room, by commit or last claim time | none: entries leave when assigned or claimed after their match expired |
//!
//! Newly seated ticket ids are published on the channel `<ns>:seated`
//! (a JSON list per round) for the ticket watchers of every node.

use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError, Script};
use async_trait::async_trait;
use futures_util::StreamExt;

use super::MatchmakingError;
use super::secret::SecretHash;
use super::store::{SeatedAnnouncements, StoreOptions, TicketRecord, TicketStore};
use super::ticket::{MatchResult, RoomAssignment, Ticket, TicketStatus, TicketView};

/// Matches committed per script call: bounds how long one call blocks Redis.
const MATCHES_PER_COMMIT: usize = 256;

/// A 100,000-ticket snapshot is a ~20 MB reply: allow more than the
/// client's 500 ms default.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

macro_rules! store_script {
    ($file:literal) => {
        Script::new(concat!(include_str!("lua/common.lua"), include_str!(concat!("lua/", $file))))
    };
}

struct Scripts {
    create: Script,
    get: Script,
    cancel: Script,
    expire: Script,
    commit: Script,
    assign: Script,
    lease: Script,
    claim_unassigned: Script,
    fail_match: Script,
}

impl Scripts {
    fn load() -> Scripts {
        Scripts {
            create: store_script!("create.lua"),
            get: store_script!("get.lua"),
            cancel: store_script!("cancel.lua"),
            expire: store_script!("expire.lua"),
            commit: store_script!("commit.lua"),
            assign: store_script!("assign.lua"),
            lease: Script::new(include_str!("lua/lease.lua")),
            claim_unassigned: store_script!("claim_unassigned.lua"),
            fail_match: store_script!("fail_match.lua"),
        }
    }
}

pub struct RedisTicketStore {
    connection: ConnectionManager,
    /// For the announcement subscriptions (each its own connection); `None`
    /// for a store made over a shared connection.
    client: Option<Client>,
    namespace: String,
    retention_ms: u64,
    scripts: Scripts,
}

impl RedisTicketStore {
    /// Connects to `url` (`redis://host:port/db`); reconnects by itself later.
    pub async fn connect(url: &str, options: StoreOptions) -> Result<Self, MatchmakingError> {
        let client = crate::redis_client::open(url).map_err(store_error)?;
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
        let connection = ConnectionManager::new_with_config(client.clone(), config).await.map_err(store_error)?;
        Ok(RedisTicketStore { client: Some(client), ..Self::with_connection(connection, options) })
    }

    /// A store over an existing connection (e.g. shared with other Redis users).
    pub fn with_connection(connection: ConnectionManager, options: StoreOptions) -> Self {
        RedisTicketStore {
            connection,
            client: None,
            namespace: options.namespace,
            retention_ms: options.retention.as_millis().max(1) as u64,
            scripts: Scripts::load(),
        }
    }

    fn seated_channel(&self) -> String {
        format!("{}:seated", self.namespace)
    }

    fn queue_key(&self, game: &str, mode: &str) -> String {
        format!("{}:queue:{game}:{mode}", self.namespace)
    }

    fn match_keys(&self, match_id: &str) -> [String; 2] {
        [format!("{}:match:{match_id}", self.namespace), format!("{}:assignment:{match_id}", self.namespace)]
    }

    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }
}

fn store_error(e: RedisError) -> MatchmakingError {
    MatchmakingError::Store { backend: "redis", message: e.to_string() }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("matchmaking types serialize to JSON")
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, MatchmakingError> {
    serde_json::from_str(json).map_err(|e| MatchmakingError::Corrupt(format!("{what}: {e}")))
}

/// A match and its assignment as stored side by side.
fn stored_match(match_json: &str, assignment_json: Option<&str>) -> Result<MatchResult, MatchmakingError> {
    let mut result: MatchResult = from_json("match", match_json)?;
    result.assignment = assignment_json.map(|json| from_json("room assignment", json)).transpose()?;
    Ok(result)
}

#[async_trait]
impl TicketStore for RedisTicketStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn create(&self, ticket: &Ticket, secret: &SecretHash, ttl: Duration) -> Result<(), MatchmakingError> {
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let reply: Vec<String> = self
            .scripts
            .create
            .arg(&self.namespace)
            .arg(&ticket.id)
            .arg(to_json(ticket))
            .arg(self.queue_key(&ticket.game, &ticket.mode))
            .arg(ttl_ms + self.retention_ms)
            .arg(ttl_ms)
            .arg(secret.to_hex())
            .arg(&ticket.party)
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        match reply.as_slice() {
            [ok] if ok == "ok" => Ok(()),
            [duplicate] if duplicate == "duplicate" => Err(MatchmakingError::DuplicateTicket(ticket.id.clone())),
            [queued, player] if queued == "player_queued" => {
                Err(MatchmakingError::PlayerAlreadyQueued { player: player.clone() })
            }
            other => Err(MatchmakingError::Corrupt(format!("unexpected create reply {other:?}"))),
        }
    }

    async fn get(&self, ticket_id: &str) -> Result<Option<TicketRecord>, MatchmakingError> {
        let reply: Vec<Option<String>> = self
            .scripts
            .get
            .arg(&self.namespace)
            .arg(ticket_id)
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        let (ticket_json, state, secret) = match reply.as_slice() {
            [] => return Ok(None),
            [Some(ticket), Some(state), secret, ..] => (ticket, state.as_str(), secret.as_deref()),
            other => return Err(MatchmakingError::Corrupt(format!("ticket {ticket_id}: reply {other:?}"))),
        };
        let secret = match secret {
            None => None,
            Some(hex) => Some(
                SecretHash::from_hex(hex)
                    .ok_or_else(|| MatchmakingError::Corrupt(format!("ticket {ticket_id}: secret hash {hex:?}")))?,
            ),
        };
        let status = match (state, reply.get(3).and_then(Option::as_deref)) {
            ("waiting", _) => TicketStatus::Waiting,
            ("expired", _) => TicketStatus::Expired,
            ("cancelled", _) => TicketStatus::Cancelled,
            ("failed", _) => TicketStatus::Failed,
            ("matched", Some(match_json)) => {
                TicketStatus::Matched(Box::new(stored_match(match_json, reply.get(4).and_then(Option::as_deref))?))
            }
            ("matched", None) => return Ok(None), // the match passed retention a moment earlier
            (other, _) => return Err(MatchmakingError::Corrupt(format!("ticket {ticket_id}: state {other:?}"))),
        };
        let view = TicketView { ticket: from_json("ticket", ticket_json)?, status };
        Ok(Some(TicketRecord { view, secret }))
    }

    async fn fail_match(&self, match_id: &str) -> Result<Vec<String>, MatchmakingError> {
        self.scripts
            .fail_match
            .arg(&self.namespace)
            .arg(match_id)
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)
    }

    async fn cancel(&self, ticket_id: &str) -> Result<(), MatchmakingError> {
        let reply: String = self
            .scripts
            .cancel
            .arg(&self.namespace)
            .arg(ticket_id)
            .arg(self.retention_ms)
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        match reply.as_str() {
            "ok" => Ok(()),
            "not_found" => Err(MatchmakingError::TicketNotFound(ticket_id.into())),
            state => Err(MatchmakingError::NotWaiting { ticket_id: ticket_id.into(), state: state.into() }),
        }
    }

    async fn waiting(&self, game: &str, mode: &str) -> Result<Vec<Ticket>, MatchmakingError> {
        let values: Vec<String> = ::redis::cmd("HVALS")
            .arg(self.queue_key(game, mode))
            .query_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        values.iter().map(|json| from_json("queued ticket", json)).collect()
    }

    async fn commit_matches(&self, matches: Vec<MatchResult>) -> Result<Vec<MatchResult>, MatchmakingError> {
        let mut committed = Vec::with_capacity(matches.len());
        for chunk in matches.chunks(MATCHES_PER_COMMIT) {
            let mut invocation = self.scripts.commit.prepare_invoke();
            invocation.arg(&self.namespace).arg(self.retention_ms);
            for result in chunk {
                invocation.arg(&result.match_id).arg(to_json(result)).arg(result.tickets.len()).arg(&result.tickets);
            }
            let committed_ids: Vec<String> =
                invocation.invoke_async(&mut self.connection()).await.map_err(store_error)?;
            // The script answers in the order of the chunk.
            let mut ids = committed_ids.into_iter().peekable();
            for result in chunk {
                if ids.peek() == Some(&result.match_id) {
                    ids.next();
                    committed.push(result.clone());
                }
            }
        }
        Ok(committed)
    }

    async fn expire(&self, game: &str, mode: &str, ticket_ids: &[String]) -> Result<Vec<String>, MatchmakingError> {
        self.scripts
            .expire
            .arg(&self.namespace)
            .arg(self.retention_ms)
            .arg(self.queue_key(game, mode))
            .arg(ticket_ids)
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)
    }

    async fn assign(&self, match_id: &str, assignment: &RoomAssignment) -> Result<MatchResult, MatchmakingError> {
        let assignment_json = to_json(assignment);
        let match_json: Option<String> = self
            .scripts
            .assign
            .arg(&self.namespace)
            .arg(match_id)
            .arg(&assignment_json)
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        let match_json = match_json.ok_or_else(|| MatchmakingError::MatchNotFound(match_id.into()))?;
        stored_match(&match_json, Some(&assignment_json))
    }

    async fn get_match(&self, match_id: &str) -> Result<Option<MatchResult>, MatchmakingError> {
        let [match_json, assignment_json]: [Option<String>; 2] = {
            let found: Vec<Option<String>> = ::redis::cmd("MGET")
                .arg(&self.match_keys(match_id))
                .query_async(&mut self.connection())
                .await
                .map_err(store_error)?;
            found.try_into().map_err(|_| MatchmakingError::Corrupt("MGET of two keys answered otherwise".into()))?
        };
        match_json.map(|json| stored_match(&json, assignment_json.as_deref())).transpose()
    }

    async fn lease_rounds(
        &self,
        game: &str,
        mode: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, MatchmakingError> {
        let held: u32 = self
            .scripts
            .lease
            .key(format!("{}:lease:{game}:{mode}", self.namespace))
            .arg(holder)
            .arg(ttl.as_millis().max(1) as u64)
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        Ok(held == 1)
    }

    async fn claim_unassigned(&self, age: Duration, most: usize) -> Result<Vec<MatchResult>, MatchmakingError> {
        let claimed: Vec<String> = self
            .scripts
            .claim_unassigned
            .arg(&self.namespace)
            .arg(age.as_millis() as u64)
            .arg(most)
            .invoke_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        claimed.iter().map(|json| from_json("match", json)).collect()
    }

    async fn announce_seated(&self, ticket_ids: &[String]) -> Result<(), MatchmakingError> {
        let _receivers: u64 = ::redis::cmd("PUBLISH")
            .arg(self.seated_channel())
            .arg(to_json(&ticket_ids))
            .query_async(&mut self.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn seated_announcements(&self) -> Result<SeatedAnnouncements, MatchmakingError> {
        let client = self.client.as_ref().ok_or_else(|| MatchmakingError::Store {
            backend: "redis",
            message: "a store over a shared connection cannot subscribe".into(),
        })?;
        let mut pubsub = client.get_async_pubsub().await.map_err(store_error)?;
        pubsub.subscribe(self.seated_channel()).await.map_err(store_error)?;
        let batches = pubsub.into_on_message().filter_map(|message| async move {
            let payload: String = message.get_payload().ok()?;
            serde_json::from_str::<Vec<String>>(&payload).ok()
        });
        Ok(Box::pin(batches))
    }
}
