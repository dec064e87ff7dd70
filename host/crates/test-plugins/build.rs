//! Builds every plugin the tests load with a nested `cargo build --target
//! wasm32-wasip2 --profile plugin`, into its own target dir under `OUT_DIR`
//! (the outer build holds the lock of the workspace's target dir), and
//! collects them as `$OUT_DIR/plugins/{examples,fixtures}/<name>.wasm`,
//! each example with its browser UI beside it (`<name>.ui.js`, the module,
//! and `<name>.ui/`, its assets) —
//! the layout `scripts/build-plugins.sh` writes for `arcade serve`.
//!
//! Reruns when a plugin, the fixtures, the SDK, the WIT contract or the
//! lock file change; the nested build itself is incremental.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TRIPLE: &str = "wasm32-wasip2";
const EXAMPLES: [&str; 4] = ["tic-tac-toe", "connect-four", "high-card-duel", "arena"];
const FIXTURES: [&str; 5] = ["spinner", "memory-bomb", "panicker", "file-reader", "leaky-hand"];

fn main() {
    let root = Path::new(&env::var_os("CARGO_MANIFEST_DIR").unwrap()).ancestors().nth(3).unwrap().to_path_buf();
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    for watched in ["plugins", "tests/plugins", "sdk", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = out.join("target");
    let packages: Vec<&str> = EXAMPLES.iter().chain(&FIXTURES).copied().collect();
    cargo_build(&root, &target_dir, &packages, &[]);
    let plugins = out.join("plugins");
    for (dir, names) in [("examples", &EXAMPLES[..]), ("fixtures", &FIXTURES[..])] {
        std::fs::create_dir_all(plugins.join(dir)).unwrap();
        for name in names {
            copy(&artifact(&target_dir, name), &plugins.join(dir).join(format!("{name}.wasm")));
            if dir == "examples" {
                copy_ui(&root.join("plugins").join(name).join("ui"), &plugins.join(dir), name);
            }
        }
    }
    // tic-tac-toe 2.0.0 (feature `v2`): built after v1's artifact was copied
    // out, in the same target dir (both builds stay cached there).
    cargo_build(&root, &target_dir, &["tic-tac-toe"], &["--features", "v2"]);
    copy(&artifact(&target_dir, "tic-tac-toe"), &plugins.join("fixtures").join("tic-tac-toe-v2.wasm"));
    println!("cargo:rustc-env=ARCADE_TEST_PLUGINS_DIR={}", plugins.display());
}

fn cargo_build(root: &Path, target_dir: &Path, packages: &[&str], extra: &[&str]) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--target", TRIPLE, "--profile", "plugin", "--target-dir"])
        .arg(target_dir)
        .args(packages.iter().flat_map(|p| ["-p", p]))
        .args(extra);
    // What the outer build sets for its own crates must not leak into the
    // plugins' build: flags for the host target, clippy's driver (under
    // `cargo clippy`), the outer target dir.
    for var in ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS", "RUSTC_WORKSPACE_WRAPPER", "RUSTC_WRAPPER", "CARGO_TARGET_DIR"]
    {
        command.env_remove(var);
    }
    let status = command.status().unwrap_or_else(|e| panic!("running cargo for the test plugins: {e}"));
    assert!(
        status.success(),
        "building the test plugins ({}) failed: {status}; is the {TRIPLE} target installed \
         (`rustup target add {TRIPLE}`, which scripts/setup.sh does)?",
        packages.join(", ")
    );
}

/// Cargo names the component after the library, with `_` for `-`.
fn artifact(target_dir: &Path, package: &str) -> PathBuf {
    target_dir.join(TRIPLE).join("plugin").join(format!("{}.wasm", package.replace('-', "_")))
}

/// A game's `ui/`: `index.js` as `<name>.ui.js`, the other files (its
/// assets) into `<name>.ui/`.
fn copy_ui(ui: &Path, examples: &Path, name: &str) {
    copy(&ui.join("index.js"), &examples.join(format!("{name}.ui.js")));
    let assets = examples.join(format!("{name}.ui"));
    let _ = std::fs::remove_dir_all(&assets);
    for entry in std::fs::read_dir(ui).unwrap_or_else(|e| panic!("listing {}: {e}", ui.display())) {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != "index.js") {
            std::fs::create_dir_all(&assets).unwrap();
            copy(&path, &assets.join(path.file_name().unwrap()));
        }
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
}
