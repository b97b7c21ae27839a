//! The client's address, which the sign-in throttle keys on. It is the TCP peer, unless the
//! peer is one of the configured trusted proxies (`http.trusted_proxies`): then the right-most
//! address of `X-Forwarded-For` that is not itself a trusted proxy (the one the nearest
//! trusted hop saw). A client cannot choose its address by sending the header: from an
//! untrusted peer it is ignored.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::ApiError;
use crate::state::AppState;

/// The address a request came from, as [`resolve`] decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client address of a request from `peer` carrying `forwarded_for` (the raw
/// `X-Forwarded-For` values, in order), given the `trusted` proxies.
pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A malformed entry ends the chain: what lies before it cannot be trusted either.
        let Ok(addr) = hop.parse::<IpAddr>() else {
            break;
        };
        client = addr;
        if !trusted.contains(&addr) {
            break;
        }
    }
    client
}

impl FromRequest for ClientAddr {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
            return ready(Err(ApiError::internal("request without a peer address")));
        };
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.config.http.trusted_proxies.clone())
            .unwrap_or_default();
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        ready(Ok(Self(resolve(peer, &forwarded, &trusted))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.1");
        let client = ip("203.0.113.7");
        // Untrusted peer: the header is ignored (a client cannot pick its address).
        assert_eq!(resolve(client, &["198.51.100.1"], &[proxy]), client);
        assert_eq!(resolve(client, &["198.51.100.1"], &[]), client);
        // Trusted proxy: the address it saw.
        assert_eq!(resolve(proxy, &["203.0.113.7"], &[proxy]), client);
        // A client-supplied prefix is skipped: the right-most untrusted hop counts.
        assert_eq!(
            resolve(proxy, &["198.51.100.1, 203.0.113.7"], &[proxy]),
            client
        );
        // Two trusted proxies in a row, headers split over two fields.
        let inner = ip("10.0.0.2");
        assert_eq!(
            resolve(proxy, &["203.0.113.7", "10.0.0.2"], &[proxy, inner]),
            client
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(resolve(proxy, &[], &[proxy]), proxy);
        assert_eq!(resolve(proxy, &["not an address"], &[proxy]), proxy);
        // IPv6.
        assert_eq!(
            resolve(proxy, &["2001:db8::1"], &[proxy]),
            ip("2001:db8::1")
        );
    }
}
