//! PostgreSQL archive (feature `postgres`), via sqlx.
//!
//! Schema: `host/crates/archive/migrations/` (applied with `sqlx::migrate!` on first use):
//! `completed_games` (one row per game, with the full compressed record in
//! `record`) and `game_events` (one row per plugin event). A batch is one
//! transaction of two statements whose rows come from `UNNEST` over array
//! parameters; `ON CONFLICT (game_id) DO NOTHING ... RETURNING game_id`
//! plus "events only for the games this batch inserted" make re-archiving
//! harmless, also with several hosts archiving at once.
//!
//! The pool connects lazily, so the host starts while PostgreSQL is down;
//! migrations run on the first operation that reaches it.
//!
//! Pool size and timeouts come from `[archive.postgres]`
//! ([`PgPoolSettings`]). Every operation takes its connection through
//! [`PgSink::acquire`], which measures the wait (`archive_pg_pool_waiting`,
//! `archive_pg_pool_acquire_seconds`) and turns a wait past
//! `acquire_timeout_ms` into a clear [`ArchiveError::Backend`] (counted in
//! `archive_pg_pool_acquire_timeouts_total`); open and idle connections are
//! read from the pool at each `/metrics` render.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Acquire, Postgres, Row};
use tokio::sync::OnceCell;

use super::listing::{GameSummary, ListFilter, Page, PageRequest};
use super::record::{GameRecord, PluginRef, check_erasure_ids, compress_all};
use super::settings::PgPoolSettings;
use super::{ArchiveError, ArchiveSink, new_game_indices, storage_forms, validate_batch};
use arcade_telemetry::metrics::{Metrics, PgPoolMetrics};

/// The host's migrations (`host/crates/archive/migrations/`).
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// SQL converting a unix-ms BIGINT column to TIMESTAMPTZ exactly. Inline
/// rather than the migration's `arcade_unix_ms_to_timestamptz`, which
/// PostgreSQL does not inline: per-row function calls cost ~25% of an insert.
macro_rules! unix_ms_to_timestamptz {
    ($column:literal) => {
        concat!("(TIMESTAMPTZ 'epoch' + ", $column, " * INTERVAL '1 millisecond')")
    };
}

const INSERT_GAMES: &str = concat!(
    "
INSERT INTO completed_games (game_id, room_id, plugin_name, plugin_version, plugin_hash, config, players, seed,
                             started_at, completed_at, duration_ms, winners, final_scores, status, record)
SELECT g.game_id, g.room_id, g.plugin_name, g.plugin_version, g.plugin_hash, g.config::jsonb,
       arcade_json_text_array(g.players::jsonb), g.seed,
       ",
    unix_ms_to_timestamptz!("g.started_ms"),
    ", ",
    unix_ms_to_timestamptz!("g.completed_ms"),
    ",
       g.completed_ms - g.started_ms, arcade_json_text_array(g.winners::jsonb),
       g.final_scores::jsonb, g.status, g.record
FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::bytea[])
     AS g(game_id, room_id, plugin_name, plugin_version, plugin_hash, config, players, seed,
          started_ms, completed_ms, winners, final_scores, status, record)
ON CONFLICT (game_id) DO NOTHING
RETURNING game_id"
);

/// Only for games the same transaction inserted, whose events cannot exist
/// yet (and whose seqs `GameRecord::validate` checked are unique): no
/// conflict handling needed.
const INSERT_EVENTS: &str = concat!(
    "
INSERT INTO game_events (game_id, seq, type, data, at)
SELECT e.game_id, e.seq, e.type, e.data::jsonb, ",
    unix_ms_to_timestamptz!("e.at_ms"),
    "
FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) AS e(game_id, seq, type, data, at_ms)"
);

const SELECT_RECORD: &str = "SELECT record FROM completed_games WHERE game_id = $1";

/// The records of the games a player played, locked for their rewrite.
const SELECT_PLAYED: &str = "SELECT record FROM completed_games WHERE players @> ARRAY[$1::text] FOR UPDATE";

const LIST_GAMES: &str = "
SELECT game_id, room_id, plugin_name, plugin_version, plugin_hash, players, winners, status,
       arcade_timestamptz_to_unix_ms(started_at) AS started_at_ms,
       arcade_timestamptz_to_unix_ms(completed_at) AS completed_at_ms
FROM completed_games
WHERE ($1::text IS NULL OR plugin_name = $1)
  AND ($2::text IS NULL OR players @> ARRAY[$2::text])
  AND ($3::bigint IS NULL OR (completed_at, game_id) < (arcade_unix_ms_to_timestamptz($3), $4::text))
ORDER BY completed_at DESC, game_id DESC
LIMIT $5";

/// Retention: one batch of the games completed before `$1` (unix ms),
/// oldest first, at most `$2`; their `game_events` rows go with them (`ON
/// DELETE CASCADE`, found through the events' primary key). `SKIP LOCKED`:
/// nodes running retention at once each take other rows instead of waiting.
const DELETE_EXPIRED: &str = concat!(
    "
DELETE FROM completed_games
WHERE game_id IN (SELECT game_id FROM completed_games
                  WHERE completed_at < ",
    unix_ms_to_timestamptz!("$1::bigint"),
    "
                  ORDER BY completed_at
                  LIMIT $2
                  FOR UPDATE SKIP LOCKED)"
);

pub struct PgSink {
    pool: PgPool,
    schema: OnceCell<()>,
    settings: PgPoolSettings,
    metrics: PgPoolMetrics,
}

fn pg_error(context: &str) -> impl FnOnce(sqlx::Error) -> ArchiveError + '_ {
    move |e| ArchiveError::Backend { backend: "postgres", message: format!("{context}: {e}") }
}

fn to_i64(value: u64, what: &str) -> Result<i64, ArchiveError> {
    i64::try_from(value)
        .map_err(|_| ArchiveError::InvalidRecord(format!("{what} {value} does not fit PostgreSQL BIGINT")))
}

impl PgSink {
    /// [`PgSink::connect_with`] the default pool settings, without metrics.
    pub async fn connect(url: &str) -> Result<PgSink, ArchiveError> {
        PgSink::connect_with(url, &PgPoolSettings::default(), None).await
    }

    /// Creates the pool (lazily connected) and tries the migrations once;
    /// if PostgreSQL is unreachable now they run on first use. With
    /// `metrics`, the pool's gauges are those of the server's `/metrics`.
    pub async fn connect_with(
        url: &str,
        settings: &PgPoolSettings,
        metrics: Option<&Metrics>,
    ) -> Result<PgSink, ArchiveError> {
        if settings.max_connections == 0 || settings.min_connections > settings.max_connections {
            return Err(ArchiveError::Config(format!(
                "archive.postgres: max_connections must be at least 1 and at least min_connections (got {} and {})",
                settings.max_connections, settings.min_connections
            )));
        }
        if settings.acquire_timeout_ms == 0 {
            return Err(ArchiveError::Config("archive.postgres.acquire_timeout_ms must be at least 1".into()));
        }
        let never_if_zero = |ms: u64| (ms > 0).then(|| Duration::from_millis(ms));
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(settings.min_connections)
            .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
            .idle_timeout(never_if_zero(settings.idle_timeout_ms))
            .max_lifetime(never_if_zero(settings.max_lifetime_ms))
            .connect_lazy(url)
            .map_err(|e| ArchiveError::Config(format!("PostgreSQL archive URL: {e}")))?;
        let pool_metrics = metrics.map_or_else(PgPoolMetrics::default, |m| m.pg_pool.clone());
        pool_metrics.max_connections.set(i64::from(settings.max_connections));
        if let Some(metrics) = metrics {
            let (pool, gauges) = (pool.clone(), pool_metrics.clone());
            metrics.refresh_on_render(move || {
                let (open, idle) = (pool.size() as i64, pool.num_idle() as i64);
                gauges.idle.set(idle);
                gauges.in_use.set((open - idle).max(0));
            });
        }
        let sink = PgSink { pool, schema: OnceCell::new(), settings: settings.clone(), metrics: pool_metrics };
        if let Err(e) = sink.ensure_schema().await {
            tracing::warn!(error = %e, "PostgreSQL archive not ready; migrations will be retried on first use");
        }
        Ok(sink)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool's gauges and timings (the server's, or this sink's own).
    pub fn pool_metrics(&self) -> &PgPoolMetrics {
        &self.metrics
    }

    /// A connection from the pool, the wait measured: at most
    /// `acquire_timeout_ms`, then an error that says so (and
    /// `archive_pg_pool_acquire_timeouts_total` counts it).
    pub async fn acquire(&self) -> Result<PoolConnection<Postgres>, ArchiveError> {
        /// Counts the caller as waiting until it has a connection, an error
        /// or is cancelled.
        struct Waiting<'a>(&'a PgPoolMetrics, std::time::Instant);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.waiting.dec();
                self.0.acquire_seconds.observe(self.1.elapsed().as_secs_f64());
            }
        }
        self.metrics.waiting.inc();
        let waiting = Waiting(&self.metrics, std::time::Instant::now());
        let acquired = self.pool.acquire().await;
        drop(waiting);
        acquired.map_err(|e| match e {
            sqlx::Error::PoolTimedOut => {
                self.metrics.acquire_timeouts.inc();
                ArchiveError::Backend {
                    backend: "postgres",
                    message: format!(
                        "no connection within archive.postgres.acquire_timeout_ms = {} ms: all {} \
                         (archive.postgres.max_connections) busy, or the server unreachable",
                        self.settings.acquire_timeout_ms, self.settings.max_connections
                    ),
                }
            }
            e => pg_error("connecting")(e),
        })
    }

    /// Applies pending migrations (once per sink, retried until it works).
    pub async fn ensure_schema(&self) -> Result<(), ArchiveError> {
        self.schema
            .get_or_try_init(|| async {
                let mut conn = self.acquire().await?;
                // `run_direct` on a connection is sqlx's way around "Acquire is
                // not general enough" in a `Send` future (`run` takes a pool).
                MIGRATOR
                    .run_direct(None, &mut *conn, false)
                    .await
                    .map_err(|e| ArchiveError::Backend { backend: "postgres", message: format!("migrations: {e}") })
            })
            .await
            .map(drop)
    }
}

/// The `completed_games` rows of a batch, one array per column.
#[derive(Default)]
struct GameColumns {
    game_id: Vec<String>,
    room_id: Vec<String>,
    plugin_name: Vec<String>,
    plugin_version: Vec<String>,
    plugin_hash: Vec<String>,
    config: Vec<String>,
    players: Vec<String>,
    seed: Vec<String>,
    started_ms: Vec<i64>,
    completed_ms: Vec<i64>,
    winners: Vec<String>,
    final_scores: Vec<Option<String>>,
    status: Vec<String>,
    record: Vec<Vec<u8>>,
}

impl GameColumns {
    /// The columns of `records`, compressed here.
    fn of(records: &[GameRecord]) -> Result<GameColumns, ArchiveError> {
        GameColumns::with_forms(records, compress_all(records)?)
    }

    /// The columns of `records`, whose storage forms are `compressed`.
    fn with_forms(records: &[GameRecord], compressed: Vec<Vec<u8>>) -> Result<GameColumns, ArchiveError> {
        let mut columns = GameColumns { record: compressed, ..GameColumns::default() };
        for record in records {
            columns.game_id.push(record.game_id.clone());
            columns.room_id.push(record.room_id.clone());
            columns.plugin_name.push(record.plugin.name.clone());
            columns.plugin_version.push(record.plugin.version.clone());
            columns.plugin_hash.push(record.plugin.hash.clone());
            columns.config.push(record.config.clone());
            columns.players.push(json(&record.players));
            columns.seed.push(record.seed.to_text());
            columns.started_ms.push(to_i64(record.started_at_ms, "started_at_ms")?);
            columns.completed_ms.push(to_i64(record.completed_at_ms, "completed_at_ms")?);
            columns.winners.push(json(record.winners()));
            columns.final_scores.push(record.scores().map(json));
            columns.status.push(record.outcome().to_string());
        }
        Ok(columns)
    }
}

/// JSON text of the plain string lists and score maps passed as parameters.
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("string lists and score maps serialize")
}

/// The `game_events` rows of the games a batch inserted.
#[derive(Default)]
struct EventColumns {
    game_id: Vec<String>,
    seq: Vec<i64>,
    kind: Vec<String>,
    data: Vec<String>,
    at_ms: Vec<i64>,
}

impl EventColumns {
    fn of<'a>(records: impl IntoIterator<Item = &'a GameRecord>) -> Result<EventColumns, ArchiveError> {
        let mut columns = EventColumns::default();
        for record in records {
            for event in &record.events {
                columns.game_id.push(record.game_id.clone());
                columns.seq.push(to_i64(event.seq, "event seq")?);
                columns.kind.push(event.kind.clone());
                columns.data.push(event.data.clone());
                columns.at_ms.push(to_i64(event.at_ms, "event at_ms")?);
            }
        }
        Ok(columns)
    }
}

fn summary_of(row: &PgRow) -> Result<GameSummary, sqlx::Error> {
    let ms = |column: &str| row.try_get::<i64, _>(column).map(|v| v.max(0) as u64);
    Ok(GameSummary {
        game_id: row.try_get("game_id")?,
        room_id: row.try_get("room_id")?,
        plugin: PluginRef {
            name: row.try_get("plugin_name")?,
            version: row.try_get("plugin_version")?,
            hash: row.try_get("plugin_hash")?,
        },
        players: row.try_get("players")?,
        winners: row.try_get("winners")?,
        outcome: row.try_get("status")?,
        started_at_ms: ms("started_at_ms")?,
        completed_at_ms: ms("completed_at_ms")?,
    })
}

/// Inserts `fresh` (already checked; `games` their columns) and the events
/// of the games that were not there yet, in `tx`.
async fn insert_games(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    fresh: &[GameRecord],
    games: GameColumns,
) -> Result<(), ArchiveError> {
    let inserted: HashSet<String> = sqlx::query_scalar(INSERT_GAMES)
        .bind(games.game_id)
        .bind(games.room_id)
        .bind(games.plugin_name)
        .bind(games.plugin_version)
        .bind(games.plugin_hash)
        .bind(games.config)
        .bind(games.players)
        .bind(games.seed)
        .bind(games.started_ms)
        .bind(games.completed_ms)
        .bind(games.winners)
        .bind(games.final_scores)
        .bind(games.status)
        .bind(games.record)
        .fetch_all(&mut **tx)
        .await
        .map_err(pg_error("inserting games"))?
        .into_iter()
        .collect();
    let events = EventColumns::of(fresh.iter().filter(|r| inserted.contains(&r.game_id)))?;
    if !events.game_id.is_empty() {
        sqlx::query(INSERT_EVENTS)
            .bind(events.game_id)
            .bind(events.seq)
            .bind(events.kind)
            .bind(events.data)
            .bind(events.at_ms)
            .execute(&mut **tx)
            .await
            .map_err(pg_error("inserting events"))?;
    }
    Ok(())
}

impl PgSink {
    async fn write(&self, records: &[GameRecord], compressed: Option<&[Vec<u8>]>) -> Result<(), ArchiveError> {
        validate_batch(records)?;
        let fresh = new_game_indices(records, |_| false);
        if fresh.is_empty() {
            return Ok(());
        }
        self.ensure_schema().await?;
        let forms = compressed.map(|_| storage_forms(records, &fresh, compressed)).transpose()?;
        let fresh: Vec<GameRecord> = fresh.iter().map(|&i| records[i].clone()).collect();
        let (fresh, games) = match forms {
            Some(forms) => {
                let games = GameColumns::with_forms(&fresh, forms)?;
                (fresh, games)
            }
            // Compressing is the CPU-heavy part: keep it off the async threads.
            None => tokio::task::spawn_blocking(move || GameColumns::of(&fresh).map(|games| (fresh, games)))
                .await
                .map_err(ArchiveError::from_join)??,
        };

        let mut conn = self.acquire().await?;
        let mut tx = conn.begin().await.map_err(pg_error("begin"))?;
        insert_games(&mut tx, &fresh, games).await?;
        tx.commit().await.map_err(pg_error("commit"))
    }
}

#[async_trait]
impl ArchiveSink for PgSink {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn write_batch(&self, records: &[GameRecord]) -> Result<(), ArchiveError> {
        self.write(records, None).await
    }

    async fn write_compressed_batch(&self, records: &[GameRecord], compressed: &[Vec<u8>]) -> Result<(), ArchiveError> {
        self.write(records, Some(compressed)).await
    }

    async fn pseudonymise(&self, player: &str, pseudonym: &str) -> Result<u64, ArchiveError> {
        check_erasure_ids(player, pseudonym)?;
        self.ensure_schema().await?;
        let mut conn = self.acquire().await?;
        let mut tx = conn.begin().await.map_err(pg_error("begin"))?;
        let stored: Vec<Vec<u8>> = sqlx::query_scalar(SELECT_PLAYED)
            .bind(player)
            .fetch_all(&mut *tx)
            .await
            .map_err(pg_error("reading a player's games"))?;
        if stored.is_empty() {
            return Ok(0);
        }
        let (player, pseudonym) = (player.to_string(), pseudonym.to_string());
        let (renamed, games) = tokio::task::spawn_blocking(move || {
            let mut renamed = Vec::with_capacity(stored.len());
            for bytes in &stored {
                renamed.extend(GameRecord::from_compressed(bytes)?.pseudonymised(&player, &pseudonym)?);
            }
            GameColumns::of(&renamed).map(|games| (renamed, games))
        })
        .await
        .map_err(ArchiveError::from_join)??;
        // Rewritten whole (the events go with their game): every column
        // derived from the record is derived again.
        let ids: Vec<String> = renamed.iter().map(|r| r.game_id.clone()).collect();
        sqlx::query("DELETE FROM completed_games WHERE game_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .map_err(pg_error("removing a player's games"))?;
        insert_games(&mut tx, &renamed, games).await?;
        tx.commit().await.map_err(pg_error("commit"))?;
        Ok(renamed.len() as u64)
    }

    async fn get(&self, game_id: &str) -> Result<Option<GameRecord>, ArchiveError> {
        self.ensure_schema().await?;
        let mut conn = self.acquire().await?;
        let bytes: Option<Vec<u8>> = sqlx::query_scalar(SELECT_RECORD)
            .bind(game_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(pg_error("reading a game"))?;
        bytes.map(|b| GameRecord::from_compressed(&b)).transpose()
    }

    async fn list(&self, filter: &ListFilter, page: &PageRequest) -> Result<Page, ArchiveError> {
        self.ensure_schema().await?;
        let limit = page.effective_limit();
        let cursor = page.cursor()?;
        let cursor_ms = cursor.as_ref().map(|c| to_i64(c.completed_at_ms, "cursor")).transpose()?;
        let mut conn = self.acquire().await?;
        let rows = sqlx::query(LIST_GAMES)
            .bind(filter.plugin.as_deref())
            .bind(filter.player.as_deref())
            .bind(cursor_ms)
            .bind(cursor.as_ref().map(|c| c.game_id.as_str()))
            .bind((limit + 1) as i64)
            .fetch_all(&mut *conn)
            .await
            .map_err(pg_error("listing games"))?;
        let games = rows.iter().map(summary_of).collect::<Result<Vec<_>, _>>().map_err(pg_error("decoding a game"))?;
        Ok(Page::from_overfetched(games, limit))
    }

    /// Deletes in batches of `batch` games (each its own statement and
    /// transaction, a connection taken per batch), until a batch comes back
    /// short.
    async fn expire(&self, cutoff_ms: u64, batch: usize) -> Result<Option<u64>, ArchiveError> {
        self.ensure_schema().await?;
        let cutoff = to_i64(cutoff_ms, "retention cutoff")?;
        let batch = batch.clamp(1, i64::MAX as usize);
        let mut deleted = 0;
        loop {
            let mut conn = self.acquire().await?;
            let rows = sqlx::query(DELETE_EXPIRED)
                .bind(cutoff)
                .bind(batch as i64)
                .execute(&mut *conn)
                .await
                .map_err(pg_error("deleting expired games"))?
                .rows_affected();
            deleted += rows;
            if rows < batch as u64 {
                return Ok(Some(deleted));
            }
        }
    }
}
