//! `arcade new`: a game project that tests, builds and publishes outside
//! this repository, in Rust, Python or JavaScript. The SDKs are not on a
//! registry, so the project gets a copy of its language's SDK (and of the
//! WIT contract the component is built against) under `vendor/`, taken from
//! this binary's own build. A Rust project is a workspace of its own with
//! the `plugin` profile the README's build line names; a Python one runs
//! its tests with pytest and builds with componentize-py; a JavaScript one
//! with `node --test` and componentize-js.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// The languages a project can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

/// A project's file: its path relative to the project, and its text.
type File = (&'static str, &'static str);

/// The contract, as this binary was built with it.
const WIT: File = ("vendor/wit/arcade.wit", include_str!("../../../wit/arcade.wit"));

/// The Rust SDK's sources (`every_sdk_file_is_vendored` keeps the lists whole).
const RUST_SDK: &[File] = &[
    ("vendor/arcade-sdk/src/lib.rs", include_str!("../../../sdk/src/lib.rs")),
    ("vendor/arcade-sdk/src/adapter.rs", include_str!("../../../sdk/src/adapter.rs")),
    ("vendor/arcade-sdk/src/game.rs", include_str!("../../../sdk/src/game.rs")),
    ("vendor/arcade-sdk/src/host.rs", include_str!("../../../sdk/src/host.rs")),
    ("vendor/arcade-sdk/src/testing.rs", include_str!("../../../sdk/src/testing.rs")),
    ("vendor/arcade-sdk/src/sim/mod.rs", include_str!("../../../sdk/src/sim/mod.rs")),
    ("vendor/arcade-sdk/src/sim/native.rs", include_str!("../../../sdk/src/sim/native.rs")),
];

/// The Python SDK (`sdk-py`): the package and componentize-py's entry modules.
const PYTHON_SDK: &[File] = &[
    ("vendor/sdk-py/pyproject.toml", include_str!("../../../sdk-py/pyproject.toml")),
    ("vendor/sdk-py/arcade_sdk/__init__.py", include_str!("../../../sdk-py/arcade_sdk/__init__.py")),
    ("vendor/sdk-py/arcade_sdk/__main__.py", include_str!("../../../sdk-py/arcade_sdk/__main__.py")),
    ("vendor/sdk-py/arcade_sdk/_adapter.py", include_str!("../../../sdk-py/arcade_sdk/_adapter.py")),
    ("vendor/sdk-py/arcade_sdk/_host.py", include_str!("../../../sdk-py/arcade_sdk/_host.py")),
    ("vendor/sdk-py/arcade_sdk/_types.py", include_str!("../../../sdk-py/arcade_sdk/_types.py")),
    ("vendor/sdk-py/arcade_sdk/component.py", include_str!("../../../sdk-py/arcade_sdk/component.py")),
    ("vendor/sdk-py/arcade_sdk/testing.py", include_str!("../../../sdk-py/arcade_sdk/testing.py")),
    ("vendor/sdk-py/glue/app.py", include_str!("../../../sdk-py/glue/app.py")),
    ("vendor/sdk-py/glue/rules.py", include_str!("../../../sdk-py/glue/rules.py")),
];

/// The JavaScript SDK (`sdk-js`): the package an npm `file:` dependency installs.
const JS_SDK: &[File] = &[
    ("vendor/arcade-sdk/package.json", include_str!("../../../sdk-js/package.json")),
    ("vendor/arcade-sdk/bin/build.mjs", include_str!("../../../sdk-js/bin/build.mjs")),
    ("vendor/arcade-sdk/src/adapter.js", include_str!("../../../sdk-js/src/adapter.js")),
    ("vendor/arcade-sdk/src/game.js", include_str!("../../../sdk-js/src/game.js")),
    ("vendor/arcade-sdk/src/host.js", include_str!("../../../sdk-js/src/host.js")),
    ("vendor/arcade-sdk/src/index.d.ts", include_str!("../../../sdk-js/src/index.d.ts")),
    ("vendor/arcade-sdk/src/index.js", include_str!("../../../sdk-js/src/index.js")),
    ("vendor/arcade-sdk/src/testing.d.ts", include_str!("../../../sdk-js/src/testing.d.ts")),
    ("vendor/arcade-sdk/src/testing.js", include_str!("../../../sdk-js/src/testing.js")),
    ("vendor/arcade-sdk/types/wit/game.d.ts", include_str!("../../../sdk-js/types/wit/game.d.ts")),
    (
        "vendor/arcade-sdk/types/wit/interfaces/arcade-game-host.d.ts",
        include_str!("../../../sdk-js/types/wit/interfaces/arcade-game-host.d.ts"),
    ),
    (
        "vendor/arcade-sdk/types/wit/interfaces/arcade-game-rules.d.ts",
        include_str!("../../../sdk-js/types/wit/interfaces/arcade-game-rules.d.ts"),
    ),
    (
        "vendor/arcade-sdk/types/wit/interfaces/arcade-game-sim.d.ts",
        include_str!("../../../sdk-js/types/wit/interfaces/arcade-game-sim.d.ts"),
    ),
    (
        "vendor/arcade-sdk/types/wit/interfaces/arcade-game-types.d.ts",
        include_str!("../../../sdk-js/types/wit/interfaces/arcade-game-types.d.ts"),
    ),
    ("vendor/arcade-sdk/wit/arcade.wit", include_str!("../../../sdk-js/wit/arcade.wit")),
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

const RUST_RULES: &str = include_str!("template/lib.rs");

const RUST_README: &str = r#"# NAME

Game rules for [Arcade](https://github.com/), written with its Rust SDK
(`vendor/arcade-sdk`, with the WIT contract in `vendor/wit`).

- Test the rules natively: `cargo test`
- Build the component: `rustup target add wasm32-wasip2` once, then
  `cargo build --target wasm32-wasip2 --profile plugin`; it is
  `target/wasm32-wasip2/plugin/CRATE.wasm`
- Check it: `arcade plugin check target/wasm32-wasip2/plugin/CRATE.wasm`
- Publish it, with its board in the browser (`ui/index.js`, uploaded
  with the rules when it is there): `arcade plugin publish target/wasm32-wasip2/plugin/CRATE.wasm --server http://127.0.0.1:8080`
"#;

const PYTHON_RULES: &str = include_str!("template/game.py");
const PYTHON_TESTS: &str = include_str!("template/test_game.py");

const PYTHON_README: &str = r#"# NAME

Game rules for [Arcade](https://github.com/), written with its Python SDK
(`vendor/sdk-py`, with the WIT contract in `vendor/wit`). The rules are
`game.py`; their tests `test_game.py`.

- Once: `pip install pytest componentize-py==0.25.1` (in a venv)
- Test the rules natively: `pytest`
- Build the component (about 18 MB: it carries CPython):
  `PYTHONPATH=vendor/sdk-py python -m arcade_sdk build -o NAME.wasm`
- Check it: `arcade plugin check NAME.wasm`
- Publish it, with its board in the browser (`ui/index.js`, uploaded
  with the rules when it is there): `arcade plugin publish NAME.wasm --server http://127.0.0.1:8080`
"#;

const PYTEST_INI: &str = "[pytest]\npythonpath = vendor/sdk-py\ntestpaths = .\nnorecursedirs = vendor\n";

const JS_RULES: &str = include_str!("template/game.js");

/// The game's board in the browser (every language): `arcade plugin
/// publish` uploads it with the component.
const UI_MODULE: &str = include_str!("template/ui.js");
const JS_TESTS: &str = include_str!("template/game.test.js");

const JS_MANIFEST: &str = r#"{
  "name": "NAME",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {
    "test": "node --test",
    "build": "arcade-build-js game.js -o NAME.wasm"
  },
  "dependencies": {
    "arcade-sdk": "file:vendor/arcade-sdk"
  }
}
"#;

const JS_README: &str = r#"# NAME

Game rules for [Arcade](https://github.com/), written with its JavaScript
SDK (`vendor/arcade-sdk`, which carries the WIT contract and its
TypeScript types). The rules are `game.js`; their tests `game.test.js`.

- Once: `npm install` (Node 20 or later; it installs componentize-js, about
  390 MB, and the SDK, copied rather than linked: see `.npmrc`)
- Test the rules natively: `npm test`
- Build the component (about 12 MB: it carries a JavaScript engine): `npm run build`
- Check it: `arcade plugin check NAME.wasm`
- Publish it, with its board in the browser (`ui/index.js`, uploaded
  with the rules when it is there): `arcade plugin publish NAME.wasm --server http://127.0.0.1:8080`
"#;

/// npm installs a `file:` dependency's own dependencies only when it copies it.
const NPMRC: &str = "install-links=true\n";

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
    let root = parent.join(name);
    if root.exists() {
        bail!("{} exists already", root.display());
    }
    let mut written = Vec::new();
    for (path, text) in project_files(name, lang) {
        let path = root.join(path);
        let dir = path.parent().expect("a file in a directory");
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// What to run in a new project, for `arcade new`'s last line.
pub fn next_steps(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "cargo test",
        Lang::Python => "pytest",
        Lang::Js => "npm install && npm test",
    }
}

/// The files of a new project `name` in `lang` (paths relative to it).
fn project_files(name: &str, lang: Lang) -> Vec<(String, String)> {
    let crate_name = name.replace('-', "_");
    let fill = |text: &str| text.replace("NAME", name).replace("CRATE", &crate_name);
    let (own, sdk): (Vec<(&str, String)>, &[File]) = match lang {
        Lang::Rust => (
            vec![
                ("Cargo.toml", fill(MANIFEST)),
                ("src/lib.rs", fill(RUST_RULES)),
                ("README.md", fill(RUST_README)),
                (".gitignore", "/target\n".into()),
                ("vendor/arcade-sdk/Cargo.toml", SDK_MANIFEST.replace("WIT_BINDGEN", WIT_BINDGEN)),
            ],
            RUST_SDK,
        ),
        Lang::Python => (
            vec![
                ("game.py", fill(PYTHON_RULES)),
                ("test_game.py", fill(PYTHON_TESTS)),
                ("pytest.ini", PYTEST_INI.into()),
                ("README.md", fill(PYTHON_README)),
                (".gitignore", "*.wasm\n__pycache__/\n.pytest_cache/\n".into()),
            ],
            PYTHON_SDK,
        ),
        Lang::Js => (
            vec![
                ("game.js", fill(JS_RULES)),
                ("game.test.js", fill(JS_TESTS)),
                ("package.json", fill(JS_MANIFEST)),
                ("README.md", fill(JS_README)),
                (".npmrc", NPMRC.into()),
                (".gitignore", "*.wasm\nnode_modules/\n".into()),
            ],
            JS_SDK,
        ),
    };
    let vendored = sdk.iter().chain([&WIT]).map(|(path, text)| (*path, text.to_string()));
    own.into_iter()
        .chain([("ui/index.js", fill(UI_MODULE))])
        .chain(vendored)
        .map(|(path, text)| (path.to_string(), text))
        .collect()
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

    /// The files of the repository's `dirs` (git's view: no caches, no
    /// node_modules, no tests of the SDK itself) as the vendored paths
    /// `vendor` gives them, sorted.
    fn sources(dirs: &[&str], vendor: impl Fn(&str) -> String) -> Vec<String> {
        let repo = repo();
        let mut files = Vec::new();
        for dir in dirs {
            let path = repo.join(dir);
            if path.is_dir() { files_under(&path, &mut files) } else { files.push(path) }
        }
        let mut vendored: Vec<String> = files
            .iter()
            .map(|p| p.strip_prefix(&repo).unwrap().to_string_lossy().into_owned())
            .filter(|p| !p.contains("__pycache__") && !p.contains("node_modules"))
            .map(|p| vendor(&p))
            .collect();
        vendored.sort();
        vendored
    }

    fn listed(files: &[File]) -> Vec<String> {
        let mut paths: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
        paths.sort();
        paths
    }

    #[test]
    fn every_sdk_file_is_vendored_with_the_workspace_versions() {
        let repo = repo();
        assert_eq!(listed(&[WIT]), sources(&["wit"], |p| format!("vendor/{p}")), "the contract");
        let rust = sources(&["sdk/src"], |p| p.replacen("sdk/", "vendor/arcade-sdk/", 1));
        assert_eq!(listed(RUST_SDK), rust, "RUST_SDK lists every file of sdk/src");
        let python = sources(&["sdk-py/pyproject.toml", "sdk-py/arcade_sdk", "sdk-py/glue"], |p| format!("vendor/{p}"));
        assert_eq!(listed(PYTHON_SDK), python, "PYTHON_SDK lists every file of the Python SDK package");
        let js = sources(&["sdk-js/package.json", "sdk-js/bin", "sdk-js/src", "sdk-js/types", "sdk-js/wit"], |p| {
            p.replacen("sdk-js/", "vendor/arcade-sdk/", 1)
        });
        assert_eq!(listed(JS_SDK), js, "JS_SDK lists every file of the JavaScript SDK package");
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
        for (lang, rules) in [(Lang::Rust, "src/lib.rs"), (Lang::Python, "game.py"), (Lang::Js, "game.js")] {
            let name = format!("my-{lang:?}-nim").to_lowercase();
            new_project(dir.path(), &name, lang).unwrap();
            let rules = std::fs::read_to_string(dir.path().join(&name).join(rules)).unwrap();
            assert!(rules.contains(&format!("'{name}'")) || rules.contains(&format!("\"{name}\"")), "{lang:?}: named");
            assert!(!rules.contains("NAME"), "{lang:?}: no placeholder left");
        }
        let err = new_project(dir.path(), "my-nim", Lang::Rust).unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
    }
}
