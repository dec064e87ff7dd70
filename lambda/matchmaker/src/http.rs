//! The matchmaking HTTP API behind API Gateway, answering as the host's
//! `host/src/api/matchmaking.rs` does (same routes, bodies, statuses and
//! error codes, `{"error": {"code": "...", "message": "..."}}`):
//!
//! | route | answer |
//! | --- | --- |
//! | `POST /v1/matchmaking/tickets` (a `QueueRequest`: game; mode, latencies optional; a `rating` is ignored; the player from the authorizer's JWT) | 201 `{"ticket": {...}, "status": "waiting", "secret": "..."}` |
//! | `GET /v1/matchmaking/tickets/{id}` (bearer: the ticket secret) | 200, the ticket view (with the room and the party's seats once matched) |
//! | `DELETE /v1/matchmaking/tickets/{id}` (bearer: the ticket secret) | 204 |
//! | `GET /v1/matchmaking/queues` | 200, the open queues |
//!
//! The ticket secret is answered to the creator only; without it a ticket
//! cannot be read or cancelled: no `Authorization: Bearer` header is 401
//! `missing_token`, a wrong secret 404 `ticket_not_found` (as an unknown
//! ticket). The player who queues is the account id in the claim
//! `ARCADE_MM_PLAYER_CLAIM` (default `sub`) of the JWT API Gateway's
//! authorizer verified; without it, 401 `missing_token`. Parties queue
//! through a host node (they live in its account store): a `party_id` here
//! is 422 `parties_not_supported`. Creating and cancelling count against the party leader's
//! `player` rate limit, shared with the host nodes in Redis (429 +
//! `Retry-After`), cancelling only once the secret is checked.

use arcade_cluster::matchmaking::{MatchmakingError, QueueRequest, TicketView};
use arcade_cluster::ratelimit::{Policy, RateLimitError};
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::header::{CONTENT_TYPE, RETRY_AFTER};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::event::{HttpRequest, PayloadFormat};
use crate::handler::Matchmaker;

/// An HTTP answer, before it is put in API Gateway's response format.
#[derive(Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Option<Value>,
    /// `Retry-After` seconds of a 429.
    pub retry_after: Option<u64>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer { status, body: Some(body), retry_after: None }
    }

    fn error(status: u16, code: &str, message: impl Into<String>) -> Answer {
        Answer::json(status, json!({ "error": { "code": code, "message": message.into() } }))
    }

    /// The response object API Gateway expects for `format`.
    pub fn into_response(self, format: PayloadFormat) -> Value {
        let mut headers = HeaderMap::new();
        let body = self.body.map(|body| {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            Body::Text(body.to_string())
        });
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        let response = match format {
            PayloadFormat::V2 => {
                let mut response = ApiGatewayV2httpResponse::default();
                response.status_code = i64::from(self.status);
                response.headers = headers;
                response.body = body;
                serde_json::to_value(response)
            }
            PayloadFormat::V1 => {
                let mut response = ApiGatewayProxyResponse::default();
                response.status_code = i64::from(self.status);
                response.headers = headers;
                response.body = body;
                serde_json::to_value(response)
            }
        };
        response.expect("an API Gateway response serializes")
    }
}

impl From<MatchmakingError> for Answer {
    fn from(e: MatchmakingError) -> Answer {
        if e.http_status() >= 500 {
            tracing::warn!(error = %e, "matchmaking request failed");
        }
        Answer::error(e.http_status(), e.code(), e.to_string())
    }
}

enum Route<'a> {
    Tickets,
    Ticket(&'a str),
    Queues,
}

impl Route<'_> {
    /// The methods [`handle`] answers on the route (its 405 names them).
    fn methods(&self) -> &'static [&'static str] {
        match self {
            Route::Tickets => &["POST"],
            Route::Ticket(_) => &["GET", "DELETE"],
            Route::Queues => &["GET"],
        }
    }
}

fn route(path: &str) -> Option<Route<'_>> {
    let rest = path.strip_prefix("/v1/matchmaking/")?;
    match rest.split_once('/') {
        None if rest == "tickets" => Some(Route::Tickets),
        None if rest == "queues" => Some(Route::Queues),
        Some(("tickets", id)) if !id.is_empty() && !id.contains('/') => Some(Route::Ticket(id)),
        _ => None,
    }
}

/// Answers one request.
pub async fn handle(mm: &Matchmaker, request: &HttpRequest) -> Answer {
    let method = request.method.as_str();
    match (route(&request.path), method) {
        (Some(Route::Tickets), "POST") => create(mm, request).await.unwrap_or_else(|answer| answer),
        (Some(Route::Ticket(id)), "GET") => match ticket_secret(request) {
            Ok(secret) => match mm.matchmaker.status(id, secret).await {
                Ok(view) => Answer::json(200, view_json(&view)),
                Err(e) => e.into(),
            },
            Err(answer) => answer,
        },
        (Some(Route::Ticket(id)), "DELETE") => cancel(mm, request, id).await.unwrap_or_else(|answer| answer),
        (Some(Route::Queues), "GET") => {
            Answer::json(200, serde_json::to_value(mm.matchmaker.queues()).expect("queue keys serialize"))
        }
        (Some(route), _) => Answer::error(
            405,
            "method_not_allowed",
            format!("{method} is not allowed on {} (only {})", request.path, route.methods().join(", ")),
        ),
        (None, _) => Answer::error(404, "not_found", "no such endpoint"),
    }
}

async fn create(mm: &Matchmaker, request: &HttpRequest) -> Result<Answer, Answer> {
    let player = request.claims.get(&mm.player_claim).filter(|p| !p.is_empty()).ok_or_else(|| {
        let message = format!("creating a ticket needs a player JWT with a {:?} claim", mm.player_claim);
        Answer::error(401, "missing_token", message)
    })?;
    let queue = parse_body(request)?;
    if queue.party_id.is_some() {
        let message = "parties queue through a host node's POST /v1/matchmaking/tickets";
        return Err(Answer::error(422, "parties_not_supported", message));
    }
    let mut ticket_request = queue.for_party(vec![player.clone()]).with_defaults(&mm.default_mode, &mm.default_region);
    // A rating the client sends is never trusted (hosts take it from their
    // ladder); this function keeps no ladder, so it queues a newcomer's.
    ticket_request.rating = arcade_cluster::matchmaking::DEFAULT_RATING;
    // Checked before counted: a refused ticket spends nobody's budget.
    mm.matchmaker.check(&ticket_request)?;
    if let Some(leader) = ticket_request.party.first() {
        limit(mm, leader).await?;
    }
    let created = mm.matchmaker.submit(ticket_request).await?;
    Ok(Answer::json(201, created.created_json()))
}

async fn cancel(mm: &Matchmaker, request: &HttpRequest, id: &str) -> Result<Answer, Answer> {
    let secret = ticket_secret(request)?;
    let view = mm.matchmaker.status(id, secret).await?;
    if let Some(leader) = view.ticket.party.first() {
        limit(mm, leader).await?;
    }
    mm.matchmaker.cancel(id, secret).await?;
    Ok(Answer { status: 204, body: None, retry_after: None })
}

/// The ticket secret presented as `Authorization: Bearer <secret>`; 401
/// `missing_token` without one, as on a host.
fn ticket_secret(request: &HttpRequest) -> Result<&str, Answer> {
    request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .ok_or_else(|| Answer::error(401, "missing_token", "send `Authorization: Bearer <token>`"))
}

/// The JSON body as a ticket request, refused as the host's `Json`
/// extractor refuses it: 415 without a JSON content type, 400
/// `malformed_json` for broken JSON, 422 `invalid_request` for JSON of the
/// wrong shape.
fn parse_body(request: &HttpRequest) -> Result<QueueRequest, Answer> {
    if !request.header("content-type").is_some_and(is_json) {
        return Err(Answer::error(
            415,
            "unsupported_media_type",
            "Expected request with `Content-Type: application/json`",
        ));
    }
    let body = request.body.as_deref().map_err(|e| Answer::error(400, "malformed_json", e.clone()))?;
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Answer::error(
            422,
            "invalid_request",
            format!("Failed to deserialize the JSON body into the target type: {e}"),
        ),
        _ => Answer::error(400, "malformed_json", format!("Failed to parse the request body as JSON: {e}")),
    })
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The party leader's `player` limit; an unavailable limiter lets the
/// request through, as on the host.
async fn limit(mm: &Matchmaker, player: &str) -> Result<(), Answer> {
    match mm.limiter.check(Policy::Player, player).await {
        Ok(()) => Ok(()),
        Err(RateLimitError::Limited(retry_after)) => Err(Answer {
            retry_after: Some(retry_after.header_seconds()),
            ..Answer::error(
                429,
                "rate_limited",
                format!("the {} rate limit is exceeded; retry after {} ms", Policy::Player, retry_after.0.as_millis()),
            )
        }),
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable; letting the request through");
            Ok(())
        }
    }
}

fn view_json(view: &TicketView) -> Value {
    serde_json::to_value(view).expect("a ticket view serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_exact() {
        assert!(matches!(route("/v1/matchmaking/tickets"), Some(Route::Tickets)));
        assert!(matches!(route("/v1/matchmaking/tickets/abc"), Some(Route::Ticket("abc"))));
        assert!(matches!(route("/v1/matchmaking/queues"), Some(Route::Queues)));
        for path in
            ["/", "/v1/matchmaking/tickets/", "/v1/matchmaking/tickets/a/ws", "/v1/rooms", "/x/v1/matchmaking/tickets"]
        {
            assert!(route(path).is_none(), "{path}");
        }
    }

    /// The `(METHOD, path)` rows of this module's route table: what
    /// `infra/terraform/modules/api_gateway` must route here
    /// (`tests/all/routes.rs` compares the two).
    fn documented_routes() -> Vec<(String, String)> {
        include_str!("http.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("//! | `")?.split_once('`'))
            .filter_map(|(route, _)| route.split_once(' '))
            .map(|(method, path)| (method.to_string(), path.to_string()))
            .collect()
    }

    #[test]
    fn every_documented_route_is_answered_and_every_answered_one_documented() {
        let documented = documented_routes();
        assert_eq!(documented.len(), 4, "{documented:?}");
        for (method, path) in &documented {
            let concrete = path.replace("{id}", "abc");
            let route = route(&concrete).unwrap_or_else(|| panic!("{path} is documented but not routed"));
            assert!(route.methods().contains(&method.as_str()), "{method} {path} is documented but answered 405");
        }
        for route in [Route::Tickets, Route::Ticket("abc"), Route::Queues] {
            for method in route.methods() {
                assert!(
                    documented.iter().any(|(m, p)| m == method
                        && super::route(&p.replace("{id}", "abc"))
                            .is_some_and(|r| std::mem::discriminant(&r) == std::mem::discriminant(&route))),
                    "{method} on a routed path is not in the module's route table"
                );
            }
        }
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/vnd.arcade+json"));
        assert!(!is_json("text/plain"));
    }

    #[test]
    fn answers_fit_both_payload_formats() {
        let answer = || Answer { retry_after: Some(3), ..Answer::error(429, "rate_limited", "slow down") };
        let v2 = answer().into_response(PayloadFormat::V2);
        assert_eq!(v2["statusCode"], 429);
        assert_eq!(v2["headers"]["content-type"], "application/json");
        assert_eq!(v2["headers"]["retry-after"], "3");
        assert_eq!(v2["isBase64Encoded"], false);
        let body: Value = serde_json::from_str(v2["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");

        let v1 = Answer { status: 204, body: None, retry_after: None }.into_response(PayloadFormat::V1);
        assert_eq!(v1["statusCode"], 204);
        assert!(v1.get("body").is_none(), "{v1}");
    }
}
