//! The public entry points agree with the code behind them:
//!
//! - **Ingress** (`infra/k8s`, both overlays rendered with `kubectl
//!   kustomize`, as deployed): every path the host's router serves publicly
//!   (read from its `.route(...)` calls in `host/src/api`, checked against a
//!   live server and the OpenAPI document) and every path the browser client
//!   loads (`host/client`) is routed by the `arcade` Ingress; the
//!   paths in [`PRIVATE`] are not; the per-pod hosts (`arcade-nodes`) route
//!   the `/v1` API and the signed room creation, nothing else private; and
//!   the admin routes are on the pods' admin port (`ARCADE_ADMIN_LISTEN`).
//! - **API Gateway** (`infra/terraform/modules/api_gateway`): its routes are
//!   exactly the matchmaker Lambda's documented ones (the route table of
//!   `lambda/matchmaker/src/http.rs`, which that crate's unit tests hold to
//!   its router), and the invoke permission covers each of them.
//!
//! The checks are functions returning the problems they find, and each is
//! shown to report a route removed from (or a private path added to) a copy
//! of the deployed text.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::support::terraform;
use crate::support::*;

/// Paths the router serves that the public Ingress must not route, and why
/// (an entry ending in `/` is a prefix).
const PRIVATE: &[(&str, &str)] = &[
    ("/metrics", "Prometheus scrapes the pods directly"),
    ("/health/", "the kubelet probes the pods directly"),
    ("/admin/", "the admin routes, on the pods' admin port, which no Service exposes"),
    ("/internal/", "signed node-to-node calls (room creation, lobby listing), on the per-pod hosts only"),
];

/// Private paths the per-pod hosts (`arcade-nodes`) must route: the
/// matchmaker and the other nodes create rooms there, and the other nodes
/// ask for its listed rooms.
const NODE_ONLY: &[&str] = &["/internal/v1/rooms", "/internal/v1/rooms/listed/{nonce}"];

/// The functions in `host/src/api` whose routes are the admin ones (off the
/// public port when `admin_listen` is set, as in `infra/k8s`).
const ADMIN_FUNCTIONS: &[&str] = &["admin_routes", "public_admin_routes"];

fn private_reason(path: &str) -> Option<&'static str> {
    PRIVATE
        .iter()
        .find(|(private, _)| match private.strip_suffix('/') {
            Some(prefix) => path == prefix || path.starts_with(private),
            None => path == *private,
        })
        .map(|(_, why)| *why)
}

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---- the router ------------------------------------------------------------------------

/// One `.route(PATH, ...)` of `host/src/api`, and the function it is in.
#[derive(Debug, Clone)]
struct RouterRoute {
    path: String,
    function: String,
}

/// Every `.route(...)` in `host/src/api/*.rs`. A path given as a constant
/// is looked up in `host/src` and `host/crates`; nesting (`.nest`, `.route_service`) is not
/// understood and fails the test rather than being missed.
fn router_routes() -> Vec<RouterRoute> {
    let dir = workspace_root().join("host/src/api");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("host/src/api")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    let mut routes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file");
        // Unit tests (at the end of a module) build routers of their own.
        let text = text.split("#[cfg(test)]").next().unwrap();
        for (at, _) in text.match_indices(".route(") {
            let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            if text[line_start..at].trim_start().starts_with("//") {
                continue;
            }
            let argument = text[at + ".route(".len()..].trim_start();
            let path = match argument.strip_prefix('"') {
                Some(rest) => rest[..rest.find('"').expect("a closing quote")].to_string(),
                None => {
                    let expression = &argument[..argument.find(',').expect("a route's second argument")];
                    constant(expression.rsplit("::").next().expect("a name").trim())
                }
            };
            let function = text[..at]
                .rfind("fn ")
                .map(|f| text[f + 3..].split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap().to_string())
                .unwrap_or_default();
            routes.push(RouterRoute { path, function });
        }
        for unsupported in [".nest(", ".nest_service(", ".route_service("] {
            assert!(
                !text.contains(unsupported),
                "{} uses {unsupported}: teach tests/all/routes.rs its paths",
                file.display()
            );
        }
    }
    routes
}

/// The value of `const NAME: &str = "...";` somewhere in `host/src` or `host/crates`.
fn constant(name: &str) -> String {
    let needle = format!("const {name}: &str = \"");
    let mut dirs = vec![workspace_root().join("host/src"), workspace_root().join("host/crates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                if let Some(at) = text.find(&needle) {
                    let rest = &text[at + needle.len()..];
                    return rest[..rest.find('"').expect("a closing quote")].to_string();
                }
            }
        }
    }
    panic!("no `{needle}...` in host/src or host/crates")
}

/// The paths the public listener serves with `admin_listen` set: every
/// route outside the admin functions.
fn public_paths(routes: &[RouterRoute]) -> BTreeSet<String> {
    routes.iter().filter(|r| !ADMIN_FUNCTIONS.contains(&r.function.as_str())).map(|r| r.path.clone()).collect()
}

/// A request path for a route template: `{id}` → `sample`, `{*rest}` → `sample/rest`.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            s if s.starts_with("{*") => "sample/rest",
            s if s.starts_with('{') => "sample",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `path` is one the route `template` answers.
fn template_matches(template: &str, path: &str) -> bool {
    let (mut template, mut path) = (template.split('/'), path.split('/'));
    loop {
        match (template.next(), path.next()) {
            (None, None) => return true,
            (Some(t), Some(_)) if t.starts_with("{*") => return true,
            (Some(t), Some(p)) if t == p || (t.starts_with('{') && !p.is_empty()) => {}
            _ => return false,
        }
    }
}

/// The paths the browser client loads: its page's `href="/..."` and
/// `src="/..."`, and the API paths in `app.js` and its modules (a `${...}` segment read as
/// one path segment, a query string dropped).
fn client_paths() -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let page = read("host/client/index.html");
    for attribute in ["href=\"/", "src=\"/"] {
        for (at, _) in page.match_indices(attribute) {
            let rest = &page[at + attribute.len() - 1..];
            paths.insert(rest[..rest.find('"').expect("a closing quote")].to_string());
        }
    }
    let mut scripts = vec![read("host/client/app.js")];
    let mut dirs = vec![workspace_root().join("host/client/modules")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("host/client/modules") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                scripts.push(std::fs::read_to_string(&path).expect("a module"));
            }
        }
    }
    let script = scripts.join("\n");
    for quote in ['\'', '`'] {
        for (at, _) in script.match_indices(&format!("{quote}/")) {
            let rest = &script[at + 1..];
            let literal = &rest[..rest.find(quote).expect("a closing quote")];
            let mut path = String::new();
            let mut parts = literal.split("${");
            path.push_str(parts.next().unwrap());
            for part in parts {
                let after = &part[part.find('}').expect("a closed ${") + 1..];
                if path.ends_with('/') {
                    path.push_str("sample");
                }
                path.push_str(after);
            }
            paths.insert(path.split('?').next().unwrap().to_string());
        }
    }
    paths
}

// ---- the Ingress ---------------------------------------------------------------------------

/// `kubectl kustomize infra/k8s/overlays/<overlay>`, one JSON value per document.
fn rendered(overlay: &str) -> Vec<Value> {
    let dir = workspace_root().join("infra/k8s/overlays").join(overlay);
    let output = std::process::Command::new("kubectl").arg("kustomize").arg(&dir).output().unwrap_or_else(|e| {
        panic!("kubectl kustomize (kubectl renders the overlays, as scripts/check-infra.sh does): {e}")
    });
    assert!(output.status.success(), "kubectl kustomize {overlay}: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).expect("UTF-8 manifests");
    text.split("\n---\n")
        .filter(|doc| !doc.trim().is_empty())
        .map(|doc| serde_norway::from_str(doc).unwrap_or_else(|e| panic!("a YAML document ({e}):\n{doc}")))
        .collect()
}

fn named<'a>(manifests: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    manifests.iter().find(|m| m["kind"] == kind && m["metadata"]["name"] == name)
}

/// Whether an Ingress path of `path_type` routes `path` (networking.k8s.io/v1:
/// `Prefix` matches whole path elements).
fn ingress_matches(rule_path: &str, path_type: &str, path: &str) -> bool {
    match path_type {
        "Exact" => rule_path == path,
        "Prefix" => {
            let prefix = rule_path.trim_end_matches('/');
            prefix.is_empty() || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
        }
        other => panic!("pathType {other}: only Exact and Prefix have defined matching"),
    }
}

/// Each host rule of an Ingress: its host and whether it routes a path.
fn rules(ingress: &Value) -> Vec<(String, Vec<(String, String)>)> {
    let rules = ingress["spec"]["rules"].as_array().map(Vec::as_slice).unwrap_or_default();
    rules
        .iter()
        .map(|rule| {
            let paths = rule["http"]["paths"].as_array().map(Vec::as_slice).unwrap_or_default();
            let paths = paths
                .iter()
                .map(|p| {
                    (p["path"].as_str().unwrap_or("").to_string(), p["pathType"].as_str().unwrap_or("").to_string())
                })
                .collect();
            (rule["host"].as_str().unwrap_or("*").to_string(), paths)
        })
        .collect()
}

fn routes_path(paths: &[(String, String)], path: &str) -> bool {
    paths.iter().any(|(rule_path, path_type)| ingress_matches(rule_path, path_type, path))
}

/// What is wrong with the Ingresses of one rendered overlay, given the
/// router's public paths, all its paths, and the browser client's.
fn ingress_problems(
    manifests: &[Value],
    public: &BTreeSet<String>,
    all_paths: &BTreeSet<String>,
    client: &BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for ingress in manifests.iter().filter(|m| m["kind"] == "Ingress") {
        let name = ingress["metadata"]["name"].as_str().unwrap_or("?");
        if !matches!(name, "arcade" | "arcade-nodes") {
            problems.push(format!("Ingress {name} is not one this check knows: add its paths to tests/all/routes.rs"));
        }
        if !ingress["spec"]["defaultBackend"].is_null() {
            problems.push(format!("Ingress {name} has a defaultBackend: it routes every path, private ones too"));
        }
        let annotations = &ingress["metadata"]["annotations"];
        for regex in ["nginx.ingress.kubernetes.io/use-regex", "nginx.ingress.kubernetes.io/rewrite-target"] {
            if !annotations[regex].is_null() {
                problems.push(format!("Ingress {name} sets {regex}: its paths are no longer plain prefixes"));
            }
        }
        for (_, paths) in rules(ingress) {
            for (path, path_type) in &paths {
                if !matches!(path_type.as_str(), "Exact" | "Prefix") {
                    problems.push(format!("Ingress {name} path {path} is {path_type}, not Exact or Prefix"));
                }
            }
        }
    }
    if problems.iter().any(|p| p.contains("not Exact or Prefix")) {
        return problems;
    }
    let private: BTreeSet<&String> = all_paths.iter().filter(|p| private_reason(p).is_some()).collect();

    match named(manifests, "Ingress", "arcade") {
        None => problems.push("no Ingress arcade".into()),
        Some(ingress) => {
            for (host, paths) in rules(ingress) {
                for path in public.iter().filter(|p| private_reason(p).is_none()) {
                    if !routes_path(&paths, &concrete(path)) {
                        problems
                            .push(format!("{path} is served by the router but the Ingress arcade ({host}) misses it"));
                    }
                }
                for path in client {
                    if !routes_path(&paths, path) {
                        problems.push(format!(
                            "{path} is loaded by the browser client but the Ingress arcade ({host}) misses it"
                        ));
                    }
                }
                for path in &private {
                    if routes_path(&paths, &concrete(path)) {
                        let why = private_reason(path).unwrap();
                        problems.push(format!("{path} is private ({why}) but the Ingress arcade ({host}) routes it"));
                    }
                }
            }
        }
    }
    match named(manifests, "Ingress", "arcade-nodes") {
        None => problems.push("no Ingress arcade-nodes (the per-pod hosts)".into()),
        Some(ingress) => {
            let rules = rules(ingress);
            if rules.is_empty() {
                problems.push("the Ingress arcade-nodes has no host rules".into());
            }
            for (host, paths) in rules {
                for path in public.iter().filter(|p| p.starts_with("/v1/") && private_reason(p).is_none()) {
                    if !routes_path(&paths, &concrete(path)) {
                        problems.push(format!("{path} is an API route but the per-pod host {host} misses it"));
                    }
                }
                for path in &private {
                    let routed = routes_path(&paths, &concrete(path));
                    match NODE_ONLY.contains(&path.as_str()) {
                        true if !routed => problems.push(format!("{path} must be routed by the per-pod host {host}")),
                        false if routed => {
                            let why = private_reason(path).unwrap();
                            problems.push(format!("{path} is private ({why}) but the per-pod host {host} routes it"));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    // The admin routes share paths with public ones (POST /v1/plugins under
    // the routed /v1): they must be on their own listener.
    let admin_listen = named(manifests, "StatefulSet", "arcade")
        .and_then(|set| set["spec"]["template"]["spec"]["containers"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|container| container["env"].as_array())
        .flatten()
        .any(|env| env["name"] == "ARCADE_ADMIN_LISTEN" && env["value"].as_str().is_some_and(|v| !v.is_empty()));
    if !admin_listen {
        let why = "the admin routes would be on the port the Ingress routes";
        problems.push(format!("the StatefulSet arcade does not set ARCADE_ADMIN_LISTEN: {why}"));
    }
    problems
}

struct RouterPaths {
    routes: Vec<RouterRoute>,
    public: BTreeSet<String>,
    all: BTreeSet<String>,
    client: BTreeSet<String>,
}

fn router_paths() -> RouterPaths {
    let routes = router_routes();
    let public = public_paths(&routes);
    let all = routes.iter().map(|r| r.path.clone()).collect();
    RouterPaths { public, all, client: client_paths(), routes }
}

#[test]
fn the_router_source_is_read_completely() {
    let RouterPaths { routes, public, all, client } = router_paths();
    for expected in
        ["/", "/app.js", "/style.css", "/metrics", "/health/ready", "/v1/rooms/{id}/ws", "/internal/v1/rooms"]
    {
        assert!(public.contains(expected), "{expected} not found among the router's public paths: {public:?}");
    }
    assert!(all.contains("/admin/archive/flush") && !public.contains("/admin/archive/flush"), "{routes:?}");
    // Every documented operation is among them (tests/all/openapi.rs checks
    // the document against a live server).
    let document: Value = serde_json::from_str(&read("host/src/api/openapi.json")).expect("the OpenAPI document");
    let documented = document["paths"].as_object().expect("paths");
    for path in documented.keys() {
        assert!(all.contains(path), "{path} is in the OpenAPI document but not found in host/src/api");
    }
    // And the reverse: the document is the one list of the API's routes.
    // Not in it: the browser client's files, the catch-all that answers
    // admin paths 404 on the public listener when they have their own, and
    // the nodes' signed room creation and lobby listing (docs/protocol.md;
    // not for clients).
    const NOT_API: [&str; 10] = [
        "/",
        "/app.js",
        "/style.css",
        "/modules/{*path}",
        "/ui/frame.html",
        "/ui/frame.js",
        "/ui/frame.css",
        "/admin/{*rest}",
        "/internal/v1/rooms",
        "/internal/v1/rooms/listed/{nonce}",
    ];
    let undocumented: Vec<&String> =
        all.iter().filter(|p| !documented.contains_key(*p) && !NOT_API.contains(&p.as_str())).collect();
    assert!(undocumented.is_empty(), "routes of host/src/api missing from the OpenAPI document: {undocumented:?}");
    // What the browser client loads is served.
    for expected in ["/app.js", "/style.css", "/v1/plugins", "/v1/rooms/sample/ws", "/v1/matchmaking/tickets/sample/ws"]
    {
        assert!(client.contains(expected), "{expected} not found among the client's paths: {client:?}");
    }
    for path in &client {
        assert!(
            public.iter().any(|t| template_matches(t, path)),
            "the browser client loads {path}, which is not served"
        );
    }
    for (private, _) in PRIVATE {
        let names = |p: &String| match private.ends_with('/') {
            true => p.starts_with(private),
            false => p == private,
        };
        assert!(all.iter().any(names), "{private} names no served path: drop it from PRIVATE");
    }
}

/// The parsed paths are the live server's: each is routed (no `not_found`),
/// and a path outside them is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_paths_read_from_the_router_are_the_ones_it_serves() {
    let RouterPaths { public, .. } = router_paths();
    let server = Server::start().await;
    for path in &public {
        let (status, body) = server.send(server.http.get(server.url(&concrete(path)))).await;
        assert!(
            !(status == StatusCode::NOT_FOUND && body["error"]["code"] == "not_found"),
            "GET {path}: the router has no such route ({status} {body})"
        );
    }
    let (status, body) = server.send(server.http.get(server.url("/no-such-route"))).await;
    assert_eq!((status, &body["error"]["code"]), (StatusCode::NOT_FOUND, &json!("not_found")), "{body}");
}

#[test]
fn the_ingress_routes_every_public_path_and_no_private_one() {
    let paths = router_paths();
    for overlay in ["dev", "prod"] {
        let problems = ingress_problems(&rendered(overlay), &paths.public, &paths.all, &paths.client);
        assert!(problems.is_empty(), "infra/k8s/overlays/{overlay}:\n  {}", problems.join("\n  "));
    }
}

/// The paths of Ingress `name` in `manifests`, for editing.
fn paths_of<'a>(manifests: &'a mut [Value], name: &str, rule: usize) -> &'a mut Vec<Value> {
    let ingress = manifests.iter_mut().find(|m| m["kind"] == "Ingress" && m["metadata"]["name"] == name).unwrap();
    ingress["spec"]["rules"][rule]["http"]["paths"].as_array_mut().expect("paths")
}

#[test]
fn the_ingress_check_reports_a_missing_route_and_an_exposed_private_one() {
    let RouterPaths { public, all, client, .. } = router_paths();
    let deployed = rendered("prod");
    let problems = |manifests: &[Value]| ingress_problems(manifests, &public, &all, &client);
    assert_eq!(problems(&deployed), Vec::<String>::new());

    // /app.js removed: the client's script is missing.
    let mut manifests = deployed.clone();
    paths_of(&mut manifests, "arcade", 0).retain(|p| p["path"] != "/app.js");
    let found = problems(&manifests);
    assert!(found.iter().any(|p| p.starts_with("/app.js is served by the router but the Ingress arcade")), "{found:?}");
    assert!(found.iter().any(|p| p.starts_with("/app.js is loaded by the browser client")), "{found:?}");

    // The /v1 prefix narrowed to the rooms: matchmaking is missing.
    let mut manifests = deployed.clone();
    for path in paths_of(&mut manifests, "arcade", 0).iter_mut().filter(|p| p["path"] == "/v1") {
        path["path"] = json!("/v1/rooms");
    }
    let found = problems(&manifests);
    assert!(found.iter().any(|p| p.starts_with("/v1/matchmaking/tickets is served")), "{found:?}");

    // Everything routed (a `/` prefix): each private path is reported.
    let mut manifests = deployed.clone();
    paths_of(&mut manifests, "arcade", 0).push(json!({"path": "/", "pathType": "Prefix", "backend": {}}));
    let found = problems(&manifests);
    for private in ["/metrics", "/health/live", "/health/ready", "/admin/archive/flush", "/internal/v1/rooms"] {
        let expected = format!("{private} is private (");
        assert!(found.iter().any(|p| p.starts_with(&expected) && p.contains("Ingress arcade")), "{private}: {found:?}");
    }

    // The per-pod hosts: the signed room creation removed, /metrics added.
    let mut manifests = deployed.clone();
    let pod = paths_of(&mut manifests, "arcade-nodes", 3);
    pod.retain(|p| p["path"] != "/internal/v1/rooms");
    pod.push(json!({"path": "/metrics", "pathType": "Exact", "backend": {}}));
    let found = problems(&manifests);
    assert!(
        found.iter().any(|p| p.starts_with("/internal/v1/rooms must be routed by the per-pod host arcade-3.")),
        "{found:?}"
    );
    assert!(found.iter().any(|p| p.starts_with("/metrics is private") && p.contains("arcade-3.")), "{found:?}");

    // A default backend, an unknown Ingress, the admin listener dropped.
    let mut manifests = deployed.clone();
    let main = manifests.iter_mut().find(|m| m["kind"] == "Ingress" && m["metadata"]["name"] == "arcade").unwrap();
    main["spec"]["defaultBackend"] = json!({"service": {"name": "arcade", "port": {"name": "http"}}});
    let mut other = main.clone();
    other["metadata"]["name"] = json!("arcade-extra");
    manifests.push(other);
    let set = manifests.iter_mut().find(|m| m["kind"] == "StatefulSet").unwrap();
    for container in set["spec"]["template"]["spec"]["containers"].as_array_mut().unwrap() {
        container["env"].as_array_mut().unwrap().retain(|e| e["name"] != "ARCADE_ADMIN_LISTEN");
    }
    let found = problems(&manifests);
    for expected in ["Ingress arcade has a defaultBackend", "Ingress arcade-extra is not one", "ARCADE_ADMIN_LISTEN"] {
        assert!(found.iter().any(|p| p.contains(expected)), "{expected}: {found:?}");
    }
}

// ---- API Gateway ---------------------------------------------------------------------

const API_GATEWAY: &str = "infra/terraform/modules/api_gateway/main.tf";

/// `(METHOD, path)` of the matchmaker Lambda's route table
/// (`lambda/matchmaker/src/http.rs`), path parameters as `{}`.
fn documented_lambda_routes() -> BTreeSet<(String, String)> {
    let routes: BTreeSet<_> = read("lambda/matchmaker/src/http.rs")
        .lines()
        .filter_map(|line| line.strip_prefix("//! | `")?.split_once('`'))
        .filter_map(|(route, _)| route.split_once(' '))
        .map(|(method, path)| (method.to_string(), anonymous(path)))
        .collect();
    assert!(routes.len() >= 4, "could not read the route table of lambda/matchmaker/src/http.rs: {routes:?}");
    routes
}

/// `{ticket_id}` and `{id}` alike: `{}`.
fn anonymous(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
}

/// A glob of an IAM `ArnLike` condition (`*` any run of characters).
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => text.starts_with(head) && (head.len()..=text.len()).any(|i| glob(tail, &text[i..])),
    }
}

/// What is wrong between the API Gateway module's text and the Lambda's routes.
fn api_gateway_problems(text: &str, documented: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut problems = Vec::new();
    let routes = terraform::literal(terraform::attribute(terraform::block(text, "locals"), "routes"))
        .unwrap_or_else(|e| panic!("local.routes of {API_GATEWAY}: {e}"));
    let routed: BTreeSet<(String, String)> = routes
        .as_object()
        .expect("local.routes maps route keys to authorization types")
        .keys()
        .map(|key| {
            let (method, path) = key.split_once(' ').expect("route keys `METHOD /path`");
            (method.to_string(), anonymous(path))
        })
        .collect();
    for (key, authorization) in routes.as_object().unwrap() {
        match (key.as_str(), authorization.as_str()) {
            ("POST /v1/matchmaking/tickets", Some("JWT")) => {}
            ("POST /v1/matchmaking/tickets", other) => {
                problems.push(format!("creating a ticket needs a player JWT, not authorization {other:?}"))
            }
            (_, Some("JWT" | "NONE")) => {}
            (key, other) => problems.push(format!("{key}: authorization {other:?} is not JWT or NONE")),
        }
    }
    for (method, path) in documented.difference(&routed) {
        problems.push(format!("{method} {path} is a documented Lambda route but API Gateway does not route it"));
    }
    for (method, path) in routed.difference(documented) {
        problems.push(format!("{method} {path} is routed by API Gateway but the Lambda does not answer it"));
    }
    // The invoke permission: "${...execution_arn}/<stage>/<method>/<path>".
    let permission =
        terraform::attribute(terraform::block(text, r#"resource "aws_lambda_permission" "api""#), "source_arn");
    let pattern = permission.trim().trim_matches('"');
    let pattern = &pattern[pattern.find('}').expect("the API's execution ARN") + 1..];
    for (method, path) in &routed {
        let request = format!("/$default/{method}{}", path.replace("{}", "sample"));
        if !glob(pattern, &request) {
            problems.push(format!("the invoke permission ({pattern}) does not cover {method} {path}"));
        }
    }
    problems
}

#[test]
fn api_gateway_routes_every_documented_lambda_route() {
    let problems = api_gateway_problems(&read(API_GATEWAY), &documented_lambda_routes());
    assert!(problems.is_empty(), "{API_GATEWAY}:\n  {}", problems.join("\n  "));
}

#[test]
fn the_api_gateway_check_reports_a_missing_route() {
    let documented = documented_lambda_routes();
    let text = read(API_GATEWAY);
    let queues = "    \"GET /v1/matchmaking/queues\"                 = \"NONE\"\n";
    assert!(text.contains(queues), "the queues route as written in {API_GATEWAY}");

    let without = text.replace(queues, "");
    assert_eq!(
        api_gateway_problems(&without, &documented),
        ["GET /v1/matchmaking/queues is a documented Lambda route but API Gateway does not route it"]
    );
    let extra = text.replace(queues, &format!("{queues}    \"GET /v1/rooms\" = \"NONE\"\n"));
    assert_eq!(
        api_gateway_problems(&extra, &documented),
        [
            "GET /v1/rooms is routed by API Gateway but the Lambda does not answer it",
            "the invoke permission (/*/*/v1/matchmaking/*) does not cover GET /v1/rooms"
        ]
    );
    let anonymous_create = text.replace(
        "\"POST /v1/matchmaking/tickets\"               = \"JWT\"",
        "\"POST /v1/matchmaking/tickets\" = \"NONE\"",
    );
    assert_eq!(
        api_gateway_problems(&anonymous_create, &documented),
        ["creating a ticket needs a player JWT, not authorization Some(\"NONE\")"]
    );
    let narrowed = text.replace("/*/*/v1/matchmaking/*\"", "/*/*/v1/matchmaking/tickets*\"");
    assert_ne!(narrowed, text, "the permission's source ARN as written");
    assert_eq!(
        api_gateway_problems(&narrowed, &documented),
        ["the invoke permission (/*/*/v1/matchmaking/tickets*) does not cover GET /v1/matchmaking/queues"]
    );
}

#[test]
fn ingress_and_glob_matching() {
    assert!(ingress_matches("/v1", "Prefix", "/v1/rooms") && ingress_matches("/v1/", "Prefix", "/v1"));
    assert!(!ingress_matches("/v1", "Prefix", "/v1x") && !ingress_matches("/", "Exact", "/app.js"));
    assert!(ingress_matches("/", "Prefix", "/metrics"));
    assert!(template_matches("/v1/rooms/{id}/ws", "/v1/rooms/sample/ws"));
    assert!(
        !template_matches("/v1/rooms/{id}", "/v1/rooms/sample/ws") && !template_matches("/v1/rooms/{id}", "/v1/rooms/")
    );
    assert!(glob("/*/*/v1/matchmaking/*", "/$default/GET/v1/matchmaking/queues"));
    assert!(!glob("/*/*/v1/matchmaking/tickets*", "/$default/GET/v1/matchmaking/queues"));
    assert_eq!(private_reason("/metricsx"), None);
    assert!(private_reason("/health/live").is_some() && private_reason("/internal/v1/rooms").is_some());
}
