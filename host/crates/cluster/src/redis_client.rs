//! Opening Redis clients the one way every Redis user here needs:
//! `TCP_NODELAY` on (the redis crate leaves Nagle's algorithm on, which
//! holds a small command back for the peer's delayed ACK, up to ~40 ms).

use redis::{Client, IntoConnectionInfo, RedisResult};

/// A client for `url` (`redis://` or `rediss://`) whose connections set `TCP_NODELAY`.
pub fn open(url: &str) -> RedisResult<Client> {
    let info = url.into_connection_info()?;
    let tcp = info.tcp_settings().clone().set_nodelay(true);
    Client::open(info.set_tcp_settings(tcp))
}

#[cfg(test)]
mod tests {
    #[test]
    fn clients_set_nodelay_and_keep_the_url() {
        let client = super::open("redis://127.0.0.1:6390/3").unwrap();
        let info = client.get_connection_info();
        assert!(info.tcp_settings().nodelay());
        assert_eq!(info.redis_settings().db(), 3);
        assert!(super::open("not a url").is_err());
    }
}
