//! The accept loop of one listener, and what bounds the connections it
//! takes: a cap on open connections and one per peer address (one more is
//! answered 503 and closed), TCP_NODELAY, hyper's header-read timeout (a
//! request's headers must arrive within it of the connection opening or of
//! the previous response, which also closes idle keep-alive connections),
//! the peer address for handlers (`ConnectInfo<SocketAddr>`), the
//! open-connections gauge, graceful shutdown, and raising the soft limit on
//! open files at start.
//!
//! A connection is counted until its socket closes: an upgraded WebSocket
//! keeps the socket, and with it its place under the caps.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::config::Limits;
use arcade_telemetry::metrics::{ListenerLabel, Metrics, RefusalLabel};

/// Refusals answered at once (each holds its socket for a moment while the
/// answer drains); beyond, an over-cap connection is closed unanswered.
const MAX_REFUSALS_IN_FLIGHT: usize = 64;
/// How long a refused connection may take to read its 503.
const REFUSAL_LINGER: Duration = Duration::from_millis(500);
/// How long a closing connection may go on sending before it is dropped.
const LINGER: Duration = Duration::from_secs(2);
/// How much a closing connection may send before it is dropped.
const LINGER_BYTES: usize = 1 << 20;
/// Pause after a failed accept (e.g. no file handle left), so the loop does
/// not spin while handles are exhausted.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The bounds of one listener's connections (see `config::Limits`).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    /// 0: no per-address cap.
    pub max_per_ip: usize,
    pub header_read_timeout: Duration,
}

impl ConnectionLimits {
    pub fn from_config(limits: &Limits) -> Self {
        ConnectionLimits {
            max_connections: limits.max_connections.max(1),
            max_per_ip: limits.max_connections_per_ip,
            header_read_timeout: Duration::from_millis(limits.header_read_timeout_ms.max(1)),
        }
    }
}

/// Why a connection was refused; also its error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// The listener holds `max_connections`.
    ServerBusy,
    /// The peer address holds `max_connections_per_ip`.
    TooManyConnections,
}

impl Refusal {
    fn code(self) -> &'static str {
        match self {
            Refusal::ServerBusy => "server_busy",
            Refusal::TooManyConnections => "too_many_connections",
        }
    }

    fn message(self) -> &'static str {
        match self {
            Refusal::ServerBusy => "the server holds as many connections as it takes; retry later",
            Refusal::TooManyConnections => "too many open connections from your address; close some and retry",
        }
    }

    /// A complete HTTP/1.1 503 answer that closes the connection.
    fn response(self) -> String {
        let body = serde_json::json!({ "error": { "code": self.code(), "message": self.message() } }).to_string();
        format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             retry-after: 1\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }
}

/// Open connections of one listener, in all and by peer address.
struct Counts {
    limits: ConnectionLimits,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    metrics: Arc<Metrics>,
    listener: &'static str,
}

impl Counts {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refusal> {
        let mut open = self.open.lock().expect("connection counts poisoned");
        let (total, by_ip) = &mut *open;
        if *total >= self.limits.max_connections {
            return Err(Refusal::ServerBusy);
        }
        let from_ip = by_ip.entry(ip).or_insert(0);
        if self.limits.max_per_ip > 0 && *from_ip >= self.limits.max_per_ip {
            return Err(Refusal::TooManyConnections);
        }
        *from_ip += 1;
        *total += 1;
        self.metrics.tcp_connections_open.get_or_create(&ListenerLabel { listener: self.listener }).inc();
        Ok(Slot { counts: self.clone(), ip })
    }
}

/// One admitted connection's place under the caps, given back on drop.
struct Slot {
    counts: Arc<Counts>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().expect("connection counts poisoned");
        let (total, by_ip) = &mut *open;
        *total -= 1;
        if let Some(n) = by_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                by_ip.remove(&self.ip);
            }
        }
        self.counts.metrics.tcp_connections_open.get_or_create(&ListenerLabel { listener: self.counts.listener }).dec();
    }
}

/// A socket that holds its [`Slot`] for as long as it lives (through a
/// WebSocket upgrade too). Dropped, it closes lingering (see [`linger`]).
struct Counted {
    /// Both `Some` until dropped.
    stream: Option<TcpStream>,
    slot: Option<Slot>,
}

impl Counted {
    fn new(stream: TcpStream, slot: Slot) -> Self {
        Counted { stream: Some(stream), slot: Some(slot) }
    }

    fn io(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.stream.as_mut().expect("a live connection has its socket"))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let (Some(stream), Some(slot)) = (self.stream.take(), self.slot.take())
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(linger(stream, slot));
        }
    }
}

/// Closes a connection without resetting it: the write side first, then
/// what the client still sends is read and dropped until it closes too (at
/// most [`LINGER`], [`LINGER_BYTES`]). Closing with a request body unread
/// (an upload refused before its body, say) would otherwise send a reset
/// that can destroy the answer before the client reads it. The connection
/// keeps its place under the caps meanwhile.
async fn linger(mut stream: TcpStream, slot: Slot) {
    let _ = tokio::time::timeout(LINGER, async {
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 4096];
        let mut read = 0;
        while read < LINGER_BYTES {
            match tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => read += n,
            }
        }
    })
    .await;
    drop(slot);
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.io().poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(TcpStream::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io().poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` turns true (or its sender
/// goes), then lets the open requests finish (idle connections close at
/// once; WebSockets are their handlers' business).
pub async fn serve(
    listener: TcpListener,
    name: &'static str,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Every series exists from the start (alerts on a rate see zeros, not nothing).
    metrics.tcp_connections_open.get_or_create(&ListenerLabel { listener: name }).inc_by(0);
    for reason in [Refusal::ServerBusy, Refusal::TooManyConnections] {
        metrics
            .tcp_connections_refused
            .get_or_create(&RefusalLabel { listener: name, reason: reason.code() })
            .inc_by(0);
    }
    let counts = Arc::new(Counts { limits, open: Mutex::new((0, HashMap::new())), metrics, listener: name });
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                tracing::error!(listener = name, error = %e, "accepting a connection failed (out of file handles?)");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match counts.admit(peer.ip()) {
            Ok(slot) => {
                let stream = Counted::new(stream, slot);
                connections.spawn(connection(stream, peer, router.clone(), limits, shutdown.clone()));
            }
            Err(refusal) => {
                let label = RefusalLabel { listener: name, reason: refusal.code() };
                counts.metrics.tcp_connections_refused.get_or_create(&label).inc();
                tracing::debug!(listener = name, peer = %peer.ip(), reason = refusal.code(), "connection refused");
                if let Ok(permit) = refusals.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream, refusal).await;
                        drop(permit);
                    });
                }
            }
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// One HTTP/1.1 connection (upgrades included) until it closes or the
/// server shuts down.
async fn connection(
    stream: Counted,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = router.map_request(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).with_upgrades();
    tokio::pin!(connection);
    let finished = tokio::select! {
        result = connection.as_mut() => Some(result),
        _ = shutdown.wait_for(|stop| *stop) => None,
    };
    let result = match finished {
        Some(result) => result,
        None => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        // Header-read timeouts, resets, malformed requests: the client's doing.
        tracing::debug!(peer = %peer.ip(), error = %e, "connection ended with an error");
    }
}

/// Answers 503 with `refusal`'s code and closes, after letting the client
/// read the answer (closing with its request unread would reset the
/// connection before the answer arrives).
async fn refuse(mut stream: TcpStream, refusal: Refusal) {
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        stream.write_all(refusal.response().as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1024];
        while tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await? > 0 {}
        io::Result::Ok(())
    })
    .await;
}

/// Accept errors that concern one connection only (it was reset before it
/// was taken): accept the next at once.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Raises the soft limit on open files to the hard limit (each connection
/// is a file handle) and logs both; returns the soft limit now in force.
pub fn raise_open_files_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let before = getrlimit(Resource::Nofile);
    let mut now = before.current;
    if before.current != before.maximum {
        match setrlimit(Resource::Nofile, Rlimit { current: before.maximum, maximum: before.maximum }) {
            Ok(()) => now = before.maximum,
            Err(e) => tracing::warn!(error = %e, "could not raise the open-files limit"),
        }
    }
    let show = |limit: Option<u64>| limit.map_or("unlimited".to_string(), |n| n.to_string());
    tracing::info!(soft = %show(now), was = %show(before.current), hard = %show(before.maximum), "open-files limit");
    now
}
