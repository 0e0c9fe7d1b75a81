//! `IpAddress` / `NotIpAddress`: IPv4 and IPv6, as a CIDR block or a single address.

use ipnet::IpNet;
use std::net::IpAddr;

/// A policy value: `203.0.113.0/24`, `2001:db8::/32`, or a single address.
pub(crate) fn parse_net(text: &str) -> Option<IpNet> {
    let t = text.trim();
    if let Ok(net) = t.parse::<IpNet>() {
        return Some(net);
    }
    t.parse::<IpAddr>().ok().map(IpNet::from)
}

/// A request value: one address (a `/32` or `/128` suffix is tolerated).
pub(crate) fn parse_addr(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    if let Ok(a) = t.parse::<IpAddr>() {
        return Some(a);
    }
    let net = t.parse::<IpNet>().ok()?;
    (net.prefix_len() == net.max_prefix_len()).then(|| net.addr())
}

pub(crate) fn contains(net: &IpNet, addr: &IpAddr) -> bool {
    match (net, addr) {
        (IpNet::V4(n), IpAddr::V4(a)) => n.contains(a),
        (IpNet::V6(n), IpAddr::V6(a)) => n.contains(a),
        // An IPv4 address reaching an IPv6 listener arrives as ::ffff:a.b.c.d.
        (IpNet::V4(n), IpAddr::V6(a)) => a.to_ipv4_mapped().is_some_and(|v4| n.contains(&v4)),
        (IpNet::V6(_), IpAddr::V4(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        let n = parse_net("203.0.113.0/24").unwrap();
        assert!(contains(&n, &parse_addr("203.0.113.9").unwrap()));
        assert!(!contains(&n, &parse_addr("203.0.114.9").unwrap()));
        let one = parse_net("203.0.113.5").unwrap();
        assert!(contains(&one, &parse_addr("203.0.113.5").unwrap()));
        let v6 = parse_net("2001:DB8:1234:5678::/64").unwrap();
        assert!(contains(&v6, &parse_addr("2001:db8:1234:5678::1").unwrap()));
        assert!(!contains(&v6, &parse_addr("203.0.113.5").unwrap()));
        assert!(contains(&n, &parse_addr("::ffff:203.0.113.7").unwrap()));
        assert!(parse_net("203.0.113.0/33").is_none());
        assert!(parse_addr("not-an-ip").is_none());
    }
}
