//! The client's address, for rate limits and the session log. `X-Forwarded-For` is believed
//! only when the direct peer is a configured trusted proxy; otherwise anyone could claim any
//! address and dodge the limits.

use std::net::IpAddr;

/// `peer` is the TCP peer; `forwarded_for` the raw `X-Forwarded-For` value, if any.
pub fn resolve(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    // Walk from the right: each trusted proxy appended the address it saw. The first
    // address that is not one of ours is the client.
    let chain = forwarded_for.unwrap_or("");
    let mut client = peer;
    for hop in chain.rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(addr) => {
                client = addr;
                if !trusted.contains(&addr) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_cannot_spoof() {
        assert_eq!(
            resolve(Some(ip("10.0.0.9")), Some("1.2.3.4"), &[]),
            Some(ip("10.0.0.9"))
        );
        assert_eq!(
            resolve(Some(ip("10.0.0.9")), Some("1.2.3.4"), &[ip("10.0.0.1")]),
            Some(ip("10.0.0.9"))
        );
    }

    #[test]
    fn trusted_proxy_forwards_the_rightmost_untrusted_hop() {
        let proxy = ip("127.0.0.1");
        assert_eq!(
            resolve(Some(proxy), Some("6.6.6.6, 1.2.3.4"), &[proxy]),
            Some(ip("1.2.3.4")),
            "the client may prepend anything; only the proxy's own entry counts"
        );
        assert_eq!(resolve(Some(proxy), None, &[proxy]), Some(proxy));
        assert_eq!(resolve(Some(proxy), Some("garbage"), &[proxy]), Some(proxy));
    }
}
