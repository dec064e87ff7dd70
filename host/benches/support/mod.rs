//! Shared by the benchmarks that drive a real `arcade serve` child process.
#![allow(dead_code)] // each benchmark uses a part

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `arcade serve` with the example games; killed (and its data
/// dir removed) on drop.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    _data: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts a server with these extra environment variables and waits
    /// until it listens.
    pub fn start(env: &[(&str, String)]) -> ServerProcess {
        let data = tempfile::tempdir().expect("a temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_arcade"))
            .args(["serve", "--listen", "127.0.0.1:0", "--preload"])
            .arg(arcade_test_plugins::examples_dir())
            .arg("--data-dir")
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start arcade");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("arcade exited").unwrap();
            if let Some(url) = line.strip_prefix("arcade listening on ") {
                break url.to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        ServerProcess { child, base, _data: data }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server process.
    pub fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A numeric environment variable, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A guest session on `base` for the device id `device` (16 characters or
/// more): its access token. Rooms and tickets need one.
pub async fn guest_token(http: &reqwest::Client, base: &str, device: &str) -> String {
    let answer: serde_json::Value = http
        .post(format!("{base}/v1/auth/guest"))
        .json(&serde_json::json!({ "device_id": device }))
        .send()
        .await
        .expect("POST /v1/auth/guest")
        .json()
        .await
        .expect("a JSON answer");
    answer["access_token"].as_str().unwrap_or_else(|| panic!("no session: {answer}")).to_string()
}
