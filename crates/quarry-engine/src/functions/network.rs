//! IPv4 and IPv6 functions: parsing, formatting, masking, comparison, range tests and the
//! `has_*ipv4*` text searches.
//!
//! Addresses are strings in dotted (IPv4) or colon (IPv6) notation, optionally in IP-prefix
//! (CIDR) notation `address/prefix`. A string that does not parse makes the result null (an
//! empty string for the string-valued functions), as in Kusto. IPv4 addresses given to the
//! IPv6 functions are read as IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`), with their prefix
//! counted over the low 32 bits.

use std::net::Ipv6Addr;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::Expr;
use serde_json::Value;

use super::dynamic::{row_call, scalar_i64, scalar_to_json, RowFn};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "ipv4_is_private",
    "ipv4_is_in_range",
    "ipv4_is_in_any_range",
    "ipv4_is_match",
    "ipv4_compare",
    "parse_ipv4",
    "parse_ipv4_mask",
    "format_ipv4",
    "format_ipv4_mask",
    "ipv4_netmask_suffix",
    "has_ipv4",
    "has_ipv4_prefix",
    "has_any_ipv4",
    "has_any_ipv4_prefix",
    "ipv6_compare",
    "ipv6_is_match",
    "parse_ipv6",
    "parse_ipv6_mask",
    "ipv6_is_in_range",
    "ipv6_is_in_any_range",
];

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    const MANY: usize = usize::MAX;
    use DataType::{Boolean, Int64, Utf8};
    let (min, max, ret, f): (usize, usize, DataType, RowFn) = match name {
        "ipv4_is_private" => (1, 1, Boolean, ipv4_is_private_row),
        "ipv4_is_in_range" => (2, 2, Boolean, ipv4_is_in_range_row),
        "ipv4_is_in_any_range" => (2, MANY, Boolean, ipv4_is_in_range_row),
        "ipv4_is_match" => (2, 3, Boolean, ipv4_is_match_row),
        "ipv4_compare" => (2, 3, Int64, ipv4_compare_row),
        "parse_ipv4" => (1, 1, Int64, parse_ipv4_row),
        "parse_ipv4_mask" => (2, 2, Int64, parse_ipv4_mask_row),
        "format_ipv4" => (1, 2, Utf8, format_ipv4_row),
        "format_ipv4_mask" => (1, 2, Utf8, format_ipv4_mask_row),
        "ipv4_netmask_suffix" => (1, 1, Int64, ipv4_netmask_suffix_row),
        "has_ipv4" => (2, 2, Boolean, has_ipv4_row),
        "has_ipv4_prefix" => (2, 2, Boolean, has_ipv4_prefix_row),
        "has_any_ipv4" => (2, MANY, Boolean, has_ipv4_row),
        "has_any_ipv4_prefix" => (2, MANY, Boolean, has_ipv4_prefix_row),
        "ipv6_compare" => (2, 3, Int64, ipv6_compare_row),
        "ipv6_is_match" => (2, 3, Boolean, ipv6_is_match_row),
        "parse_ipv6" => (1, 1, Utf8, parse_ipv6_row),
        "parse_ipv6_mask" => (2, 2, Utf8, parse_ipv6_mask_row),
        "ipv6_is_in_range" => (2, 2, Boolean, ipv6_is_in_range_row),
        "ipv6_is_in_any_range" => (2, MANY, Boolean, ipv6_is_in_range_row),
        _ => return None,
    };
    Some(check_arity(name, args, min, max, ctx).map(|()| {
        let exprs: Vec<Expr> = args.iter().map(|a| a.expr.clone()).collect();
        row_call(name, ret, f, exprs)
    }))
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

/// The text of a string argument (a `dynamic` string counts); `None` for null or non-strings.
fn arg_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        ScalarValue::LargeUtf8(Some(_)) => match scalar_to_json(value)? {
            Value::String(s) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// The strings of a list argument: the elements of a `dynamic` array, or the value itself.
fn arg_texts(value: &ScalarValue) -> Vec<Option<String>> {
    match value {
        ScalarValue::LargeUtf8(Some(_)) => match scalar_to_json(value) {
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            Some(Value::String(s)) => vec![Some(s)],
            _ => vec![None],
        },
        other => vec![arg_text(other)],
    }
}

/// An optional prefix-length argument: `Some(None)` when absent or null, `None` when out of
/// `0..=max`.
fn prefix_arg(args: &[ScalarValue], index: usize, max: u32) -> Option<Option<u32>> {
    match args.get(index) {
        None => Some(None),
        Some(value) if value.is_null() => Some(None),
        Some(value) => {
            let prefix = scalar_i64(value)?;
            (0..=i64::from(max))
                .contains(&prefix)
                .then_some(Some(prefix as u32))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------------------------

/// The four octets of a dotted IPv4 address (each 1 to 3 decimal digits, at most 255).
fn parse_octets(text: &str) -> Option<u32> {
    let mut value: u32 = 0;
    let mut count = 0;
    for part in text.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        value = (value << 8) | octet;
        count += 1;
    }
    (count == 4).then_some(value)
}

/// An IPv4 address with optional `/prefix` (0 to 32): the address and the prefix length.
fn parse_v4(text: &str) -> Option<(u32, u32)> {
    let text = text.trim();
    match text.split_once('/') {
        Some((address, prefix)) => {
            let prefix = prefix.trim();
            if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let prefix: u32 = prefix.parse().ok()?;
            (prefix <= 32).then_some((parse_octets(address.trim())?, prefix))
        }
        None => Some((parse_octets(text)?, 32)),
    }
}

/// An IPv4 argument: a string in (CIDR) notation, or a number (big-endian address).
fn arg_v4(value: &ScalarValue) -> Option<(u32, u32)> {
    match value {
        ScalarValue::Utf8(_) | ScalarValue::Utf8View(_) | ScalarValue::LargeUtf8(_) => {
            match value {
                ScalarValue::LargeUtf8(Some(_)) => match scalar_to_json(value)? {
                    Value::String(s) => parse_v4(&s),
                    Value::Number(n) => n
                        .as_i64()
                        .and_then(|v| u32::try_from(v).ok())
                        .map(|v| (v, 32)),
                    _ => None,
                },
                other => parse_v4(&arg_text(other)?),
            }
        }
        other => scalar_i64(other)
            .and_then(|v| u32::try_from(v).ok())
            .map(|v| (v, 32)),
    }
}

fn mask_v4(prefix: u32) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix.min(32))
    }
}

fn dotted(address: u32) -> String {
    let [a, b, c, d] = address.to_be_bytes();
    format!("{a}.{b}.{c}.{d}")
}

/// The address masked by the smaller of its own prefix and the optional `prefix` argument at
/// `index`: `(masked address, effective prefix)`.
fn masked_v4(args: &[ScalarValue], index: usize) -> Option<(u32, u32)> {
    let (address, own) = arg_v4(&args[0])?;
    let prefix = prefix_arg(args, index, 32)?.map_or(own, |p| p.min(own));
    Some((address & mask_v4(prefix), prefix))
}

fn parse_ipv4_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Int64(
        masked_v4(args, 1).map(|(a, _)| i64::from(a)),
    ))
}

fn parse_ipv4_mask_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    if args[1].is_null() {
        return Ok(ScalarValue::Int64(None));
    }
    parse_ipv4_row(args)
}

fn format_ipv4_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Utf8(Some(
        masked_v4(args, 1)
            .map(|(a, _)| dotted(a))
            .unwrap_or_default(),
    )))
}

fn format_ipv4_mask_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Utf8(Some(
        masked_v4(args, 1)
            .map(|(a, p)| format!("{}/{p}", dotted(a)))
            .unwrap_or_default(),
    )))
}

fn ipv4_netmask_suffix_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Int64(
        arg_v4(&args[0]).map(|(_, p)| i64::from(p)),
    ))
}

/// The private IPv4 networks (RFC 1918).
const PRIVATE_V4: [(u32, u32); 3] = [
    (0x0A00_0000, 8),  // 10.0.0.0/8
    (0xAC10_0000, 12), // 172.16.0.0/12
    (0xC0A8_0000, 16), // 192.168.0.0/16
];

fn ipv4_is_private_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Boolean(masked_v4(args, 1).map(|(a, _)| {
        PRIVATE_V4
            .iter()
            .any(|&(net, p)| a & mask_v4(p) == net & mask_v4(p))
    })))
}

/// Whether `(address, prefix)` (masked by its own prefix) lies in the network `range`.
fn v4_in_range(address: (u32, u32), range: (u32, u32)) -> bool {
    let (net, p) = range;
    let address = address.0 & mask_v4(address.1);
    address & mask_v4(p) == net & mask_v4(p)
}

/// `ipv4_is_in_range` and `ipv4_is_in_any_range`: null when the address or a range does not
/// parse (unless another range matched).
fn ipv4_is_in_range_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(address) = arg_v4(&args[0]) else {
        return Ok(ScalarValue::Boolean(None));
    };
    let mut invalid = false;
    for arg in &args[1..] {
        let texts = match arg {
            ScalarValue::Utf8(_) | ScalarValue::Utf8View(_) | ScalarValue::LargeUtf8(_) => {
                arg_texts(arg)
            }
            _ => vec![None],
        };
        for text in texts {
            match text.as_deref().and_then(parse_v4) {
                Some(range) if v4_in_range(address, range) => {
                    return Ok(ScalarValue::Boolean(Some(true)))
                }
                Some(_) => {}
                None => invalid = true,
            }
        }
    }
    Ok(ScalarValue::Boolean((!invalid).then_some(false)))
}

/// Both addresses masked by the smallest of their prefixes and the optional third argument.
fn v4_pair(args: &[ScalarValue]) -> Option<(u32, u32)> {
    let (a, pa) = arg_v4(&args[0])?;
    let (b, pb) = arg_v4(&args[1])?;
    let prefix = prefix_arg(args, 2, 32)?.map_or(pa.min(pb), |p| p.min(pa).min(pb));
    let mask = mask_v4(prefix);
    Some((a & mask, b & mask))
}

fn ipv4_is_match_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Boolean(v4_pair(args).map(|(a, b)| a == b)))
}

fn ipv4_compare_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Int64(
        v4_pair(args).map(|(a, b)| a.cmp(&b) as i64),
    ))
}

// ---------------------------------------------------------------------------------------------
// IPv4 text search
// ---------------------------------------------------------------------------------------------

/// The IPv4 addresses that appear in `text` as whole terms: maximal runs of letters, digits and
/// dots (trailing dots dropped, as at the end of a sentence) that are exactly a dotted address.
fn ipv4_terms(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for run in text.split(|c: char| !(c.is_alphanumeric() || c == '.')) {
        let run = run.trim_end_matches('.');
        if let Some(address) = parse_octets(run) {
            out.push(address);
        }
    }
    out
}

/// A searched-for prefix: a complete address or 1 to 3 octets followed by a dot, as
/// `(octets, count)`.
fn parse_v4_prefix(text: &str) -> Option<(u32, u32)> {
    let text = text.trim();
    if let Some(address) = parse_octets(text) {
        return Some((address, 4));
    }
    let body = text.strip_suffix('.')?;
    let mut value: u32 = 0;
    let mut count = 0;
    for part in body.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        value = (value << 8) | octet;
        count += 1;
    }
    (1..=3).contains(&count).then_some((value, count))
}

/// The searched-for strings of a `has_*ipv4*` call: every argument after the first, dynamic
/// arrays flattened.
fn needles(args: &[ScalarValue]) -> Vec<String> {
    args[1..]
        .iter()
        .flat_map(arg_texts)
        .flatten()
        .collect::<Vec<_>>()
}

fn has_ipv4_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let wanted: Vec<u32> = needles(args)
        .iter()
        .filter_map(|n| parse_octets(n.trim()))
        .collect();
    let found = match arg_text(&args[0]) {
        Some(text) if !wanted.is_empty() => ipv4_terms(&text).iter().any(|a| wanted.contains(a)),
        _ => false,
    };
    Ok(ScalarValue::Boolean(Some(found)))
}

fn has_ipv4_prefix_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let wanted: Vec<(u32, u32)> = needles(args)
        .iter()
        .filter_map(|n| parse_v4_prefix(n))
        .collect();
    let found = match arg_text(&args[0]) {
        Some(text) if !wanted.is_empty() => ipv4_terms(&text).iter().any(|address| {
            wanted
                .iter()
                .any(|&(octets, count)| address >> (8 * (4 - count)) == octets)
        }),
        _ => false,
    };
    Ok(ScalarValue::Boolean(Some(found)))
}

// ---------------------------------------------------------------------------------------------
// IPv6
// ---------------------------------------------------------------------------------------------

/// A parsed IPv6 (or IPv4) address: the 128-bit value, the prefix length, and whether it was
/// written with a dotted IPv4 part.
#[derive(Debug, Clone, Copy, PartialEq)]
struct V6 {
    address: u128,
    prefix: u32,
    dotted: bool,
}

const MAPPED: u128 = 0xffff_u128 << 32;

fn parse_v6(text: &str) -> Option<V6> {
    let text = text.trim();
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => {
            let prefix = prefix.trim();
            if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (address.trim(), Some(prefix.parse::<u32>().ok()?))
        }
        None => (text, None),
    };
    if let Some(v4) = parse_octets(address) {
        let prefix = prefix.unwrap_or(32);
        return (prefix <= 32).then_some(V6 {
            address: MAPPED | u128::from(v4),
            prefix: prefix + 96,
            dotted: true,
        });
    }
    let value = u128::from(address.parse::<Ipv6Addr>().ok()?);
    let dotted = address.contains('.');
    let prefix = match prefix {
        None => 128,
        // A prefix written after a dotted IPv4 tail counts over that tail's 32 bits.
        Some(p) if dotted && p <= 32 => p + 96,
        Some(p) if p <= 128 => p,
        Some(_) => return None,
    };
    Some(V6 {
        address: value,
        prefix,
        dotted,
    })
}

fn arg_v6(value: &ScalarValue) -> Option<V6> {
    parse_v6(&arg_text(value)?)
}

fn mask_v6(prefix: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix.min(128))
    }
}

/// The address as compared: an IPv4-compatible address written in dotted form (`::a.b.c.d`) is
/// taken as the IPv4-mapped one, so that it matches the plain IPv4 address.
fn comparable(ip: V6) -> u128 {
    if ip.dotted && ip.address >> 32 == 0 {
        ip.address | MAPPED
    } else {
        ip.address
    }
}

fn canonical_v6(address: u128) -> String {
    let groups: Vec<String> = (0..8)
        .rev()
        .map(|i| format!("{:04x}", (address >> (16 * i)) & 0xffff))
        .collect();
    groups.join(":")
}

fn v6_string(ip: Option<V6>, prefix: Option<Option<u32>>) -> ScalarValue {
    let text = match (ip, prefix) {
        (Some(ip), Some(extra)) => {
            let p = extra.map_or(ip.prefix, |e| e.min(ip.prefix));
            canonical_v6(ip.address & mask_v6(p))
        }
        _ => String::new(),
    };
    ScalarValue::Utf8(Some(text))
}

fn parse_ipv6_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(v6_string(arg_v6(&args[0]), Some(None)))
}

fn parse_ipv6_mask_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let prefix = if args[1].is_null() {
        None
    } else {
        prefix_arg(args, 1, 128)
    };
    Ok(v6_string(arg_v6(&args[0]), prefix))
}

fn v6_pair(args: &[ScalarValue]) -> Option<(u128, u128)> {
    let a = arg_v6(&args[0])?;
    let b = arg_v6(&args[1])?;
    let own = a.prefix.min(b.prefix);
    let prefix = prefix_arg(args, 2, 128)?.map_or(own, |p| p.min(own));
    let mask = mask_v6(prefix);
    Some((comparable(a) & mask, comparable(b) & mask))
}

fn ipv6_compare_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Int64(
        v6_pair(args).map(|(a, b)| a.cmp(&b) as i64),
    ))
}

fn ipv6_is_match_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Boolean(v6_pair(args).map(|(a, b)| a == b)))
}

/// `ipv6_is_in_range` and `ipv6_is_in_any_range`, with the null rule of the IPv4 versions.
fn ipv6_is_in_range_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(ip) = arg_v6(&args[0]) else {
        return Ok(ScalarValue::Boolean(None));
    };
    let address = comparable(ip) & mask_v6(ip.prefix);
    let mut invalid = false;
    for text in args[1..].iter().flat_map(arg_texts) {
        match text.as_deref().and_then(parse_v6) {
            Some(range) => {
                let mask = mask_v6(range.prefix);
                if address & mask == comparable(range) & mask {
                    return Ok(ScalarValue::Boolean(Some(true)));
                }
            }
            None => invalid = true,
        }
    }
    Ok(ScalarValue::Boolean((!invalid).then_some(false)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::strings::tests::{ctx, eval_scalar};
    use datafusion::logical_expr::lit;
    use quarry_kql::Span;

    fn s(text: &str) -> PlannedArg {
        PlannedArg {
            expr: lit(text),
            data_type: DataType::Utf8,
            span: Span::default(),
        }
    }

    fn n(value: i64) -> PlannedArg {
        PlannedArg {
            expr: lit(value),
            data_type: DataType::Int64,
            span: Span::default(),
        }
    }

    fn d(json: &str) -> PlannedArg {
        PlannedArg {
            expr: Expr::Literal(ScalarValue::LargeUtf8(Some(json.to_string())), None),
            data_type: DataType::LargeUtf8,
            span: Span::default(),
        }
    }

    async fn call(name: &str, args: Vec<PlannedArg>) -> ScalarValue {
        eval_scalar(plan(name, &args, &ctx()).unwrap().unwrap()).await
    }

    fn b(value: Option<bool>) -> ScalarValue {
        ScalarValue::Boolean(value)
    }

    fn long(value: Option<i64>) -> ScalarValue {
        ScalarValue::Int64(value)
    }

    fn text(value: &str) -> ScalarValue {
        ScalarValue::Utf8(Some(value.to_string()))
    }

    #[tokio::test]
    async fn ipv4_parse_and_format() {
        assert_eq!(
            call("parse_ipv4", vec![s("127.0.0.1")]).await,
            long(Some(2130706433))
        );
        assert_eq!(
            call("parse_ipv4", vec![s("192.1.168.1/24")]).await,
            long(Some(3221334016))
        );
        assert_eq!(call("parse_ipv4", vec![s("1.2.3")]).await, long(None));
        assert_eq!(call("parse_ipv4", vec![s("1.2.3.256")]).await, long(None));
        assert_eq!(
            call("parse_ipv4_mask", vec![s("192.1.168.2"), n(10)]).await,
            long(Some(3221225472))
        );
        assert_eq!(
            call("format_ipv4", vec![s("192.168.1.1/24"), n(32)]).await,
            text("192.168.1.0")
        );
        assert_eq!(
            call("format_ipv4", vec![n(3232235777)]).await,
            text("192.168.1.1")
        );
        assert_eq!(
            call("format_ipv4", vec![s("192.168.1.1/24"), n(-1)]).await,
            text("")
        );
        assert_eq!(
            call("format_ipv4_mask", vec![s("192.168.1.1/24"), n(32)]).await,
            text("192.168.1.0/24")
        );
        assert_eq!(
            call("format_ipv4_mask", vec![s("192.168.1.1")]).await,
            text("192.168.1.1/32")
        );
        assert_eq!(
            call("ipv4_netmask_suffix", vec![s("127.0.0.1/16")]).await,
            long(Some(16))
        );
        assert_eq!(
            call("ipv4_netmask_suffix", vec![s("10.1.2.3")]).await,
            long(Some(32))
        );
    }

    #[tokio::test]
    async fn ipv4_ranges_and_matching() {
        assert_eq!(
            call("ipv4_is_private", vec![s("192.168.1.1/24")]).await,
            b(Some(true))
        );
        assert_eq!(
            call("ipv4_is_private", vec![s("172.31.0.1")]).await,
            b(Some(true))
        );
        assert_eq!(
            call("ipv4_is_private", vec![s("172.32.0.1")]).await,
            b(Some(false))
        );
        assert_eq!(call("ipv4_is_private", vec![s("x")]).await, b(None));
        assert_eq!(
            call(
                "ipv4_is_in_range",
                vec![s("192.168.1.6"), s("192.168.1.1/24")]
            )
            .await,
            b(Some(true))
        );
        assert_eq!(
            call(
                "ipv4_is_in_range",
                vec![s("192.168.2.1"), s("192.168.1.1/24")]
            )
            .await,
            b(Some(false))
        );
        assert_eq!(
            call("ipv4_is_in_range", vec![s("10.1.2.3/24"), s("10.0.0.0/8")]).await,
            b(Some(true))
        );
        assert_eq!(
            call("ipv4_is_in_range", vec![s("10.1.2.3"), s("bad")]).await,
            b(None)
        );
        assert_eq!(
            call(
                "ipv4_is_in_any_range",
                vec![s("192.168.1.6"), s("10.0.0.1/8"), s("192.168.1.1/24")]
            )
            .await,
            b(Some(true))
        );
        assert_eq!(
            call(
                "ipv4_is_in_any_range",
                vec![s("1.1.1.1"), d(r#"["192.168.1.1/16","10.0.0.1/8"]"#)]
            )
            .await,
            b(Some(false))
        );
        assert_eq!(
            call(
                "ipv4_is_match",
                vec![s("192.168.1.1/24"), s("192.168.1.255")]
            )
            .await,
            b(Some(true))
        );
        assert_eq!(
            call(
                "ipv4_is_match",
                vec![s("192.168.1.1"), s("192.168.1.0"), n(31)]
            )
            .await,
            b(Some(true))
        );
        assert_eq!(
            call("ipv4_is_match", vec![s("192.168.1.1"), s("192.168.1.0")]).await,
            b(Some(false))
        );
        assert_eq!(
            call("ipv4_compare", vec![s("127.0.0.1"), s("127.0.0.2")]).await,
            long(Some(-1))
        );
        assert_eq!(
            call(
                "ipv4_compare",
                vec![s("192.168.1.1/24"), s("192.168.1.255")]
            )
            .await,
            long(Some(0))
        );
    }

    #[tokio::test]
    async fn ipv4_text_search() {
        let log = "05:04:54 127.0.0.1 GET /favicon.ico 404";
        assert_eq!(
            call("has_ipv4", vec![s(log), s("127.0.0.1")]).await,
            b(Some(true))
        );
        assert_eq!(
            call("has_ipv4", vec![s("05:04:54127.0.0.1 GET"), s("127.0.0.1")]).await,
            b(Some(false))
        );
        assert_eq!(
            call("has_ipv4", vec![s("at 127.0.0.256 x"), s("127.0.0.256")]).await,
            b(Some(false))
        );
        assert_eq!(
            call("has_ipv4", vec![s("from 10.1.1.201."), s("10.1.1.201")]).await,
            b(Some(true))
        );
        assert_eq!(
            call("has_ipv4", vec![s("v1.2.3.4.5"), s("1.2.3.4")]).await,
            b(Some(false))
        );
        assert_eq!(
            call("has_ipv4_prefix", vec![s(log), s("127.0.")]).await,
            b(Some(true))
        );
        assert_eq!(
            call("has_ipv4_prefix", vec![s(log), s("127.0")]).await,
            b(Some(false))
        );
        assert_eq!(
            call(
                "has_any_ipv4",
                vec![s(log), d(r#"["127.0.0.2","127.0.0.1"]"#)]
            )
            .await,
            b(Some(true))
        );
        assert_eq!(
            call("has_any_ipv4_prefix", vec![s(log), s("10."), s("127.")]).await,
            b(Some(true))
        );
    }

    #[tokio::test]
    async fn ipv6_functions() {
        assert_eq!(
            call("parse_ipv6", vec![s("192.168.255.255/24")]).await,
            text("0000:0000:0000:0000:0000:ffff:c0a8:ff00")
        );
        assert_eq!(
            call("parse_ipv6", vec![s("fe80::85d:e82c:9446:7994")]).await,
            text("fe80:0000:0000:0000:085d:e82c:9446:7994")
        );
        assert_eq!(call("parse_ipv6", vec![s("nope")]).await, text(""));
        assert_eq!(
            call("parse_ipv6_mask", vec![s("::192.168.255.255/24"), n(128)]).await,
            text("0000:0000:0000:0000:0000:0000:c0a8:ff00")
        );
        assert_eq!(
            call(
                "parse_ipv6_mask",
                vec![s("fe80::85d:e82c:9446:7994/120"), n(124)]
            )
            .await,
            text("fe80:0000:0000:0000:085d:e82c:9446:7900")
        );
        assert_eq!(
            call(
                "ipv6_compare",
                vec![s("192.168.1.1"), s("::ffff:c0a8:0101")]
            )
            .await,
            long(Some(0))
        );
        assert_eq!(
            call(
                "ipv6_compare",
                vec![s("::192.168.1.1/30"), s("192.168.1.255/24")]
            )
            .await,
            long(Some(0))
        );
        assert_eq!(
            call("ipv6_compare", vec![s("::1"), s("::2")]).await,
            long(Some(-1))
        );
        assert_eq!(
            call(
                "ipv6_is_match",
                vec![
                    s("fe80::85d:e82c:9446:7994"),
                    s("fe80::85d:e82c:9446:7995"),
                    n(127)
                ]
            )
            .await,
            b(Some(true))
        );
        assert_eq!(
            call(
                "ipv6_is_in_range",
                vec![
                    s("a5e:f127:8a9d:146d:e102:b5d3:c755:abcd"),
                    s("a5e:f127:8a9d:146d:e102:b5d3:c755:0000/112")
                ]
            )
            .await,
            b(Some(true))
        );
        assert_eq!(
            call(
                "ipv6_is_in_any_range",
                vec![
                    s("a5e:f127:8a9d:146d:e102:b5d3:c756:abd1"),
                    d(r#"["a5e:f127:8a9d:146d:e102:b5d3:c755:f6cd/112"]"#)
                ]
            )
            .await,
            b(Some(false))
        );
    }
}
