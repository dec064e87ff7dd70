//! A plugin version's browser UI (docs/game-ui.md): the files of a game
//! project's `ui/` directory, published beside the rules and stored with
//! the version they belong to: `index.js`, an ES module that exports
//! `mount(element, api)`, and static assets beside it (images, sounds,
//! fonts) that it loads relative to itself (`new URL('./back.png',
//! import.meta.url)`). This module owns what the server accepts: for the
//! module, the size cap, UTF-8 text, not HTML, and an `export` of `mount`;
//! for an asset, a plain file name whose extension names a type that cannot
//! run script when opened on its own (no HTML, SVG or JavaScript). Whether it really is a well-formed module is
//! decided by the browser, in the sandboxed board frame, which shows the
//! error when it is not; the check here catches the common mistakes (the
//! wrong file, a bundle without the export) at publish time, with a clear
//! error.

use std::sync::Arc;

use sha2::{Digest, Sha256};

/// One UI module, as stored and served.
#[derive(Debug)]
pub struct PluginUi {
    /// SHA-256 of the module's bytes, lowercase hex.
    pub sha256: String,
    pub source: Arc<str>,
}

impl PluginUi {
    pub fn size_bytes(&self) -> usize {
        self.source.len()
    }
}

/// The module's file name in `ui/` (the other files there are assets).
pub const MODULE_FILE: &str = "index.js";

/// One static asset of a UI.
#[derive(Debug)]
pub struct UiAsset {
    pub name: String,
    pub content_type: &'static str,
    pub sha256: String,
    pub bytes: Arc<[u8]>,
}

/// Asset types, by extension: images, sounds and fonts (nothing a browser
/// would run as a page or a script).
const ASSET_TYPES: [(&str, &str); 10] = [
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("mp3", "audio/mpeg"),
    ("ogg", "audio/ogg"),
    ("wav", "audio/wav"),
    ("woff2", "font/woff2"),
    ("woff", "font/woff"),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UiError {
    #[error("the UI module is {size} bytes; the limit is {max} bytes (limits.max_ui_bytes)")]
    TooLarge { size: usize, max: usize },
    #[error("the UI is not an ES module exporting mount(element, api): {0}")]
    NotAModule(String),
    #[error(
        "{0:?} is not a UI asset name: 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit, with an extension"
    )]
    BadAssetName(String),
    #[error("{0:?}: UI assets are images, sounds and fonts (png, jpg, gif, webp, mp3, ogg, wav, woff2, woff)")]
    AssetTypeNotAllowed(String),
    #[error("the UI assets would be {size} bytes; the limit is {max} bytes (limits.max_ui_assets_bytes)")]
    AssetsTooLarge { size: usize, max: usize },
    #[error("a UI has at most {0} assets")]
    TooManyAssets(usize),
}

/// SHA-256, lowercase hex (as `registry::sha256_hex`, which this module
/// sits below).
fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks an asset's name and type; the asset as stored.
pub fn check_asset(name: &str, bytes: &[u8]) -> Result<UiAsset, UiError> {
    let plain = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && !name.contains("..");
    let extension = name.rsplit_once('.').map(|(_, ext)| ext);
    let (Some(extension), true) = (extension, plain) else {
        return Err(UiError::BadAssetName(name.to_string()));
    };
    let content_type = ASSET_TYPES
        .iter()
        .find(|(ext, _)| *ext == extension)
        .map(|(_, content_type)| *content_type)
        .ok_or_else(|| UiError::AssetTypeNotAllowed(name.to_string()))?;
    Ok(UiAsset { name: name.to_string(), content_type, sha256: sha256_hex(bytes), bytes: Arc::from(bytes) })
}

/// Checks an uploaded UI module: at most `max_bytes`, UTF-8, not HTML, and
/// exporting `mount`.
pub fn check(bytes: &[u8], max_bytes: usize) -> Result<PluginUi, UiError> {
    if bytes.len() > max_bytes {
        return Err(UiError::TooLarge { size: bytes.len(), max: max_bytes });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| UiError::NotAModule(format!("not UTF-8 text ({e})")))?;
    let start = text.trim_start_matches('\u{feff}').trim_start();
    if start.is_empty() {
        return Err(UiError::NotAModule("the file is empty".into()));
    }
    if start.starts_with('<') {
        return Err(UiError::NotAModule("it starts with '<' (HTML or XML?)".into()));
    }
    if text.contains('\0') {
        return Err(UiError::NotAModule("it contains NUL bytes (a binary file?)".into()));
    }
    if !exports_mount(text) {
        return Err(UiError::NotAModule(
            "no `export function mount`, `export const mount` or `export { … mount … }` found".into(),
        ));
    }
    Ok(PluginUi { sha256: sha256_hex(bytes), source: Arc::from(text) })
}

/// Whether `text` has an `export` of a binding named `mount`: `export
/// [async] function mount`, `export const|let|var mount`, or an export list
/// naming it (`export { mount }`, `export { draw as mount }`).
fn exports_mount(text: &str) -> bool {
    text.match_indices("export").any(|(at, _)| {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.') {
            return false;
        }
        let rest = text[at + "export".len()..].trim_start();
        if let Some(list) = rest.strip_prefix('{') {
            let list = list.split('}').next().unwrap_or("");
            return list.split(',').any(|item| item.split_whitespace().last() == Some("mount"));
        }
        let rest = rest.strip_prefix("async").map_or(rest, str::trim_start);
        let words: Vec<&str> = rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).take(2).collect();
        matches!(words.as_slice(), ["function" | "const" | "let" | "var", "mount"])
    })
}

#[cfg(test)]
mod tests {
    use std::ops::Add;

    use super::*;

    #[test]
    fn accepts_the_ways_of_exporting_mount() {
        for source in [
            "export function mount(el, api) {}",
            "// a board\nexport async function mount(el, api) {}",
            "export const mount = (el, api) => {};",
            "function draw() {}\nexport { draw as mount };",
            "const mount = () => {};\nexport { helper, mount };",
            "\u{feff}export let mount = null;",
        ] {
            let ui = check(source.as_bytes(), 1 << 10).unwrap_or_else(|e| panic!("{source:?}: {e}"));
            assert_eq!(ui.sha256, crate::registry::sha256_hex(source.as_bytes()));
            assert_eq!(ui.size_bytes(), source.len());
        }
    }

    #[test]
    fn refuses_what_is_not_a_ui_module() {
        for (source, why) in [
            (&b"<!doctype html><script>export function mount(){}</script>"[..], "HTML"),
            (b"\xff\xfeexport function mount() {}", "UTF-8"),
            (b"\0asm\x01\0\0\0", "NUL"),
            (b"   \n", "empty"),
            (b"function mount(el, api) {}", "mount"),
            (b"export function mountain() {}", "mount"),
            (b"reexport function mount() {}", "mount"),
            (b"export { mounted };", "mount"),
            (b"module.exports.mount = () => {};", "mount"),
            (b"export function mount() {}\0", "NUL"),
        ] {
            match check(source, 1 << 10) {
                Err(UiError::NotAModule(message)) => assert!(message.contains(why), "{source:?}: {message}"),
                other => panic!("{source:?} was {other:?}"),
            }
        }
    }

    #[test]
    fn an_asset_is_an_image_sound_or_font_with_a_plain_name() {
        let asset = check_asset("card-back.png", b"\x89PNG").unwrap();
        assert_eq!((asset.content_type, asset.bytes.len()), ("image/png", 4));
        assert_eq!(check_asset("click_1.ogg", b"").unwrap().content_type, "audio/ogg");
        for name in
            ["", "Back.png", "../x.png", "a/b.png", ".hidden.png", "noext", "x..png", &"a".repeat(61).add(".png")]
        {
            assert_eq!(check_asset(name, b"").unwrap_err(), UiError::BadAssetName(name.to_string()), "{name:?}");
        }
        for name in ["page.html", "logo.svg", "more.js", "data.json", "index.mjs"] {
            assert_eq!(check_asset(name, b"").unwrap_err(), UiError::AssetTypeNotAllowed(name.to_string()));
        }
    }

    #[test]
    fn refuses_a_module_over_the_cap() {
        let source = format!("export function mount() {{}}\n//{}", "x".repeat(100));
        assert_eq!(check(source.as_bytes(), 64).unwrap_err(), UiError::TooLarge { size: source.len(), max: 64 });
        assert!(check(source.as_bytes(), source.len()).is_ok());
    }
}
