//! What of a request may be logged: its path and query with every secret
//! value (`?token=`, `?secret=`, ...) replaced by `REDACTED`. Browsers
//! cannot set headers on a WebSocket, so seat tokens and ticket secrets ride
//! in the query; a log line must never carry one. Headers are never logged
//! (`Authorization` carries the same secrets).

use std::borrow::Cow;

use axum::http::Uri;

/// Shown instead of a secret value.
const REDACTED: &str = "REDACTED";

/// A query parameter whose name says it holds a secret.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["token", "secret", "password", "key", "auth"].iter().any(|word| name.contains(word))
}

/// `uri`'s path and query, secret values redacted.
pub fn loggable_uri(uri: &Uri) -> Cow<'_, str> {
    let path = uri.path();
    let Some(query) = uri.query() else { return Cow::Borrowed(path) };
    let mut out = String::with_capacity(path.len() + 1 + query.len());
    out.push_str(path);
    out.push('?');
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if is_secret(&percent_decoded(name)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            // A bare name could itself be a token pasted as `?<token>`:
            // keep only names that look like names.
            None if !pair.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || pair.len() > 32 => {
                out.push_str(REDACTED)
            }
            _ => out.push_str(pair),
        }
    }
    Cow::Owned(out)
}

fn percent_decoded(name: &str) -> String {
    percent_encoding::percent_decode_str(name).decode_utf8_lossy().replace('+', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(uri: &str) -> String {
        loggable_uri(&uri.parse::<Uri>().unwrap()).into_owned()
    }

    #[test]
    fn secrets_in_the_query_are_redacted() {
        assert_eq!(logged("/v1/rooms/r1/ws?token=abc123"), "/v1/rooms/r1/ws?token=REDACTED");
        assert_eq!(logged("/x?a=1&Token=s3cret&b=2"), "/x?a=1&Token=REDACTED&b=2");
        assert_eq!(logged("/x?ticket_secret=zz"), "/x?ticket_secret=REDACTED");
        assert_eq!(logged("/x?%74oken=zz"), "/x?%74oken=REDACTED");
        assert_eq!(logged("/x?0123456789abcdef0123456789abcdef0123"), "/x?REDACTED");
        assert_eq!(logged("/x?limit=5&after=g1"), "/x?limit=5&after=g1");
        assert_eq!(logged("/v1/games"), "/v1/games");
    }
}
