//! The address a request came from, for per-IP limits.
//!
//! The peer address of the TCP connection (`ConnectInfo`), or, when
//! `limits.trust_forwarded_for` is on (the node sits behind a proxy that
//! appends the client's address, such as the Kubernetes Ingress), the last
//! address of `X-Forwarded-For`: the one the trusted proxy added, which a
//! client cannot forge.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::App;

/// The client's IP address as text (`unknown` where the server was not
/// given peer addresses, e.g. in-process tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl FromRequestParts<Arc<App>> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        Ok(client_ip(parts, app.config.limits.trust_forwarded_for))
    }
}

fn client_ip(parts: &Parts, trust_forwarded_for: bool) -> ClientIp {
    if trust_forwarded_for {
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().rev().find_map(|v| v.to_str().ok());
        if let Some(ip) = forwarded.and_then(|v| v.rsplit(',').next()).and_then(|ip| ip.trim().parse::<IpAddr>().ok()) {
            return ClientIp(ip.to_string());
        }
    }
    match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => ClientIp(addr.ip().to_string()),
        None => ClientIp("unknown".into()),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(forwarded: &[&str], peer: Option<&str>) -> Parts {
        let mut request = Request::builder();
        for value in forwarded {
            request = request.header("x-forwarded-for", *value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts.extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        parts
    }

    #[test]
    fn the_peer_address_unless_a_proxy_is_trusted() {
        let p = parts(&["6.6.6.6"], Some("10.0.0.1:5000"));
        assert_eq!(client_ip(&p, false), ClientIp("10.0.0.1".into()));
        assert_eq!(client_ip(&p, true), ClientIp("6.6.6.6".into()));
    }

    #[test]
    fn a_forged_first_hop_is_ignored_behind_a_trusted_proxy() {
        let p = parts(&["1.2.3.4, 203.0.113.9"], Some("10.0.0.1:5000"));
        assert_eq!(client_ip(&p, true), ClientIp("203.0.113.9".into()));
        let garbage = parts(&["not-an-ip"], Some("10.0.0.1:5000"));
        assert_eq!(client_ip(&garbage, true), ClientIp("10.0.0.1".into()));
        assert_eq!(client_ip(&parts(&[], None), false), ClientIp("unknown".into()));
    }
}
