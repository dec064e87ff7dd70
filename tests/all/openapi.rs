//! The served OpenAPI document matches the server: every documented
//! operation is routed, and every endpoint of docs/protocol.md is documented.

use crate::support::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn openapi(server: &Server) -> Value {
    let response = server.http.get(server.url("/openapi.json")).send().await.expect("GET /openapi.json");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("the document");
    let document: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("/openapi.json is not JSON ({e}): {text}"));
    assert!(
        document["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "not OpenAPI 3: {}",
        document["openapi"]
    );
    document
}

/// `(METHOD, path)` of every operation in the document.
fn operations(document: &Value) -> Vec<(String, String)> {
    let paths = document["paths"].as_object().unwrap_or_else(|| panic!("no `paths` in the OpenAPI document"));
    let mut ops = Vec::new();
    for (path, item) in paths {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

/// `{name}` parameters replaced by "nonexistent".
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map(|c| open + c).unwrap_or_else(|| panic!("unclosed parameter in {path}"));
        out.push_str(&rest[..open]);
        out.push_str("nonexistent");
        rest = &rest[close + 1..];
    }
    out + rest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_routed() {
    let server = Server::start().await;
    let document = openapi(&server).await;
    let ops = operations(&document);
    assert!(!ops.is_empty(), "the OpenAPI document has no operations: {document}");
    for (method, path) in &ops {
        let url = server.url(&concrete(path));
        let request = server.http.request(method.parse().expect("a method"), &url);
        let request = if method == "POST" { request.json(&json!({})) } else { request };
        let (status, body) = server.send(request).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not routed: {body}");
        assert!(
            !(status == StatusCode::NOT_FOUND && body["error"]["code"] == "not_found"),
            "{method} {path} is documented but the server has no such endpoint: {body}"
        );
    }
    server.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_endpoint_is_documented() {
    let server = Server::start().await;
    let document = openapi(&server).await;
    let ops = operations(&document);
    let protocol = std::fs::read_to_string(workspace_root().join("docs/protocol.md")).expect("docs/protocol.md");
    // Table rows like "| POST | `/v1/rooms/{id}/join` | ...".
    let endpoints: Vec<(String, String)> = protocol
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let method = *cells.get(1)?;
            let path = cells.get(2)?.trim_matches('`').split('?').next()?;
            (METHODS.contains(&method.to_lowercase().as_str()) && path.starts_with('/'))
                .then(|| (method.to_string(), path.to_string()))
        })
        .collect();
    assert!(endpoints.len() >= 9, "could not read the endpoint tables of docs/protocol.md: {endpoints:?}");
    let missing: Vec<_> = endpoints.iter().filter(|e| !ops.contains(e)).collect();
    assert!(missing.is_empty(), "docs/protocol.md endpoints missing from /openapi.json: {missing:?}");
}

/// No route that acts for someone answers a request without credentials:
/// every documented operation that lists a security requirement (and no
/// anonymous alternative) is called on real ids, with no `Authorization`,
/// and must answer 401 `missing_token` before doing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_that_needs_credentials_refuses_a_request_without_them() {
    let server = Server::start().await;
    let document = openapi(&server).await;
    // Real things to name, so that no refusal is a plain 404.
    let room = server.create_room(&json!({ "game": "tic-tac-toe", "players": ["alice"], "seats": 2 })).await;
    let (status, party) = server.post_as("alice", "/v1/parties", &json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{party}");
    let (status, ticket) = server.post_as("bob", "/v1/matchmaking/tickets", &json!({ "game": "tic-tac-toe" })).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let alice = server.player("alice").await;
    let real = |path: &str, name: &str| -> String {
        match name {
            "id" if path.starts_with("/v1/rooms/") => room.id.clone(),
            "id" if path.starts_with("/v1/parties/") => str_at(&party["party"], "id"),
            "id" if path.starts_with("/v1/matchmaking/tickets/") => str_at(&ticket["ticket"], "id"),
            "id" if path.starts_with("/admin/accounts/") => alice.id.clone(),
            "name" => "tic-tac-toe".to_string(),
            "version" => "1.0.0".to_string(),
            "role" => "publisher".to_string(),
            _ => "nonexistent".to_string(),
        }
    };
    let mut checked = Vec::new();
    for (method, path) in operations(&document) {
        let operation = &document["paths"][&path][method.to_lowercase()];
        let Some(requirements) = operation["security"].as_array() else { continue };
        if requirements.is_empty() || requirements.iter().any(|r| r.as_object().is_some_and(|r| r.is_empty())) {
            continue;
        }
        let mut concrete_path = String::new();
        let mut rest = path.as_str();
        while let Some(open) = rest.find('{') {
            let close = open + rest[open..].find('}').expect("a closed parameter");
            concrete_path.push_str(&rest[..open]);
            concrete_path.push_str(&real(&path, &rest[open + 1..close]));
            rest = &rest[close + 1..];
        }
        concrete_path.push_str(rest);
        let request = server.http.request(method.parse().expect("a method"), server.url(&concrete_path));
        let request =
            if matches!(method.as_str(), "POST" | "PUT" | "PATCH") { request.json(&json!({})) } else { request };
        let answer = server.send(request).await;
        assert_eq!(
            (answer.0, &answer.1["error"]["code"]),
            (StatusCode::UNAUTHORIZED, &json!("missing_token")),
            "{method} {path} without credentials: {answer:?}"
        );
        checked.push(format!("{method} {path}"));
    }
    for expected in
        ["POST /v1/rooms", "POST /v1/rooms/{id}/actions", "POST /v1/matchmaking/tickets", "POST /v1/parties"]
    {
        assert!(
            checked.iter().any(|c| c == expected),
            "{expected} is not documented as needing credentials: {checked:?}"
        );
    }
    // The room's WebSocket takes its credential in the query: none is 401 too.
    match server.try_ws(&room.id, None).await {
        Err(refused) => assert_error(&refused, 401, "missing_token"),
        Ok(client) => panic!("a room WebSocket without a token: {}", client.welcome),
    }
    assert_eq!(server.room_info(&room.id).await["seq"], 0, "nothing happened to the room");
    server.assert_healthy().await;
}
