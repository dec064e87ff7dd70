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
