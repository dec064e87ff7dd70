//! `arcade serve`: build the runtime, registry and API from a [`Config`],
//! bind, and serve until SIGINT/SIGTERM: the public listener, and the admin
//! one when `admin_listen` is set (`connections` runs their accept loops).
//! A config that would let anyone reach the admin routes with a known
//! token is refused before anything starts.

mod connections;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::api::{self, App};
use crate::config::{Config, DEV_ADMIN_TOKEN};
use crate::node_agent::NodeAgent;
use crate::registry::Registry;
use crate::room::RoomServices;
use crate::sandbox::{SandboxEngine, SandboxLimits, SimLimits};
use crate::ticker::Ticker;
use arcade_archive::{Archiver, ArchiverConfig};
use arcade_journal::Journal;
use arcade_telemetry::metrics::{JournalCutLabel, Metrics};

/// The sandbox's limits from the configuration (the sandbox knows nothing
/// of the config file).
fn sandbox_limits(config: &Config) -> SandboxLimits {
    SandboxLimits {
        max_instances: config.limits.max_rooms,
        memory_bytes: config.limits.room_memory_bytes,
        max_memory_bytes: config.limits.max_room_memory_bytes,
        call_deadline: std::time::Duration::from_millis(config.limits.call_deadline_ms),
        sim: SimLimits {
            worlds: config.sim.max_worlds_per_room as usize,
            bodies: config.sim.max_bodies_per_world as usize,
        },
    }
}

/// Build everything `serve` runs: the sandbox runtime, the registry
/// (publishing `preload_dir`), the journal (rebuilding unfinished rooms),
/// the archive sink and archiver, and the API state.
pub async fn build_app(config: Config) -> anyhow::Result<Arc<App>> {
    let metrics = Arc::new(Metrics::default());
    let runtime = Arc::new(SandboxEngine::new(sandbox_limits(&config)).map_err(|e| anyhow::anyhow!("{e:#}"))?);
    let registry = {
        let (runtime, data_dir, preload) = (runtime.clone(), config.data_dir.clone(), config.preload_dir.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<Registry> {
            let registry = Registry::open(runtime, Some(&data_dir))
                .with_context(|| format!("opening the data dir {}", data_dir.display()))?;
            if let Some(dir) = preload {
                registry.publish_dir(&dir).with_context(|| format!("loading plugins from {}", dir.display()))?;
            }
            Ok(registry)
        })
        .await??
    };
    let (journal, recovery) = if config.journal.enabled {
        let (dir, settings) = (config.data_dir.join("journal"), config.journal.clone());
        let (journal, recovery) = tokio::task::spawn_blocking(move || Journal::open(&dir, &settings))
            .await?
            .context("opening the journal")?;
        (Some(journal), recovery)
    } else {
        (None, Default::default())
    };
    let archive_url = if config.archive.url.is_empty() {
        config.data_dir.join("archive").display().to_string()
    } else {
        config.archive.url.clone()
    };
    let sink = arcade_archive::open_sink_with(&archive_url, &config.archive.postgres, &metrics)
        .await
        .with_context(|| format!("opening the archive {archive_url}"))?;
    let archiver_config = ArchiverConfig {
        batch_size: config.archive.batch_size,
        flush_interval: Duration::from_millis(config.archive.flush_interval_ms),
        spool_limit_bytes: config.archive.spool_limit_bytes,
        ..ArchiverConfig::new(config.data_dir.join("archive-spool"))
    };
    // The ladder is the archive's rated games: counted again at start, then
    // as the archiver stores each game.
    if let Some(problem) = config.ladder.score_boards.iter().find_map(|spec| spec.problem()) {
        bail!("ladder.score_boards: {problem}");
    }
    let ladder = Arc::new(std::sync::RwLock::new(arcade_ladder::Ladder::new(
        config.matchmaking.rating_systems.clone().into_iter().collect(),
        config.ladder.score_boards.clone(),
    )));
    spawn_ladder_rebuild(sink.clone(), ladder.clone());
    spawn_ladder_sync(&config, sink.clone(), ladder.clone());
    let sink: Arc<dyn arcade_archive::ArchiveSink> =
        Arc::new(arcade_ladder::feed::LadderSink::new(sink, ladder.clone()));
    let archiver = Arc::new(Archiver::start(sink.clone(), archiver_config, metrics.clone()).await?);
    if config.admin_token == DEV_ADMIN_TOKEN {
        tracing::warn!("using the built-in development admin token; set ARCADE_ADMIN_TOKEN in production");
    }
    let backend = config.sim.backend;
    let physics = tokio::task::spawn_blocking(move || arcade_sim::select_backend(backend)).await?;
    let ticker = Ticker::new(arcade_sim::Stepper::new(physics), metrics.clone());
    let services = Arc::new(RoomServices { runtime, metrics, journal, archiver: Some(archiver), ticker });
    let node_agent = NodeAgent::open(&config).await?;
    let identity = crate::accounts::open(&config).await?;
    crate::accounts::spawn_ban_refresh(identity.clone(), Duration::from_millis(config.auth.ban_refresh_ms));
    spawn_ladder_admin(identity.clone(), ladder.clone(), Duration::from_millis(config.auth.ban_refresh_ms));
    let app = App::new(config, Arc::new(registry), services, sink, node_agent, identity, ladder);
    let acknowledged = recovery.acknowledged_cuts;
    let torn = recovery.cuts.len() - acknowledged;
    for (entries, cuts) in [("acknowledged", acknowledged), ("unacknowledged", torn)] {
        app.metrics.journal_cuts.get_or_create(&JournalCutLabel { entries }).inc_by(cuts as u64);
    }
    if acknowledged > 0 {
        tracing::error!(cuts = acknowledged, "the journal lost acknowledged entries: games resume from before them");
    }
    let restored = app.rooms.restore(recovery.rooms, &app.registry).await;
    if restored > 0 || !recovery.cuts.is_empty() {
        tracing::info!(restored, entries = recovery.entries_read, cuts = recovery.cuts.len(), "journal recovered");
    }
    Ok(app)
}

/// Reads the whole archive into the ladder in the background (the server
/// serves meanwhile; `/health/ready` says `ladder: rebuilding` until done),
/// retrying while the archive is unreachable. Games the archiver stores
/// meanwhile count as they come: the fold does not depend on the order.
fn spawn_ladder_rebuild(
    archive: Arc<dyn arcade_archive::ArchiveSink>,
    ladder: Arc<std::sync::RwLock<arcade_ladder::Ladder>>,
) {
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        loop {
            match arcade_ladder::feed::rebuild(archive.as_ref(), &ladder).await {
                Ok(read) => {
                    ladder.write().unwrap_or_else(|poisoned| poisoned.into_inner()).mark_rebuilt();
                    tracing::info!(
                        games = read,
                        ms = started.elapsed().as_millis() as u64,
                        "ladder rebuilt from the archive"
                    );
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the archive for the ladder failed; retrying in 5 s");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    });
}

/// Keeps the ladder in step with a shared archive (PostgreSQL, S3), which
/// other nodes and the archiver Lambda write to too: every
/// `ladder.sync_interval_ms`, the games stored since are counted
/// (`arcade_ladder::feed::catch_up`), once the rebuild at start is done.
/// A filesystem archive is this node's alone: what it stores is counted as
/// it is stored.
fn spawn_ladder_sync(
    config: &Config,
    archive: Arc<dyn arcade_archive::ArchiveSink>,
    ladder: Arc<std::sync::RwLock<arcade_ladder::Ladder>>,
) {
    let settings = config.ladder.clone();
    if settings.sync_interval_ms == 0 || archive.backend() == "filesystem" {
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(settings.sync_interval_ms));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // The rebuild reads everything; a sync before it ends would
            // read the newest games a second time.
            if !ladder.read().unwrap_or_else(|poisoned| poisoned.into_inner()).is_rebuilt() {
                continue;
            }
            match arcade_ladder::feed::catch_up(archive.as_ref(), &ladder, settings.sync_window_ms).await {
                Ok(0) => {}
                Ok(read) => tracing::debug!(games = read, "ladder caught up with the archive"),
                Err(e) => tracing::warn!(error = %e, "reading the archive for the ladder failed; retrying"),
            }
        }
    });
}

/// Keeps banned accounts (and deleted ones: their deletion is a ban without
/// end) off the leaderboards, as the ban list every node reloads says, and
/// applies the admins' score board resets from the shared identity store.
///
/// A deletion on another node renamed the account in the archive and in
/// that node's ladder; here its id is renamed (to a pseudonym of this node:
/// the archive's is not shared) as soon as the ban list has the deletion, so
/// no other player's history shows the erased id. A restart's rebuild reads
/// the archive's pseudonym.
fn spawn_ladder_admin(
    identity: Arc<arcade_identity::Identity>,
    ladder: Arc<std::sync::RwLock<arcade_ladder::Ladder>>,
    every: Duration,
) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every.max(Duration::from_millis(100)));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut erased = std::collections::HashSet::<String>::new();
        loop {
            interval.tick().await;
            let banned = identity.bans().banned_at(arcade_protocol::clock::now_ms());
            let deleted: Vec<String> =
                identity.bans().deleted().into_iter().filter(|id| !erased.contains(id)).collect();
            let resets = match identity.board_resets().await {
                Ok(resets) => Some(crate::api::ladder::score_resets(resets)),
                Err(e) => {
                    tracing::warn!(error = %e, "reading the leaderboard resets failed; retrying");
                    None
                }
            };
            let mut ladder = ladder.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            ladder.set_hidden(banned);
            for account in deleted {
                ladder.rename(&account, &arcade_identity::new_pseudonym());
                erased.insert(account);
            }
            if let Some(resets) = resets {
                ladder.set_score_resets(&resets);
            }
        }
    });
}

/// Refuses an empty admin token or the manifests' placeholder, and the
/// built-in development token wherever the admin routes would be reachable
/// from another machine.
pub fn check_admin_token(config: &Config) -> anyhow::Result<()> {
    if config.admin_token.trim().is_empty() {
        bail!("the admin token is empty: set ARCADE_ADMIN_TOKEN to a long random secret (e.g. `openssl rand -hex 32`)");
    }
    if config.admin_token.contains("REPLACE-ME") {
        bail!("the admin token is still the manifests' placeholder: put a secret in arcade-secrets/admin-token");
    }
    let admin_addr: SocketAddr = config.admin_listen.unwrap_or(config.listen);
    if config.admin_token == DEV_ADMIN_TOKEN && !admin_addr.ip().is_loopback() {
        bail!(
            "refusing to serve the admin routes on {admin_addr} with the built-in development admin token \
             {DEV_ADMIN_TOKEN:?}, which anyone can read: set ARCADE_ADMIN_TOKEN to a secret (e.g. `openssl rand \
             -hex 32`), or listen on a loopback address"
        );
    }
    Ok(())
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    check_admin_token(&config)?;
    let retention = arcade_archive::retention::RetentionPolicy::from_settings(&config.archive)?;
    if let Some(open_files) = connections::raise_open_files_limit() {
        let wanted = config.limits.max_connections as u64 * if config.admin_listen.is_some() { 2 } else { 1 };
        if open_files < wanted + 256 {
            tracing::warn!(
                open_files,
                max_connections = config.limits.max_connections,
                "the open-files limit is below limits.max_connections (plus files and sockets the server needs): \
                 connections beyond it fail to be accepted; raise the hard limit (ulimit -Hn) or lower max_connections"
            );
        }
    }
    let app = build_app(config).await?;
    let listen = app.config.listen;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let admin_listener = match app.config.admin_listen {
        Some(admin) => {
            let listener = tokio::net::TcpListener::bind(admin)
                .await
                .with_context(|| format!("binding the admin address {admin}"))?;
            let admin_addr = listener.local_addr()?;
            tracing::info!(addr = %admin_addr, "admin routes listening");
            // Before the public line, which tests and scripts wait for.
            println!("arcade admin listening on http://{admin_addr}");
            Some(listener)
        }
        None => None,
    };
    let plugins = app.registry.list();
    tracing::info!(%addr, plugins = plugins.len(), "arcade listening");
    // Tests and scripts read this line to learn the port.
    println!("arcade listening on http://{addr}");
    let advertised = match app.config.cluster.advertise_url.trim() {
        "" => format!("http://{addr}"),
        url => url.trim_end_matches('/').to_string(),
    };
    NodeAgent::start(app.node_agent.clone(), app.clone(), app.metrics.clone(), advertised).await;
    arcade_archive::retention::spawn(app.archive.clone(), retention, app.metrics.clone());
    for p in &plugins {
        println!("  plugin {}@{} ({})", p.name, p.version, &p.hash[..12]);
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let limits = connections::ConnectionLimits::from_config(&app.config.limits);
    let metrics = app.metrics.clone();
    let public = api::router(app.clone());
    let mut serving =
        vec![tokio::spawn(connections::serve(listener, "public", public, limits, metrics.clone(), stop_rx.clone()))];
    if let Some(listener) = admin_listener {
        let admin = api::admin_router(app.clone());
        serving.push(tokio::spawn(connections::serve(listener, "admin", admin, limits, metrics, stop_rx)));
    }
    shutdown_signal().await;
    drain(&app).await;
    app.node_agent.leave().await;
    let _ = stop_tx.send(true);
    // Connections still open (idle sockets of finished rooms) get a moment to close.
    let _ = tokio::time::timeout(Duration::from_secs(5), futures_util::future::join_all(serving)).await;
    tracing::info!("arcade stopped");
    Ok(())
}

/// Stop taking rooms, let live games finish up to the deadline, flush the
/// archive. Games still running stay in the journal for the next start.
async fn drain(app: &App) {
    app.rooms.start_draining();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(app.config.limits.drain_deadline_secs);
    tracing::info!(deadline_secs = app.config.limits.drain_deadline_secs, "draining: no new rooms");
    loop {
        let unfinished = app.rooms.unfinished().await;
        if unfinished == 0 {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(unfinished, "drain deadline reached; unfinished games resume from the journal");
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    if let Some(archiver) = &app.services.archiver {
        match archiver.flush().await {
            Ok(report) => tracing::info!(delivered = report.delivered, waiting = report.waiting, "archive flushed"),
            Err(e) => tracing::error!(error = %e, "archive flush failed; games stay in the spool"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
