//! Which of the literal indicators the analysis found are indicators of compromise: loopback,
//! private and unspecified addresses are not, and neither are values the query only excludes
//! (`IpAddress !in ("127.0.0.1", "::1")` is an allow-list).

use crate::analysis::{Indicator, IndicatorKind, QueryAnalysis};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The indicators a match on means something, in the analysis's order.
pub(crate) fn compromise_indicators(analysis: &QueryAnalysis) -> Vec<&Indicator> {
    analysis
        .indicators
        .iter()
        .filter(|i| !is_local_address(i))
        .filter(|i| !only_excluded(i, analysis))
        .collect()
}

/// Whether the indicator is an address no attacker infrastructure has.
fn is_local_address(indicator: &Indicator) -> bool {
    let value = indicator.value.trim();
    // A CIDR range counts by its base address.
    let address = value.split('/').next().unwrap_or(value);
    match indicator.kind {
        IndicatorKind::Ipv4 => address.parse::<Ipv4Addr>().is_ok_and(|ip| {
            ip.is_loopback()
                || ip.is_private()
                || ip.is_unspecified()
                || ip.is_link_local()
                || ip.is_broadcast()
        }),
        IndicatorKind::Ipv6 => address
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified() || is_local_v6(ip)),
        _ => false,
    }
}

/// Unique-local (`fc00::/7`) and link-local (`fe80::/10`) IPv6 addresses.
fn is_local_v6(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => {
            let first = Ipv6Addr::segments(&v6)[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        IpAddr::V4(_) => false,
    }
}

/// Whether every filter naming the value excludes it (and at least one names it).
fn only_excluded(indicator: &Indicator, analysis: &QueryAnalysis) -> bool {
    let mut named = analysis
        .predicates
        .iter()
        .filter(|p| {
            p.values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(&indicator.value))
        })
        .peekable();
    named.peek().is_some() && named.all(|p| p.negated || p.operator.starts_with('!'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::test_support::predicate;

    fn indicator(kind: IndicatorKind, value: &str) -> Indicator {
        Indicator {
            kind,
            value: value.into(),
            span: 0..1,
        }
    }

    #[test]
    fn local_addresses_and_exclusions_are_not_indicators_of_compromise() {
        let analysis = QueryAnalysis {
            indicators: vec![
                indicator(IndicatorKind::Ipv4, "127.0.0.1"),
                indicator(IndicatorKind::Ipv6, "::1"),
                indicator(IndicatorKind::Ipv4, "10.0.0.0/8"),
                indicator(IndicatorKind::Ipv6, "fe80::1"),
                indicator(IndicatorKind::Ipv4, "203.0.113.9"),
                indicator(IndicatorKind::Domain, "allowed.example"),
                indicator(IndicatorKind::Domain, "evil.example"),
            ],
            predicates: vec![
                predicate("Domain", "!in", &["allowed.example"], true),
                predicate("Domain", "in", &["evil.example"], false),
            ],
            ..QueryAnalysis::default()
        };
        let kept: Vec<&str> = compromise_indicators(&analysis)
            .iter()
            .map(|i| i.value.as_str())
            .collect();
        assert_eq!(kept, ["203.0.113.9", "evil.example"]);
    }
}
