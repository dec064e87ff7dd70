//! The browser client served at `/`: static HTML, CSS and JavaScript ES
//! modules compiled into the binary (no CDN, no build step). The files are
//! in `host/client/`: `index.html`, `style.css`, `app.js` (the entry module:
//! wires the page to the modules) and `modules/` (state, HTTP, status line,
//! lobby, open rooms, matchmaking, the room WebSocket, rendering, the
//! board frame's host side, archived games and the replay viewer), served
//! under `/modules/`, and `ui/` (the board frame: the page a game's own UI
//! module runs in, served under `/ui/`).
//!
//! The board frame (`/ui/frame.html`) goes out with a CSP that sandboxes
//! it even when it is opened on its own (`sandbox allow-scripts`: an
//! opaque origin), lets it load scripts only from this server, and no
//! network at all (`connect-src 'none'`, no forms, no base URL); only this
//! server's pages may frame it. Its script and the UI modules are fetched
//! by that opaque origin, so they carry `Access-Control-Allow-Origin: *`.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::App;
use super::error::ApiError;

const INDEX_HTML: &str = include_str!("../../client/index.html");
const APP_JS: &str = include_str!("../../client/app.js");
const STYLE_CSS: &str = include_str!("../../client/style.css");

/// Every module under `host/client/modules/`, by its path there (a unit
/// test checks that the list and the directory agree).
const MODULES: [(&str, &str); 12] = [
    ("account.js", include_str!("../../client/modules/account.js")),
    ("api.js", include_str!("../../client/modules/api.js")),
    ("board.js", include_str!("../../client/modules/board.js")),
    ("ladder.js", include_str!("../../client/modules/ladder.js")),
    ("lobby.js", include_str!("../../client/modules/lobby.js")),
    ("matchmaking.js", include_str!("../../client/modules/matchmaking.js")),
    ("open-rooms.js", include_str!("../../client/modules/open-rooms.js")),
    ("render.js", include_str!("../../client/modules/render.js")),
    ("replays.js", include_str!("../../client/modules/replays.js")),
    ("room.js", include_str!("../../client/modules/room.js")),
    ("state.js", include_str!("../../client/modules/state.js")),
    ("status.js", include_str!("../../client/modules/status.js")),
];

const FRAME_HTML: &str = include_str!("../../client/ui/frame.html");
const FRAME_JS: &str = include_str!("../../client/ui/frame.js");
const FRAME_CSS: &str = include_str!("../../client/ui/frame.css");

/// The board frame's policy (see the module header).
pub const FRAME_CSP: &str = "sandbox allow-scripts; default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; \
     connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

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

/// A file of the board frame, fetched by its opaque origin.
fn frame_file(content_type: &'static str, body: &'static str) -> Response {
    let (headers, body) = file(content_type, body);
    (headers, [(ACCESS_CONTROL_ALLOW_ORIGIN, "*"), (X_CONTENT_TYPE_OPTIONS, "nosniff")], body).into_response()
}

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(|| async { file("text/html; charset=utf-8", INDEX_HTML) }))
        .route("/app.js", get(|| async { file(JAVASCRIPT, APP_JS) }))
        .route("/style.css", get(|| async { file("text/css; charset=utf-8", STYLE_CSS) }))
        .route("/modules/{*path}", get(module))
        .route(
            "/ui/frame.html",
            get(|| async {
                let (headers, body) = file("text/html; charset=utf-8", FRAME_HTML);
                (headers, [(CONTENT_SECURITY_POLICY, FRAME_CSP), (X_CONTENT_TYPE_OPTIONS, "nosniff")], body)
            }),
        )
        .route("/ui/frame.js", get(|| async { frame_file(JAVASCRIPT, FRAME_JS) }))
        .route("/ui/frame.css", get(|| async { frame_file("text/css; charset=utf-8", FRAME_CSS) }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::{APP_JS, INDEX_HTML, MODULES};

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

    /// Each game's board is its own UI module (plugins/<game>/ui): the
    /// client's page and modules name no game, nor its pieces.
    #[test]
    fn the_client_knows_no_game() {
        let games = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins");
        let mut names: Vec<String> = std::fs::read_dir(&games)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !["js", "python"].contains(&name.as_str()))
            .collect();
        assert!(names.len() >= 4, "the example games are in plugins/: {names:?}");
        names.extend(["data-cell", "data-mark", "\"X\"", "'X'", "thrust", "{ cell"].map(String::from));
        for (file, source) in MODULES.iter().copied().chain([("app.js", APP_JS), ("index.html", INDEX_HTML)]) {
            for name in &names {
                assert!(
                    !source.contains(name.as_str()),
                    "{file} mentions {name:?}: game code belongs in the game's UI module"
                );
            }
        }
    }
}
