//! A plugin version's browser UI: one ES module that exports
//! `mount(element, api)` (docs/game-ui.md), published beside the rules and
//! stored by its SHA-256 with the version it belongs to. This module owns
//! what the server accepts as one: the size cap, UTF-8 text, not HTML, and
//! an `export` of `mount`. Whether it really is a well-formed module is
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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UiError {
    #[error("the UI module is {size} bytes; the limit is {max} bytes (limits.max_ui_bytes)")]
    TooLarge { size: usize, max: usize },
    #[error("the UI is not an ES module exporting mount(element, api): {0}")]
    NotAModule(String),
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
    Ok(PluginUi { sha256: hex::encode(Sha256::digest(bytes)), source: Arc::from(text) })
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
    fn refuses_a_module_over_the_cap() {
        let source = format!("export function mount() {{}}\n//{}", "x".repeat(100));
        assert_eq!(check(source.as_bytes(), 64).unwrap_err(), UiError::TooLarge { size: source.len(), max: 64 });
        assert!(check(source.as_bytes(), source.len()).is_ok());
    }
}
