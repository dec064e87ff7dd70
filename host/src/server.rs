//! `arcade serve`: build the runtime, registry and API from a [`Config`],
//! bind, and serve until SIGINT/SIGTERM.

use std::sync::Arc;

use anyhow::Context;

use crate::api::{self, App};
use crate::config::{Config, DEV_ADMIN_TOKEN};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::sandbox::Runtime;

/// Build the runtime, open the registry (publishing `preload_dir`) and the
/// API state. Blocking: compiles plugins that are not in the cache.
pub fn build_app(config: Config) -> anyhow::Result<Arc<App>> {
    let runtime = Arc::new(Runtime::new(config.sandbox_limits()).map_err(|e| anyhow::anyhow!("{e:#}"))?);
    let registry = Registry::open(runtime, Some(&config.data_dir))
        .with_context(|| format!("opening the data dir {}", config.data_dir.display()))?;
    if let Some(dir) = &config.preload_dir {
        registry.publish_dir(dir).with_context(|| format!("loading plugins from {}", dir.display()))?;
    }
    if config.admin_token == DEV_ADMIN_TOKEN {
        tracing::warn!("using the built-in development admin token; set ARCADE_ADMIN_TOKEN in production");
    }
    Ok(App::new(config, Arc::new(registry), Arc::new(Metrics::default())))
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = tokio::task::spawn_blocking(move || build_app(config)).await??;
    let listen = app.config.listen;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let plugins = app.registry.list();
    tracing::info!(%addr, plugins = plugins.len(), "arcade listening");
    // Tests and scripts read this line to learn the port.
    println!("arcade listening on http://{addr}");
    for p in &plugins {
        println!("  plugin {}@{} ({})", p.name, p.version, &p.hash[..12]);
    }
    axum::serve(listener, api::router(app)).with_graceful_shutdown(shutdown_signal()).await?;
    tracing::info!("arcade stopped");
    Ok(())
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
