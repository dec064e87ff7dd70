//! Where the compiled test plugins are (built by this crate's build script):
//! the example games (`examples/`: tic-tac-toe, connect-four,
//! high-card-duel, arena) and the fixtures (`fixtures/`: spinner,
//! memory-bomb, panicker, file-reader, tic-tac-toe-v2).

use std::path::PathBuf;

/// The directory holding `examples/` and `fixtures/`.
pub fn plugins_dir() -> PathBuf {
    PathBuf::from(env!("ARCADE_TEST_PLUGINS_DIR"))
}

/// The example games, as `arcade serve --plugins` preloads them.
pub fn examples_dir() -> PathBuf {
    plugins_dir().join("examples")
}

/// Hostile and versioned fixtures.
pub fn fixtures_dir() -> PathBuf {
    plugins_dir().join("fixtures")
}

/// `<name>.wasm` among the examples or the fixtures; panics naming both
/// directories when there is none.
pub fn plugin_path(name: &str) -> PathBuf {
    [examples_dir(), fixtures_dir()]
        .map(|dir| dir.join(format!("{name}.wasm")))
        .into_iter()
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("no test plugin {name}.wasm in {} or {}", examples_dir().display(), fixtures_dir().display())
        })
}
