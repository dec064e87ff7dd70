//! docs/architecture.md names real files: every repository path it quotes
//! (`host/…`, `lambda/…`, `sdk/…`, `plugins/…`, `tests/…`, `infra/…`,
//! `scripts/…`, in backticks) exists, so the map cannot drift from the
//! tree unnoticed; and the crates of its crate map are the crates of
//! `host/crates/`.

use std::path::Path;

const ROOTS: [&str; 7] = ["host/", "lambda/", "sdk/", "plugins/", "tests/", "infra/", "scripts/"];

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent")
}

/// Every backticked repository path in `text` (a trailing `/` is kept).
fn quoted_paths(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| ROOTS.iter().any(|root| quoted.starts_with(root)) && !quoted.contains(' '))
        .collect()
}

#[test]
fn every_path_the_architecture_doc_names_exists() {
    let text = std::fs::read_to_string(repository().join("docs/architecture.md")).expect("docs/architecture.md");
    let paths = quoted_paths(&text);
    assert!(paths.len() >= 20, "read the doc: only {paths:?}");
    let missing: Vec<&str> = paths.iter().copied().filter(|p| !repository().join(p).exists()).collect();
    assert!(missing.is_empty(), "docs/architecture.md names paths that do not exist: {missing:?}");
}

#[test]
fn the_crate_map_lists_every_host_crate() {
    let text = std::fs::read_to_string(repository().join("docs/architecture.md")).expect("docs/architecture.md");
    for entry in std::fs::read_dir(repository().join("host/crates")).expect("host/crates") {
        let manifest = std::fs::read_to_string(entry.expect("an entry").path().join("Cargo.toml")).expect("Cargo.toml");
        let name = manifest
            .lines()
            .find_map(|line| line.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .expect("a package name");
        assert!(text.contains(&format!("`{name}`")), "docs/architecture.md's crate map does not name `{name}`");
    }
}

#[test]
fn a_quoted_path_is_found_and_prose_is_not() {
    let text = "see `host/src/room/actor.rs` (`spawn`) and `host/nowhere.rs`, not `hostile` or `host/src a b`";
    assert_eq!(quoted_paths(text), ["host/src/room/actor.rs", "host/nowhere.rs"]);
}
