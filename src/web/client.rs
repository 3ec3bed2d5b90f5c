//! Who is asking: the client's address, taken from `X-Forwarded-For` or `Forwarded` only when the
//! connection comes from a reverse proxy the operator trusts (`TOWNHALL_TRUSTED_PROXIES`). Anyone
//! else could write those headers themselves, and a limit per address would count the proxy as one
//! client if they were ignored.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::{AppError, AppState};
pub use crate::config::TrustedProxies;
use crate::config::canonical;

/// Finding the client behind the trusted proxies of the configuration.
pub trait ForwardedClient {
    /// The client's address: the connection's own, or, when that is a trusted proxy, the nearest
    /// address in the forwarding chain that is not itself a trusted proxy.
    fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr;
}

impl ForwardedClient for TrustedProxies {
    fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return canonical(peer);
        }
        let mut chain = forwarded_chain(headers);
        // The rightmost entries were added by our own proxies; the first untrusted one is the client.
        while let Some(hop) = chain.pop() {
            if !self.contains(hop) {
                return canonical(hop);
            }
        }
        canonical(peer)
    }
}

/// The addresses of `X-Forwarded-For` (all its lines, in order) or else of `Forwarded`'s `for=`
/// parameters; entries that are not addresses (`unknown`, obfuscated names) are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let xff: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| parse_hop(hop.trim()))
        .collect();
    if !xff.is_empty() {
        return xff;
    }
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            key.trim().eq_ignore_ascii_case("for").then(|| parse_hop(value.trim().trim_matches('"')))?
        })
        .collect()
}

/// `203.0.113.7`, `203.0.113.7:41234`, `[2001:db8::1]` or `[2001:db8::1]:41234`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[')?.split(']').next()?.parse().ok()
}

/// The address of the person making the request, as [`TrustedProxies::client`] finds it.
pub struct ClientAddress(pub IpAddr);

impl<S> FromRequestParts<S> for ClientAddress
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| AppError::Internal("the server did not record the connection's address".into()))?;
        Ok(ClientAddress(state.config.trusted_proxies.client(peer, &parts.headers)))
    }
}

/// The site's own origin, for links people copy and send on: `TOWNHALL_PUBLIC_URL` when set, else
/// the origin this request came to (its `Host`, and `https` when `X-Forwarded-Proto` says so). A
/// forged `Host` only changes the link shown to whoever forged it.
pub struct SiteOrigin(pub String);

impl<S> FromRequestParts<S> for SiteOrigin
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        if let Some(url) = &state.config.public_url {
            return Ok(SiteOrigin(url.trim_end_matches('/').to_owned()));
        }
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let host = header("host")
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
            .map_or_else(|| state.config.listen.to_string(), str::to_owned);
        let https = header("x-forwarded-proto").is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
        Ok(SiteOrigin(format!("{}://{host}", if https { "https" } else { "http" })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "192.0.2.9".parse().unwrap();
        let forged = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(proxies.client(stranger, &forged), stranger, "a stranger cannot name another client");
        assert_eq!(proxies.client(peer, &forged).to_string(), "198.51.100.1");
        // A client's own forged entry sits left of what our proxies appended.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.1, 10.9.9.9")]);
        assert_eq!(proxies.client(peer, &chain).to_string(), "198.51.100.1");
        let rfc = headers(&[("forwarded", "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2")]);
        assert_eq!(proxies.client(peer, &rfc).to_string(), "2001:db8::7");
        assert_eq!(proxies.client(peer, &HeaderMap::new()), peer, "no header: the proxy itself");
        assert!(proxies.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!proxies.contains("11.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err() && TrustedProxies::parse("proxy.local").is_err());
        assert_eq!(TrustedProxies::parse("").unwrap(), TrustedProxies::default());
    }
}
