//! The browser client served at `/`: static HTML, CSS and JavaScript ES
//! modules compiled into the binary (no CDN, no build step). The files are
//! in `host/client/`: `index.html`, `style.css`, `app.js` (the entry module:
//! wires the page to the modules) and `modules/` (state, HTTP, status line,
//! lobby, matchmaking, the room WebSocket, rendering, and one board module
//! per game in `modules/games/`), served under `/modules/`.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::App;
use super::error::ApiError;

const INDEX_HTML: &str = include_str!("../../client/index.html");
const APP_JS: &str = include_str!("../../client/app.js");
const STYLE_CSS: &str = include_str!("../../client/style.css");

/// Every module under `host/client/modules/`, by its path there (a unit
/// test checks that the list and the directory agree).
const MODULES: [(&str, &str); 13] = [
    ("account.js", include_str!("../../client/modules/account.js")),
    ("api.js", include_str!("../../client/modules/api.js")),
    ("ladder.js", include_str!("../../client/modules/ladder.js")),
    ("lobby.js", include_str!("../../client/modules/lobby.js")),
    ("matchmaking.js", include_str!("../../client/modules/matchmaking.js")),
    ("render.js", include_str!("../../client/modules/render.js")),
    ("room.js", include_str!("../../client/modules/room.js")),
    ("state.js", include_str!("../../client/modules/state.js")),
    ("status.js", include_str!("../../client/modules/status.js")),
    ("games/connect-four.js", include_str!("../../client/modules/games/connect-four.js")),
    ("games/index.js", include_str!("../../client/modules/games/index.js")),
    ("games/marks.js", include_str!("../../client/modules/games/marks.js")),
    ("games/tic-tac-toe.js", include_str!("../../client/modules/games/tic-tac-toe.js")),
];

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// A static file: its content type, and `no-cache` so that a browser
/// revalidates after the server is upgraded.
fn file(content_type: &'static str, body: &'static str) -> ([(axum::http::HeaderName, &'static str); 2], &'static str) {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")], body)
}

/// `GET /modules/{*path}`: one of [`MODULES`], else 404 `client_module_not_found`.
async fn module(Path(path): Path<String>) -> Response {
    match MODULES.iter().find(|(name, _)| *name == path) {
        Some((_, body)) => file(JAVASCRIPT, body).into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "client_module_not_found", "no such module of the browser client")
            .into_response(),
    }
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(|| async { file("text/html; charset=utf-8", INDEX_HTML) }))
        .route("/app.js", get(|| async { file(JAVASCRIPT, APP_JS) }))
        .route("/style.css", get(|| async { file("text/css; charset=utf-8", STYLE_CSS) }))
        .route("/modules/{*path}", get(module))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::MODULES;

    fn files_under(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = format!("{prefix}{}", path.file_name().unwrap().to_string_lossy());
            if path.is_dir() {
                files_under(&path, &format!("{name}/"), out);
            } else {
                out.insert(name);
            }
        }
    }

    #[test]
    fn every_module_on_disk_is_served_and_every_import_resolves() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("client/modules");
        let mut on_disk = BTreeSet::new();
        files_under(&dir, "", &mut on_disk);
        let served: BTreeSet<String> = MODULES.iter().map(|(name, _)| name.to_string()).collect();
        assert_eq!(on_disk, served, "host/client/modules/ and MODULES differ");
        // `from './x.js'` in modules/a/b.js is modules/a/x.js; app.js imports `./modules/…`.
        let entry = ("../app.js", super::APP_JS);
        for (name, source) in MODULES.iter().copied().chain([entry]) {
            let base = Path::new(name).parent().unwrap();
            for import in source.split("from '").skip(1) {
                let target = &import[..import.find('\'').unwrap()];
                let resolved = base.join(target);
                let mut parts: Vec<&str> = Vec::new();
                for part in resolved.iter().map(|p| p.to_str().unwrap()) {
                    match part {
                        "." => {}
                        ".." => assert!(
                            parts.pop().is_some() || name == "../app.js",
                            "{name} imports above modules/: {target}"
                        ),
                        p => parts.push(p),
                    }
                }
                let resolved = parts.join("/");
                let resolved = resolved.strip_prefix("modules/").unwrap_or(&resolved);
                assert!(served.contains(resolved), "{name} imports {target}, which is not served ({resolved})");
            }
        }
    }
}
