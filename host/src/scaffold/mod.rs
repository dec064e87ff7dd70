//! `arcade new`: a game project that builds, tests and publishes outside
//! this repository. The Rust SDK is not on a registry, so the project gets a
//! copy of it (and of the WIT contract it is generated from) under
//! `vendor/`, taken from this binary's own build; its `Cargo.toml` is a
//! workspace of its own with the `plugin` profile the README's build line
//! names.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The languages a project can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
}

/// The SDK's sources and the contract, as this binary was built with them
/// (paths relative to the new project). `every_sdk_file_is_vendored` keeps
/// the list whole.
const VENDORED: &[(&str, &str)] = &[
    ("vendor/arcade-sdk/src/lib.rs", include_str!("../../../sdk/src/lib.rs")),
    ("vendor/arcade-sdk/src/adapter.rs", include_str!("../../../sdk/src/adapter.rs")),
    ("vendor/arcade-sdk/src/game.rs", include_str!("../../../sdk/src/game.rs")),
    ("vendor/arcade-sdk/src/host.rs", include_str!("../../../sdk/src/host.rs")),
    ("vendor/arcade-sdk/src/testing.rs", include_str!("../../../sdk/src/testing.rs")),
    ("vendor/arcade-sdk/src/sim/mod.rs", include_str!("../../../sdk/src/sim/mod.rs")),
    ("vendor/arcade-sdk/src/sim/native.rs", include_str!("../../../sdk/src/sim/native.rs")),
    ("vendor/wit/arcade.wit", include_str!("../../../wit/arcade.wit")),
];

/// The versions the SDK is built with (the workspace's; checked by a test).
const WIT_BINDGEN: &str = "=0.63.0";

const SDK_MANIFEST: &str = r#"# A copy of the Arcade Rust SDK (`arcade new` wrote it; it is not on a registry).
[package]
name = "arcade-sdk"
version = "0.1.0"
edition = "2024"
license = "Apache-2.0"
publish = false

[dependencies]
wit-bindgen = "WIT_BINDGEN"
serde = { version = "1", features = ["derive"] }
serde_json = "1"
"#;

const MANIFEST: &str = r#"[package]
name = "NAME"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
arcade-sdk = { path = "vendor/arcade-sdk" }
serde = { version = "1", features = ["derive"] }
serde_json = "1"

# A workspace of its own, whatever directory it is in.
[workspace]

# `cargo build --target wasm32-wasip2 --profile plugin`: small, fast
# components without unwinding tables.
[profile.plugin]
inherits = "release"
opt-level = 3
lto = true
codegen-units = 1
strip = true
panic = "abort"
"#;

const RULES: &str = include_str!("template/lib.rs");

const README: &str = r#"# NAME

Game rules for [Arcade](https://github.com/), written with its Rust SDK
(`vendor/arcade-sdk`, with the WIT contract in `vendor/wit`).

- Test the rules natively: `cargo test`
- Build the component: `rustup target add wasm32-wasip2` once, then
  `cargo build --target wasm32-wasip2 --profile plugin`; it is
  `target/wasm32-wasip2/plugin/CRATE.wasm`
- Check it: `arcade plugin validate target/wasm32-wasip2/plugin/CRATE.wasm`
- Publish it: `arcade plugin publish target/wasm32-wasip2/plugin/CRATE.wasm --server http://127.0.0.1:8080`
"#;

/// Whether `name` can name a game (and its crate): 1 to 64 of a-z 0-9 `-`,
/// starting with a letter (as the server's rule, and a crate name).
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        bail!("{name:?} is not a game name: 1 to 64 of a-z 0-9 -, starting with a letter");
    }
    Ok(())
}

/// Writes a new project `parent/name`; the files it wrote. Refuses a
/// directory that exists.
pub fn new_project(parent: &Path, name: &str, lang: Lang) -> anyhow::Result<Vec<PathBuf>> {
    check_name(name)?;
    let Lang::Rust = lang;
    let root = parent.join(name);
    if root.exists() {
        bail!("{} exists already", root.display());
    }
    let crate_name = name.replace('-', "_");
    let fill = |text: &str| text.replace("NAME", name).replace("CRATE", &crate_name);
    let mut files: Vec<(String, String)> = vec![
        ("Cargo.toml".into(), fill(MANIFEST)),
        ("src/lib.rs".into(), fill(RULES)),
        ("README.md".into(), fill(README)),
        (".gitignore".into(), "/target\n".into()),
        ("vendor/arcade-sdk/Cargo.toml".into(), SDK_MANIFEST.replace("WIT_BINDGEN", WIT_BINDGEN)),
    ];
    files.extend(VENDORED.iter().map(|(path, text)| (path.to_string(), text.to_string())));
    let mut written = Vec::new();
    for (path, text) in files {
        let path = root.join(path);
        let dir = path.parent().expect("a file in a directory");
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
    }

    fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { files_under(&path, out) } else { out.push(path) }
        }
    }

    #[test]
    fn every_sdk_file_is_vendored_with_the_workspace_versions() {
        let repo = repo();
        let mut sources = Vec::new();
        files_under(&repo.join("sdk/src"), &mut sources);
        files_under(&repo.join("wit"), &mut sources);
        let mut vendored: Vec<String> = VENDORED.iter().map(|(p, _)| p.to_string()).collect();
        vendored.sort();
        let mut wanted: Vec<String> = sources
            .iter()
            .map(|p| {
                let relative = p.strip_prefix(&repo).unwrap().to_string_lossy().into_owned();
                match relative.strip_prefix("sdk/") {
                    Some(rest) => format!("vendor/arcade-sdk/{rest}"),
                    None => format!("vendor/{relative}"),
                }
            })
            .collect();
        wanted.sort();
        assert_eq!(vendored, wanted, "VENDORED lists every file of sdk/src and wit/");
        let workspace = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
        assert!(workspace.contains(&format!("wit-bindgen = \"{WIT_BINDGEN}\"")), "the workspace's wit-bindgen");
        let sdk = std::fs::read_to_string(repo.join("sdk/Cargo.toml")).unwrap();
        let deps: Vec<&str> = sdk.split("[dependencies]").nth(1).unwrap().lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            deps,
            ["wit-bindgen = { workspace = true }", "serde = { workspace = true }", "serde_json = { workspace = true }"],
            "the SDK's dependencies are the ones SDK_MANIFEST names"
        );
        let plugin_profile = workspace.split("[profile.plugin]").nth(1).unwrap().split("\n\n").next().unwrap();
        assert!(MANIFEST.contains(&format!("[profile.plugin]{plugin_profile}")), "the workspace's plugin profile");
    }

    #[test]
    fn names_are_checked_and_a_project_is_never_written_over() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["", "Nim", "1nim", "nim_2", "nim game", &"n".repeat(65), "../nim"] {
            assert!(new_project(dir.path(), bad, Lang::Rust).is_err(), "{bad:?}");
        }
        let files = new_project(dir.path(), "my-nim", Lang::Rust).unwrap();
        assert!(files.iter().any(|f| f.ends_with("vendor/wit/arcade.wit")));
        let manifest = std::fs::read_to_string(dir.path().join("my-nim/Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"my-nim\"") && manifest.contains("[profile.plugin]"));
        let rules = std::fs::read_to_string(dir.path().join("my-nim/src/lib.rs")).unwrap();
        assert!(rules.contains("\"my-nim\"") && !rules.contains("NAME"), "the game is named");
        let err = new_project(dir.path(), "my-nim", Lang::Rust).unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
    }
}
