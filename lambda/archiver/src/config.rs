//! The archiver's settings, read once per cold start from the function's
//! environment:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `ARCADE_ARCHIVE_PG_URL` | the PostgreSQL archive, `postgres://user:pass@host:5432/db` |
//! | `ARCADE_ARCHIVE_S3_URL` | the S3 archive, `s3://bucket/prefix` (+ `?endpoint=..&region=..` off AWS) |
//! | `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | set by Lambda from the execution role |
//! | `AWS_LAMBDA_LOG_FORMAT` | `JSON` for JSON log lines (Lambda's advanced logging), else text |
//!
//! The S3 URL's endpoint, region and credentials also reach the objects
//! named by S3 events (direct, or in SQS messages): one client serves all.

use arcade_host::config::LogFormat;

pub const PG_URL: &str = "ARCADE_ARCHIVE_PG_URL";
pub const S3_URL: &str = "ARCADE_ARCHIVE_S3_URL";

#[derive(Clone, Debug)]
pub struct Settings {
    pub pg_url: String,
    pub s3_url: String,
    pub log_format: LogFormat,
}

impl Settings {
    /// Reads the settings through `env` (`std::env::var` in the binary);
    /// both archive URLs are required.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let required =
            |name: &str| env(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| format!("{name} is not set"));
        let json_logs = env("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
        Ok(Settings {
            pg_url: required(PG_URL)?,
            s3_url: required(S3_URL)?,
            log_format: if json_logs { LogFormat::Json } else { LogFormat::Text },
        })
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
}
