//! The server under test: a real `arcade serve` child process started from a
//! given binary, with the example plugins preloaded and a fresh data dir,
//! killed (and its data dir removed) on drop.
//!
//! The configuration is the default one (journal on, fsync on, filesystem
//! archive, default log level) except for the limits that would otherwise
//! refuse a load generator hammering from one address: the rate limits
//! and the per-address connection cap. The room limits stay at their
//! defaults. See [`BENCH_ENV`].
//!
//! The server's CPU time comes from `/proc/<pid>/stat` (utime and stime
//! apart, in clock ticks), its memory from `/proc/<pid>/status`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};

/// The configuration the benchmark changes from the defaults: limits only.
pub const BENCH_ENV: &[(&str, &str)] = &[
    ("ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE", "1000000000"),
    ("ARCADE_RATE_LIMITS__ROOM_PER_SECOND", "1000000"),
    ("ARCADE_RATE_LIMITS__WS_MESSAGES_PER_SECOND", "1000000"),
    ("ARCADE_RATE_LIMITS__IP_PER_MINUTE", "1000000000"),
    ("ARCADE_LIMITS__MAX_CONNECTIONS_PER_IP", "1000000"),
    // `max_rooms` stays at its default: it bounds live rooms, and finished
    // ones leave the oldest first beyond `max_finished_rooms`. (Builds from
    // before that change counted finished rooms too, and at over 1,000
    // games a second refused new rooms within a 30-s run at the default.)
];

/// How long a server may take to print its listening line (a debug build
/// compiles the preloaded plugins first).
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// Output lines kept for the error message of a server that fails to start.
const TAIL_LINES: usize = 40;

/// What to start.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The `arcade` executable.
    pub binary: PathBuf,
    /// A directory of plugin components (`--preload`), e.g.
    /// `<target>/plugins/examples` from `scripts/build-plugins.sh`.
    pub plugins: PathBuf,
    /// Where the fresh data dir is created (the system temp dir if `None`).
    pub data_parent: Option<PathBuf>,
    /// Extra `ARCADE_*` settings, applied after [`BENCH_ENV`].
    pub extra_env: Vec<(String, String)>,
}

/// A running `arcade serve`.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    _data: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the server and waits until it prints `arcade listening on …`.
    ///
    /// A build older than one of [`BENCH_ENV`]'s settings refuses it as an
    /// unknown field (the configuration denies unknown keys): such a setting
    /// is dropped, said on stderr, and the server started again without it
    /// (e.g. the per-address limits added after the "before #10" baselines).
    pub fn start(options: &ServerOptions) -> anyhow::Result<ServerProcess> {
        let mut skipped: Vec<&str> = Vec::new();
        loop {
            match Self::start_without(options, &skipped)? {
                Ok(server) => return Ok(server),
                Err(failure) => {
                    let unknown = BENCH_ENV.iter().map(|&(key, _)| key).find(|key| {
                        !skipped.contains(key) && failure.output.iter().any(|line| refuses_unknown(line, key))
                    });
                    match unknown {
                        Some(key) => {
                            eprintln!(
                                "lifecycle: {} does not know {key}; starting it without",
                                options.binary.display()
                            );
                            skipped.push(key);
                        }
                        None => bail!("{}", failure.message),
                    }
                }
            }
        }
    }

    /// One start with [`BENCH_ENV`] less `skipped`; `Ok(Err(..))` when the
    /// server did not come up (with its last output).
    fn start_without(options: &ServerOptions, skipped: &[&str]) -> anyhow::Result<Result<ServerProcess, StartFailure>> {
        if !options.binary.is_file() {
            bail!("no arcade binary at {}", options.binary.display());
        }
        if !options.plugins.is_dir() {
            bail!("no plugin directory at {} (run scripts/build-plugins.sh)", options.plugins.display());
        }
        let data = match &options.data_parent {
            Some(parent) => {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
                tempfile::Builder::new().prefix("arcade-lifecycle-").tempdir_in(parent)?
            }
            None => tempfile::Builder::new().prefix("arcade-lifecycle-").tempdir()?,
        };
        let mut command = Command::new(&options.binary);
        // The server reads every ARCADE_* variable as configuration (and
        // refuses unknown keys); RUST_LOG would change its default logging.
        for (key, _) in std::env::vars_os() {
            let key_text = key.to_string_lossy();
            if key_text.starts_with("ARCADE_") || key_text == "RUST_LOG" {
                command.env_remove(&key);
            }
        }
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--preload"])
            .arg(&options.plugins)
            .arg("--data-dir")
            .arg(data.path())
            .envs(BENCH_ENV.iter().filter(|(k, _)| !skipped.contains(k)).map(|&(k, v)| (k, v)))
            .envs(options.extra_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().with_context(|| format!("starting {}", options.binary.display()))?;

        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (listening_tx, listening_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        drain(stdout, tail.clone(), Some(listening_tx));
        drain(stderr, tail.clone(), None);

        let base = match listening_rx.recv_timeout(START_TIMEOUT) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                let output: Vec<String> = tail.lock().map(|t| t.iter().cloned().collect()).unwrap_or_default();
                let message = format!(
                    "{} did not print its listening line (exit status {status:?}); last output:\n{}",
                    options.binary.display(),
                    output.join("\n")
                );
                return Ok(Err(StartFailure { message, output }));
            }
        };
        Ok(Ok(ServerProcess { child, base, _data: data }))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The data dir (for a look at what the server wrote).
    pub fn data_dir(&self) -> &Path {
        self._data.path()
    }

    /// The CPU time the server has used so far.
    pub fn cpu_time(&self) -> Option<CpuTimes> {
        cpu_time_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// Resident memory of the server process.
    pub fn rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let kib: f64 =
            status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kib / 1024.0)
    }
}

/// A server that did not come up.
struct StartFailure {
    message: String,
    output: Vec<String>,
}

/// Whether a configuration error line refuses the field that `ARCADE_…`
/// variable `key` sets (`ARCADE_LIMITS__MAX_ROOMS` sets `max_rooms`).
fn refuses_unknown(line: &str, key: &str) -> bool {
    let field = key.rsplit("__").next().unwrap_or(key).to_ascii_lowercase();
    // "unknown field: found `ip_per_minute`, expected `one of `max_rooms`, …`"
    line.contains("unknown field") && line.contains(&format!("found `{field}`"))
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads a child's output line by line until it closes, keeping the last
/// lines, and hands the listening URL to `listening` when it appears.
fn drain(
    stream: impl Read + Send + 'static,
    tail: Arc<Mutex<VecDeque<String>>>,
    listening: Option<mpsc::Sender<String>>,
) {
    std::thread::spawn(move || {
        let mut listening = listening;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("arcade listening on ")
                && let Some(tx) = listening.take()
            {
                let _ = tx.send(url.trim().to_string());
            }
            if let Ok(mut tail) = tail.lock() {
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        }
    });
}

/// A process's CPU time so far, split as the kernel counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// In the process's own code (utime).
    pub user: Duration,
    /// In the kernel on the process's behalf (stime): system calls, and on
    /// loopback the receiving side's TCP input that a send runs.
    pub system: Duration,
}

impl CpuTimes {
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    /// What was spent between `earlier` and `self`.
    pub fn since(&self, earlier: &CpuTimes) -> CpuTimes {
        CpuTimes { user: self.user.saturating_sub(earlier.user), system: self.system.saturating_sub(earlier.system) }
    }
}

/// utime and stime of a `/proc/<pid>/stat` (or `/proc/self/stat`) file.
#[allow(unsafe_code)] // sysconf: see the SAFETY note
pub fn cpu_time_of(stat_path: &str) -> Option<CpuTimes> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime), counting from 1; `fields[0]` is field 3.
    let (user, system): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = if per_second > 0 { per_second as u64 } else { 100 };
    let time = |ticks: u64| Duration::from_nanos(ticks * 1_000_000_000 / per_second);
    Some(CpuTimes { user: time(user), system: time(system) })
}

/// This process's own CPU time (the load generator shares the machine).
pub fn own_cpu_time() -> Option<CpuTimes> {
    cpu_time_of("/proc/self/stat")
}

#[cfg(test)]
mod tests {
    use super::refuses_unknown;

    #[test]
    fn an_unknown_field_error_names_the_setting_it_refuses_not_the_ones_it_lists() {
        let line = "Error: unknown field: found `ip_per_minute`, expected `one of `player_per_minute`, \
                    `room_per_second``, for key \"RATE_LIMITS.IP_PER_MINUTE\"";
        assert!(refuses_unknown(line, "ARCADE_RATE_LIMITS__IP_PER_MINUTE"));
        assert!(!refuses_unknown(line, "ARCADE_RATE_LIMITS__PLAYER_PER_MINUTE"));
        assert!(!refuses_unknown("found `ip_per_minute`", "ARCADE_RATE_LIMITS__IP_PER_MINUTE"));
    }
}
