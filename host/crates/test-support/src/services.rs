//! The real PostgreSQL and S3-protocol servers that `scripts/services.sh
//! start` runs: their addresses come from the environment or from the env
//! file the script writes. Each test gets its own database or bucket.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

pub(crate) const HOW_TO_START: &str = "the tests need the test services: run `scripts/services.sh start` \
     (the tests read the env file it writes), then re-run the tests";

/// Addresses of the running test services.
#[derive(Clone, Debug)]
pub struct TestServices {
    pub pg_url: String,
    pub s3_endpoint: String,
    pub aws_access_key_id: String,
    pub aws_secret_access_key: String,
    /// Where `scripts/services.sh` keeps its state (for pg-stop / pg-start).
    pub services_dir: PathBuf,
}

/// The env file written by `scripts/services.sh start`, looked for where
/// the script puts it: `$ARCADE_SERVICES_DIR`, `$CARGO_TARGET_DIR/.services`,
/// or `.services` in the target directory this binary was built into.
fn env_file() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(dir) = std::env::var("ARCADE_SERVICES_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        candidates.push(Path::new(&dir).join(".services"));
    }
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).map(|dir| dir.join(".services")));
    }
    candidates.push(crate::workspace_root().join("target/.services"));
    candidates.into_iter().map(|dir| dir.join("env")).find(|file| file.is_file())
}

/// `export KEY='value'` lines.
fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("export "))
        .filter_map(|assignment| assignment.split_once('='))
        .map(|(key, value)| (key.to_string(), value.trim_matches('\'').trim_matches('"').to_string()))
        .collect()
}

/// A variable of `scripts/services.sh`'s env file (`ARCADE_TEST_PG_URL`,
/// `ARCADE_TEST_REDIS_URL`, ...): from the environment, else from the env
/// file, so `cargo test` finds the services without `eval`-ing it; panics
/// with how to start them when neither has it.
pub fn service_var(key: &str) -> String {
    optional_service_var(key).unwrap_or_else(|| panic!("{key} is not set: {HOW_TO_START}"))
}

fn optional_service_var(key: &str) -> Option<String> {
    std::env::var(key)
        .ok()
        .or_else(|| {
            let text = std::fs::read_to_string(env_file()?).ok()?;
            parse_env_file(&text).into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
        })
        .filter(|v| !v.is_empty())
}

impl TestServices {
    /// Reads the addresses; panics with how to start the services when
    /// they are not configured.
    pub fn get() -> TestServices {
        let value = optional_service_var;
        let required = service_var;
        let (pg_url, s3_endpoint) = (required("ARCADE_TEST_PG_URL"), required("ARCADE_TEST_S3_ENDPOINT"));
        let services_dir = value("ARCADE_SERVICES_DIR")
            .map(PathBuf::from)
            .or_else(|| env_file().and_then(|f| f.parent().map(Path::to_path_buf)))
            .unwrap_or_else(|| panic!("ARCADE_SERVICES_DIR is not set: {HOW_TO_START}"));
        TestServices {
            pg_url,
            s3_endpoint,
            aws_access_key_id: value("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "testing".into()),
            aws_secret_access_key: value("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "testing".into()),
            services_dir,
        }
    }

    /// Creates an empty database and returns its URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!("arcade_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&self.pg_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {}: {e}; {HOW_TO_START}", self.pg_url));
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
        let mut url = url::Url::parse(&self.pg_url).unwrap();
        url.set_path(&name);
        url.to_string()
    }

    /// An `s3://` URL of a new bucket, with endpoint and credentials.
    pub fn fresh_s3_url(&self, prefix: &str) -> String {
        let bucket = format!("arcade-test-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        self.s3_url(&bucket, prefix)
    }

    /// The `s3://` URL of `bucket`/`prefix` on the test server, with its
    /// endpoint and credentials (no `AWS_*` variables needed).
    pub fn s3_url(&self, bucket: &str, prefix: &str) -> String {
        format!(
            "s3://{bucket}/{prefix}?endpoint={}&region=us-east-1&access_key_id={}&secret_access_key={}",
            self.s3_endpoint, self.aws_access_key_id, self.aws_secret_access_key
        )
    }

    /// Runs `scripts/services.sh <command>` (e.g. `pg-stop`, `pg-start`).
    pub fn services_script(&self, command: &str) {
        let script = crate::workspace_root().join("scripts/services.sh");
        let status = Command::new("bash")
            .arg(&script)
            .arg(command)
            .env("ARCADE_SERVICES_DIR", &self.services_dir)
            .status()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(status.success(), "scripts/services.sh {command} failed: {status}");
    }
}
