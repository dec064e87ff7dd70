//! Hostile fixture: the first action reads `/etc/passwd` with `std::fs` and
//! sends it to everyone. Using `std::fs` makes the component import
//! `wasi:filesystem/*`, which the server refuses at publish time.

use hostile::{Hostile, Misbehaviour};

pub struct ReadFile;

impl Misbehaviour for ReadFile {
    const NAME: &'static str = "file-reader";
    const DESCRIPTION: &'static str = "Test fixture: the first action reads /etc/passwd.";

    fn misbehave() -> Vec<arcade_sdk::Event> {
        const TARGET: &str = "/etc/passwd";
        let data = match std::fs::read_to_string(TARGET) {
            Ok(contents) => serde_json::json!({ "path": TARGET, "contents": contents }),
            Err(error) => serde_json::json!({ "path": TARGET, "error": error.to_string() }),
        };
        vec![arcade_sdk::Event::public("file", &data)]
    }
}

arcade_sdk::export_game!(Hostile<ReadFile>);
