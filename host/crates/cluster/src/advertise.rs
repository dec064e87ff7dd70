//! Which URLs a node may advertise (`cluster.allowed_advertise_hosts`):
//! players are redirected to a node's URL with their seat token, and
//! matches are provisioned there, so a record naming any other host is
//! refused even when it is validly signed (a leaked secret then still
//! cannot send players' tokens outside the cluster's network).
//!
//! Each entry is an IP network in CIDR form (`10.0.0.0/8`, `fd00::/8`), an
//! IP address, a host name (`arcade.internal`) or a domain suffix
//! (`.svc.cluster.local` matches every name under it). An empty list
//! allows any host: node records are signed with the cluster secret, which
//! is what keeps forged ones out.
//!
//! Whatever the list, an advertised URL must be a plain `http(s)://host[:port]`
//! base: no user info, query or fragment, no path beyond `/`.

use std::net::IpAddr;

use url::{Host, Url};

/// One allowed host pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Network {
        address: IpAddr,
        prefix: u8,
    },
    Name(String),
    /// `.example.com`: every name ending with it.
    Suffix(String),
}

/// The allowed hosts of advertised node URLs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdvertisePolicy {
    patterns: Vec<Pattern>,
}

impl AdvertisePolicy {
    /// Parses the configured entries; names the first bad one.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Result<AdvertisePolicy, String> {
        let patterns = entries.iter().map(|entry| parse_pattern(entry.as_ref().trim())).collect::<Result<_, _>>()?;
        Ok(AdvertisePolicy { patterns })
    }

    /// Allows any well-formed URL.
    pub fn any() -> AdvertisePolicy {
        AdvertisePolicy::default()
    }

    /// `Ok` if `url` is a base URL on an allowed host, else why not.
    pub fn check(&self, url: &str) -> Result<(), String> {
        let parsed = Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("{url:?}: only http and https node URLs"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(format!("{url:?}: user info in a node URL"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() || !matches!(parsed.path(), "" | "/") {
            return Err(format!("{url:?}: a node URL is a base URL (no path, query or fragment)"));
        }
        let host = parsed.host().ok_or_else(|| format!("{url:?}: no host"))?;
        if self.patterns.is_empty() || self.patterns.iter().any(|pattern| matches(pattern, &host)) {
            Ok(())
        } else {
            Err(format!("{url:?}: the host is not in cluster.allowed_advertise_hosts"))
        }
    }
}

fn parse_pattern(entry: &str) -> Result<Pattern, String> {
    let bad = |why: &str| format!("cluster.allowed_advertise_hosts entry {entry:?}: {why}");
    if entry.is_empty() {
        return Err(bad("empty"));
    }
    if let Some((address, prefix)) = entry.split_once('/') {
        let address: IpAddr = address.parse().map_err(|_| bad("not an IP network"))?;
        let prefix: u8 = prefix.parse().map_err(|_| bad("not a prefix length"))?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        if prefix > bits {
            return Err(bad("prefix longer than the address"));
        }
        return Ok(Pattern::Network { address, prefix });
    }
    if let Ok(address) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
        let prefix = if address.is_ipv4() { 32 } else { 128 };
        return Ok(Pattern::Network { address, prefix });
    }
    let name = entry.to_ascii_lowercase();
    let label_ok = |label: &str| !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    match name.strip_prefix('.') {
        Some(suffix) if suffix.split('.').all(label_ok) => Ok(Pattern::Suffix(name)),
        None if name.split('.').all(label_ok) => Ok(Pattern::Name(name)),
        _ => Err(bad("not a host name, IP address or network")),
    }
}

fn matches(pattern: &Pattern, host: &Host<&str>) -> bool {
    match (pattern, host) {
        (Pattern::Network { address, prefix }, Host::Ipv4(ip)) => in_network(*address, *prefix, IpAddr::V4(*ip)),
        (Pattern::Network { address, prefix }, Host::Ipv6(ip)) => in_network(*address, *prefix, IpAddr::V6(*ip)),
        (Pattern::Name(name), Host::Domain(domain)) => domain.eq_ignore_ascii_case(name),
        (Pattern::Suffix(suffix), Host::Domain(domain)) => {
            let domain = domain.to_ascii_lowercase();
            domain.len() > suffix.len() && domain.ends_with(suffix.as_str())
        }
        _ => false,
    }
}

fn in_network(network: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (network, ip) {
        (IpAddr::V4(network), IpAddr::V4(ip)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(network) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(network), IpAddr::V6(ip)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(network) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_names_and_suffixes_allow_their_hosts_only() {
        let policy =
            AdvertisePolicy::new(&["10.0.0.0/8", "127.0.0.1", "fd00::/8", "arcade.internal", ".svc.cluster.local"])
                .unwrap();
        for allowed in [
            "http://10.1.2.3:8080",
            "http://127.0.0.1:40000/",
            "http://[fd00::5]:8080",
            "https://ARCADE.internal",
            "http://node-1.arcade.default.svc.cluster.local:8080",
        ] {
            assert_eq!(policy.check(allowed), Ok(()), "{allowed}");
        }
        for refused in [
            "http://11.0.0.1:8080",
            "http://127.0.0.2:8080",
            "http://evil.example:8080",
            "http://arcade.internal.evil.example",
            "http://svc.cluster.local",
            "http://[fe80::1]:8080",
        ] {
            assert!(policy.check(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn only_plain_base_urls_are_allowed_even_with_no_list() {
        let any = AdvertisePolicy::any();
        assert_eq!(any.check("http://anywhere.example:8080"), Ok(()));
        for refused in [
            "ftp://10.0.0.1",
            "http://user:pass@10.0.0.1",
            "http://10.0.0.1/v1/rooms",
            "http://10.0.0.1/?x=1",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(any.check(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn bad_entries_are_named() {
        for entry in ["10.0.0.0/33", "10.0.0/8", "", "bad host!", "a..b"] {
            let problem = AdvertisePolicy::new(&[entry]).unwrap_err();
            assert!(problem.contains("allowed_advertise_hosts"), "{entry}: {problem}");
        }
        assert!(AdvertisePolicy::new(&["::/0"]).unwrap().check("http://[2001:db8::1]").is_ok());
        assert!(AdvertisePolicy::new(&["0.0.0.0/0"]).unwrap().check("http://192.0.2.1").is_ok());
    }
}
