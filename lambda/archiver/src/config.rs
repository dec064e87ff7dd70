//! The archiver's settings, read once per cold start from the function's
//! environment:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `ARCADE_ARCHIVE_PG_URL` | the PostgreSQL archive, `postgres://user:pass@host:5432/db` |
//! | `ARCADE_ARCHIVE_S3_URL` | the S3 archive, `s3://bucket/prefix` (+ `?endpoint=..&region=..` off AWS) |
//! | `ARCADE_ARCHIVE_RETENTION_DAYS` | optional: the scheduled `expire-archive` run deletes PostgreSQL games completed more than this many days ago (default 90, the hosts' `archive.retention_days`; 0 keeps them forever; Terraform `archive_retention_days`) |
//! | `ARCADE_ARCHIVE_RETENTION_BATCH` | optional: most games one delete statement removes (default 1000, the hosts' `archive.retention_batch`) |
//! | `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | set by Lambda from the execution role |
//! | `AWS_LAMBDA_LOG_FORMAT` | `JSON` for JSON log lines (Lambda's advanced logging), else text |
//!
//! The S3 URL's endpoint, region and credentials also reach the objects
//! named by S3 events (direct, or in SQS messages): one client serves all.

use arcade_archive::ArchiveSettings;
use arcade_archive::retention::RetentionPolicy;
use arcade_telemetry::LogFormat;

pub const PG_URL: &str = "ARCADE_ARCHIVE_PG_URL";
pub const S3_URL: &str = "ARCADE_ARCHIVE_S3_URL";
pub const RETENTION_DAYS: &str = "ARCADE_ARCHIVE_RETENTION_DAYS";
pub const RETENTION_BATCH: &str = "ARCADE_ARCHIVE_RETENTION_BATCH";

#[derive(Clone, Debug)]
pub struct Settings {
    pub pg_url: String,
    pub s3_url: String,
    pub log_format: LogFormat,
    /// What the scheduled expiry deletes (checked as the hosts' settings
    /// are; `interval` is unused: the EventBridge schedule runs it).
    pub retention: RetentionPolicy,
}

impl Settings {
    /// Reads the settings through `env` (`std::env::var` in the binary);
    /// both archive URLs are required.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let required =
            |name: &str| env(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| format!("{name} is not set"));
        let json_logs = env("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
        let defaults = ArchiveSettings::default();
        let archive = ArchiveSettings {
            retention_days: optional_number(&env, RETENTION_DAYS, defaults.retention_days)?,
            retention_batch: optional_number(&env, RETENTION_BATCH, defaults.retention_batch)?,
            ..defaults
        };
        let retention = RetentionPolicy::from_settings(&archive)
            .map_err(|e| format!("{e} ({RETENTION_DAYS} / {RETENTION_BATCH})"))?;
        Ok(Settings {
            pg_url: required(PG_URL)?,
            s3_url: required(S3_URL)?,
            log_format: if json_logs { LogFormat::Json } else { LogFormat::Text },
            retention,
        })
    }
}

/// A whole number from `name`, `default` when unset or blank.
fn optional_number<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, String> {
    match env(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(value) => {
            value.trim().parse().map_err(|_| format!("{name} is {value:?}, not a whole number of at least 0"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_archives_are_required() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let settings = Settings::from_env(env(&[
            (PG_URL, "postgres://pg/db"),
            (S3_URL, "s3://bucket/games"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ]))
        .unwrap();
        assert_eq!((settings.pg_url.as_str(), settings.s3_url.as_str()), ("postgres://pg/db", "s3://bucket/games"));
        assert!(matches!(settings.log_format, LogFormat::Json));

        let missing = Settings::from_env(env(&[(PG_URL, "postgres://pg/db"), (S3_URL, " ")])).unwrap_err();
        assert!(missing.contains(S3_URL), "{missing}");
        assert!(Settings::from_env(env(&[(S3_URL, "s3://b")])).unwrap_err().contains(PG_URL));
    }

    #[test]
    fn retention_defaults_to_the_hosts_90_days_and_is_checked() {
        let env = |vars: Vec<(&'static str, &'static str)>| {
            let mut vars = vars;
            vars.extend([(PG_URL, "postgres://pg/db"), (S3_URL, "s3://bucket/games")]);
            move |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        let defaults = Settings::from_env(env(vec![])).unwrap().retention;
        assert_eq!((defaults.days, defaults.batch), (90, 1000));
        let set = Settings::from_env(env(vec![(RETENTION_DAYS, "30"), (RETENTION_BATCH, " 50 ")])).unwrap();
        assert_eq!((set.retention.days, set.retention.batch), (30, 50));
        assert_eq!(Settings::from_env(env(vec![(RETENTION_DAYS, "0")])).unwrap().retention.cutoff_ms(1), None);

        for (name, value) in [(RETENTION_DAYS, "-1"), (RETENTION_DAYS, "ninety"), (RETENTION_BATCH, "1.5")] {
            let error = Settings::from_env(env(vec![(name, value)])).unwrap_err();
            assert!(error.contains(name) && error.contains(value), "{error}");
        }
        let zero_batch = Settings::from_env(env(vec![(RETENTION_BATCH, "0")])).unwrap_err();
        assert!(zero_batch.contains("retention_batch") && zero_batch.contains(RETENTION_BATCH), "{zero_batch}");
    }
}
