//! RED metrics of the HTTP API: every answered request is counted and timed
//! by route template, method and status class (`http_requests_total`,
//! `http_request_duration_seconds`; see `metrics`).
//!
//! The layer is applied with `Router::layer`, so it wraps each route (and the
//! fallback) after routing: the request carries its [`MatchedPath`], whose
//! template (`/v1/rooms/{id}`) is the label, never the raw path; a path no
//! route serves is `unmatched`. Labels are shared or static strings: a
//! request allocates no label and formats nothing. The time runs from the
//! router to the response head (a WebSocket upgrade: to its `101`; a
//! streamed body is not waited for).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{Method, Request, StatusCode};
use axum::response::Response;
use tower::{Layer, Service};

use arcade_telemetry::metrics::{HttpLabels, Metrics, RouteLabel};

/// Counts and times the requests of the routes it wraps.
#[derive(Clone)]
pub struct RedLayer {
    metrics: Arc<Metrics>,
}

impl RedLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        RedLayer { metrics }
    }
}

impl<S> Layer<S> for RedLayer {
    type Service = Red<S>;

    fn layer(&self, inner: S) -> Red<S> {
        Red { inner, metrics: self.metrics.clone() }
    }
}

#[derive(Clone)]
pub struct Red<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B> Service<Request<B>> for Red<S>
where
    S: Service<Request<B>, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let route = RouteLabel::new(request.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
        let method = method_label(request.method());
        let started = Instant::now();
        Observed { inner: self.inner.call(request), pending: Some((self.metrics.clone(), route, method, started)) }
    }
}

/// The wrapped route's response future; records the request when it is ready.
pub struct Observed<F> {
    inner: F,
    pending: Option<(Arc<Metrics>, RouteLabel, &'static str, Instant)>,
}

impl<F, E> Future for Observed<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let result = ready!(Pin::new(&mut self.inner).poll(cx));
        if let (Ok(response), Some((metrics, route, method, started))) = (&result, self.pending.take()) {
            let labels = HttpLabels { route, method, status: status_class(response.status()) };
            metrics.http_request(labels, started.elapsed());
        }
        Poll::Ready(result)
    }
}

/// A fixed set of names: a made-up method is `other`, not a new series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    async fn answer(router: &Router, method: &str, uri: &str) -> StatusCode {
        let request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
        router.clone().oneshot(request).await.unwrap().status()
    }

    #[tokio::test]
    async fn requests_are_labelled_by_template_method_and_class_not_by_path() {
        let metrics = Arc::new(Metrics::default());
        let router = Router::new()
            .route("/v1/rooms/{id}", get(|| async { "ok" }))
            .route("/boom", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
            .fallback(|| async { StatusCode::NOT_FOUND })
            .layer(RedLayer::new(metrics.clone()));
        for id in ["a", "b", "c"] {
            assert_eq!(answer(&router, "GET", &format!("/v1/rooms/{id}")).await, StatusCode::OK);
        }
        assert_eq!(answer(&router, "GET", "/boom").await, StatusCode::SERVICE_UNAVAILABLE);
        // Wrong method on a route: its template; any other path: `unmatched`.
        assert_eq!(answer(&router, "POST", "/v1/rooms/a").await, StatusCode::METHOD_NOT_ALLOWED);
        for path in ["/x1", "/x2", "/v1/rooms/a/b"] {
            assert_eq!(answer(&router, "BREW", path).await, StatusCode::NOT_FOUND);
        }

        let text = metrics.render();
        let line = |needle: &str| {
            text.lines().find(|l| l.starts_with(needle)).unwrap_or_else(|| panic!("no {needle} in\n{text}")).to_string()
        };
        assert!(
            line(r#"arcade_http_requests_total{route="/v1/rooms/{id}",method="GET",status="2xx"}"#).ends_with(" 3"),
            "{text}"
        );
        assert!(line(r#"arcade_http_requests_total{route="/boom",method="GET",status="5xx"}"#).ends_with(" 1"));
        assert!(
            line(r#"arcade_http_requests_total{route="/v1/rooms/{id}",method="POST",status="4xx"}"#).ends_with(" 1")
        );
        assert!(line(r#"arcade_http_requests_total{route="unmatched",method="other",status="4xx"}"#).ends_with(" 3"));
        assert!(
            line(r#"arcade_http_request_duration_seconds_count{route="/v1/rooms/{id}",method="GET",status="2xx"}"#)
                .ends_with(" 3")
        );
        assert!(
            line(r#"arcade_http_request_duration_seconds_bucket{le="0.1",route="/boom",method="GET",status="5xx"}"#)
                .ends_with(" 1"),
            "{text}"
        );
        let series = text.lines().filter(|l| l.starts_with("arcade_http_requests_total")).count();
        assert_eq!(series, 4, "one series per template, method and class:\n{text}");
        assert!(!text.contains("/x1") && !text.contains("rooms/a"), "no raw path is a label:\n{text}");
    }
}
