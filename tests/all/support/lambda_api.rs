//! A local Lambda Runtime API (the HTTP interface a `provided.al2023`
//! function's `bootstrap` polls), for driving real compiled handlers:
//!
//! - `GET  /2018-06-01/runtime/invocation/next` long-polls the queue of
//!   invocations and answers one event with the `Lambda-Runtime-*` headers;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../error`
//!   deliver the outcome to whoever queued the invocation (202);
//! - `POST /2018-06-01/runtime/init/error` is recorded (202).
//!
//! [`RuntimeApi::spawn`] starts a handler binary with only the environment
//! Lambda gives a function plus the variables the test passes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";
/// Longest a test waits for one invocation's outcome.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// The deadline the function is given for each invocation.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// What the function posted for one invocation.
#[derive(Debug)]
pub enum Answer {
    /// `/response`: the function's result.
    Response(Value),
    /// `/error`: `{"errorType": ..., "errorMessage": ...}`.
    Error { error_type: String, message: String },
}

#[derive(Debug)]
pub struct Outcome {
    pub answer: Answer,
    /// When the post reached the API.
    pub at: Instant,
}

impl Outcome {
    /// The response body; panics on an error answer.
    pub fn response(&self) -> &Value {
        match &self.answer {
            Answer::Response(body) => body,
            Answer::Error { error_type, message } => panic!("expected a response, got error {error_type}: {message}"),
        }
    }

    /// `(errorType, errorMessage)`; panics on a response.
    pub fn error(&self) -> (&str, &str) {
        match &self.answer {
            Answer::Error { error_type, message } => (error_type, message),
            Answer::Response(body) => panic!("expected an error, got response {body}"),
        }
    }
}

struct Invocation {
    request_id: String,
    event: Vec<u8>,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// When `/next` was first requested.
    first_poll: Mutex<Option<Instant>>,
    init_errors: Mutex<Vec<String>>,
}

/// The API server; stops when dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    sender: mpsc::UnboundedSender<Invocation>,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

/// An invocation queued but maybe not answered yet.
pub struct Queued(oneshot::Receiver<Outcome>);

impl Queued {
    pub async fn outcome(self) -> Outcome {
        match tokio::time::timeout(INVOKE_TIMEOUT, self.0).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => panic!("the runtime API stopped before the invocation was answered"),
            Err(_) => panic!("no answer to the invocation within {INVOKE_TIMEOUT:?}"),
        }
    }
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binding the runtime API");
        let address = listener.local_addr().expect("runtime API address");
        let (sender, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::default(),
            first_poll: Mutex::default(),
            init_errors: Mutex::default(),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));
        RuntimeApi { address, sender, shared, server }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues an event for the next `/next` poll.
    pub fn queue(&self, event: &Value) -> Queued {
        self.queue_raw(serde_json::to_vec(event).expect("events serialize"))
    }

    /// Queues a payload as it is (it need not be JSON).
    pub fn queue_raw(&self, event: Vec<u8>) -> Queued {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let request_id = format!("req-{}-{}", std::process::id(), NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let (tell, told) = oneshot::channel();
        self.shared.waiting.lock().unwrap().insert(request_id.clone(), tell);
        self.sender.send(Invocation { request_id, event }).expect("the runtime API is running");
        Queued(told)
    }

    /// Queues an event and waits for its outcome.
    pub async fn invoke(&self, event: &Value) -> Outcome {
        self.queue(event).outcome().await
    }

    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    pub fn init_errors(&self) -> Vec<String> {
        self.shared.init_errors.lock().unwrap().clone()
    }

    /// Starts `binary` as a Lambda function served by this API: a clean
    /// environment with the `AWS_LAMBDA_*` variables, plus `env`.
    pub fn spawn(&self, binary: &Path, env: &[(&str, String)]) -> Function {
        assert!(binary.is_file(), "no handler binary at {}", binary.display());
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", binary.file_stem().unwrap_or_default())
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let mut stderr = child.stderr.take().expect("piped stderr");
        let logs = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        Function { child, started, logs }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A running handler process; killed when dropped.
pub struct Function {
    child: Child,
    /// Just before the process was spawned.
    pub started: Instant,
    logs: tokio::task::JoinHandle<String>,
}

impl Function {
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills the process and returns what it wrote to stderr.
    pub async fn stop(mut self) -> String {
        let _ = self.child.kill().await;
        (&mut self.logs).await.unwrap_or_default()
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| route(shared.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn route(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().strip_prefix(PREFIX).unwrap_or_default().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = request.method().clone();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Ok(match (method, segments.as_slice()) {
        (Method::GET, ["invocation", "next"]) => next_invocation(&shared).await,
        (Method::POST, ["invocation", request_id, kind @ ("response" | "error")]) => {
            let outcome = Outcome { answer: answer(kind, &body), at: Instant::now() };
            match shared.waiting.lock().unwrap().remove(*request_id) {
                Some(tell) => {
                    let _ = tell.send(outcome);
                    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
                }
                None => reply(StatusCode::BAD_REQUEST, r#"{"errorType":"InvalidRequestID"}"#),
            }
        }
        (Method::POST, ["init", "error"]) => {
            shared.init_errors.lock().unwrap().push(String::from_utf8_lossy(&body).into_owned());
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        _ => reply(StatusCode::NOT_FOUND, r#"{"errorType":"NotFound"}"#),
    })
}

async fn next_invocation(shared: &Shared) -> Response<Full<Bytes>> {
    shared.first_poll.lock().unwrap().get_or_insert_with(Instant::now);
    let Some(invocation) = shared.queue.lock().await.recv().await else {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, r#"{"errorType":"ShuttingDown"}"#);
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + FUNCTION_TIMEOUT;
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &invocation.request_id)
        .header("lambda-runtime-deadline-ms", deadline.as_millis().to_string())
        .header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:000000000000:function:test")
        .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
        .body(Full::new(Bytes::from(invocation.event)))
        .expect("a valid response")
}

fn answer(kind: &str, body: &[u8]) -> Answer {
    let json: Value =
        serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()));
    if kind == "response" {
        return Answer::Response(json);
    }
    let field = |name: &str| json.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    Answer::Error { error_type: field("errorType"), message: field("errorMessage") }
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("a valid response")
}

/// `median X ms (min Y)` of cold-start times, for benchmark output.
pub fn median_and_min(times: &mut [Duration]) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!("median {:.1} ms (min {:.1})", ms(times[times.len() / 2]), ms(times[0]))
}
