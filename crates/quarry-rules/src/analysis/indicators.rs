//! Literal indicators in a query's strings: IP addresses and ranges, domains, URLs, e-mail
//! addresses and file hashes, with the checks that keep file names, .NET names, version strings
//! and regular expressions out.

use super::facts::{Facts, Role, StringSite};
use super::semantic::words;
use super::{Indicator, IndicatorKind};
use regex::Regex;
use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::sync::OnceLock;

struct Patterns {
    url: Regex,
    email: Regex,
    ipv4: Regex,
    ipv6: Regex,
    hash: Regex,
    domain: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let compile = |pattern: &str| Regex::new(pattern).expect("a valid built-in pattern");
        Patterns {
            url: compile(r#"(?i)\b(?:https?|hxxps?|ftps?|wss?)://[^\s"'<>\\|^`{}]+"#),
            email: compile(
                r"(?i)\b[a-z0-9][a-z0-9._%+-]*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}\b",
            ),
            ipv4: compile(r"\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?"),
            ipv6: compile(r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:/\d{1,3})?"),
            hash: compile(r"\b[0-9A-Fa-f]{32,64}\b"),
            domain: compile(r"(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b"),
        }
    })
}

/// Top-level domains accepted for a domain: the generic and country ones seen in threat
/// intelligence, without those that are also common file extensions or code words (`py`, `sh`,
/// `pl`, `rs`, `md`, `so`, `zip`, `mov`, `id`, `name`, `app`).
const TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "io", "co", "me", "tv", "cc",
    "ws", "to", "us", "uk", "de", "ru", "cn", "jp", "fr", "it", "nl", "es", "se", "no", "fi", "dk",
    "be", "ch", "at", "eu", "ca", "au", "nz", "br", "mx", "ar", "cl", "in", "kr", "kp", "tw", "hk",
    "sg", "vn", "th", "ph", "ir", "iq", "sy", "tr", "il", "ae", "sa", "pk", "bd", "ua", "by", "kz",
    "ge", "az", "ro", "bg", "hu", "cz", "sk", "gr", "pt", "ie", "lt", "lv", "ee", "su", "za", "ng",
    "ke", "eg", "ma", "tk", "ml", "ga", "cf", "gq", "pw", "top", "xyz", "club", "online", "site",
    "live", "click", "download", "onion", "ly", "gl", "gd", "la", "ms", "fm", "nu", "vc", "ai",
    "cloud", "asia", "mobi", "pro", "tech", "space", "icu", "buzz", "rest", "fun", "win", "bid",
    "loan", "men", "party", "review", "stream", "trade", "date", "racing", "science", "work",
    "shop", "store", "xxx",
];

/// Second-level names reserved for documentation and examples (RFC 2606, Microsoft's samples).
const EXAMPLE_DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "contoso.com",
    "fabrikam.com",
    "wingtiptoys.com",
    "northwindtraders.com",
];

fn is_example_domain(domain: &str) -> bool {
    let lower = domain.to_ascii_lowercase();
    EXAMPLE_DOMAINS
        .iter()
        .any(|d| lower == *d || lower.ends_with(&format!(".{d}")))
}

/// The characters before and after a match, for boundary checks the regex engine cannot make.
fn around(text: &str, range: &Range<usize>) -> (Option<char>, Option<char>, Option<char>) {
    let before = text[..range.start].chars().next_back();
    let mut after = text[range.end..].chars();
    (before, after.next(), after.next())
}

fn is_ipv4(text: &str, range: &Range<usize>) -> bool {
    let candidate = &text[range.clone()];
    let address = candidate.split('/').next().unwrap_or("");
    if address.parse::<Ipv4Addr>().is_err() {
        return false;
    }
    let (before, after, after2) = around(text, range);
    // Part of a longer dotted number (`10.0.14393.0`, an OID) is a version, not an address;
    // so is a number after a product name or key (`Chrome/4.0.221.6`, `rv:1.9.1.2`).
    let dotted_before = before.is_some_and(|c| c.is_ascii_digit() || c == '.' || c == '/')
        || (before == Some(':')
            && text[..range.start]
                .chars()
                .rev()
                .nth(1)
                .is_some_and(|c| c.is_ascii_alphabetic()));
    let dotted_after = after.is_some_and(|c| c.is_ascii_digit())
        || (after == Some('.') && after2.is_some_and(|c| c.is_ascii_digit()));
    !dotted_before && !dotted_after
}

fn is_ipv6(text: &str, range: &Range<usize>) -> bool {
    let candidate = &text[range.clone()];
    let address = candidate.split('/').next().unwrap_or("");
    if address == "::" || !address.contains(|c: char| c.is_ascii_digit()) {
        return false;
    }
    if address.parse::<Ipv6Addr>().is_err() {
        return false;
    }
    let (before, after, _) = around(text, range);
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == ':');
    !glued(before) && !glued(after) && after != Some('.')
}

fn hash_kind(hex: &str) -> Option<IndicatorKind> {
    // A hash has both letters and digits; a run of one kind is a number or a word.
    let letters = hex.chars().any(|c| c.is_ascii_alphabetic());
    let digits = hex.chars().any(|c| c.is_ascii_digit());
    if !letters || !digits {
        return None;
    }
    match hex.len() {
        32 => Some(IndicatorKind::Md5),
        40 => Some(IndicatorKind::Sha1),
        64 => Some(IndicatorKind::Sha256),
        _ => None,
    }
}

fn is_domain(text: &str, range: &Range<usize>) -> bool {
    let domain = &text[range.clone()];
    let Some(tld) = domain.rsplit('.').next() else {
        return false;
    };
    // `System.IO`, `Az.Accounts`, `ASP.NET`: a capitalised last label is a .NET or PowerShell
    // name; domains are written in lower case.
    if !TLDS.contains(&tld) {
        return false;
    }
    if is_example_domain(domain) {
        return false;
    }
    let (before, after, _) = around(text, range);
    // `$.properties.info`, `-file.com`, `obj.method()`: not names on their own.
    let bad_before = before.is_some_and(|c| matches!(c, '.' | '-' | '_' | '$' | '%' | '@'));
    let bad_after = after.is_some_and(|c| matches!(c, '(' | '-' | '_' | '@'));
    !bad_before && !bad_after
}

/// True when the context says a hex string is an identifier, not a hash (`DeviceId`,
/// `let alertId = "…"`).
fn identifier_context(site: &StringSite, facts: &Facts) -> bool {
    let names = site.column.iter().map(String::as_str).chain(
        site.binding
            .and_then(|b| facts.lets.get(b))
            .map(|b| b.name.as_str()),
    );
    names.into_iter().any(|name| {
        let words = words(name);
        let hashy = words
            .iter()
            .any(|w| w.contains("hash") || w.contains("sha") || w.contains("md5"));
        !hashy && words.iter().any(|w| w == "id" || w == "guid")
    })
}

/// Indicators in one piece of text (a string literal as written), with absolute spans.
fn scan(text: &str, base: usize, ids_only: bool, out: &mut Vec<Indicator>) {
    let p = patterns();
    let mut taken: Vec<Range<usize>> = Vec::new();
    let overlaps = |taken: &[Range<usize>], r: &Range<usize>| {
        taken.iter().any(|t| t.start < r.end && r.start < t.end)
    };
    let mut push = |kind: IndicatorKind, range: Range<usize>, taken: &mut Vec<Range<usize>>| {
        out.push(Indicator {
            kind,
            value: text[range.clone()].to_string(),
            span: base + range.start..base + range.end,
        });
        taken.push(range);
    };
    for m in p.url.find_iter(text) {
        let trimmed = m.as_str().trim_end_matches(['.', ',', ';', ')', ']', '*']);
        let range = m.start()..m.start() + trimmed.len();
        if trimmed.len() > m.as_str().find("://").unwrap_or(0) + 3 {
            push(IndicatorKind::Url, range, &mut taken);
        }
    }
    for m in p.email.find_iter(text) {
        let range = m.range();
        let tld = m.as_str().rsplit('.').next().unwrap_or("");
        let domain = m.as_str().rsplit('@').next().unwrap_or("");
        if !overlaps(&taken, &range)
            && TLDS.contains(&tld.to_ascii_lowercase().as_str())
            && !is_example_domain(domain)
        {
            push(IndicatorKind::Email, range, &mut taken);
        }
    }
    for m in p.ipv4.find_iter(text) {
        let range = m.range();
        if !overlaps(&taken, &range) && is_ipv4(text, &range) {
            push(IndicatorKind::Ipv4, range, &mut taken);
        }
    }
    if text.contains(':') {
        for m in p.ipv6.find_iter(text) {
            let range = m.range();
            if !overlaps(&taken, &range) && is_ipv6(text, &range) {
                push(IndicatorKind::Ipv6, range, &mut taken);
            }
        }
    }
    if !ids_only {
        for m in p.hash.find_iter(text) {
            let range = m.range();
            if let Some(kind) = hash_kind(m.as_str()) {
                if !overlaps(&taken, &range) {
                    push(kind, range, &mut taken);
                }
            }
        }
    }
    if text.contains('.') {
        for m in p.domain.find_iter(text) {
            let range = m.range();
            if !overlaps(&taken, &range) && is_domain(text, &range) {
                push(IndicatorKind::Domain, range, &mut taken);
            }
        }
    }
}

/// Every indicator in the query's string literals, by position, first of each (kind, value).
pub(crate) fn find(src: &str, facts: &Facts) -> Vec<Indicator> {
    let regex_lets: HashSet<usize> = facts
        .let_uses
        .iter()
        .filter(|u| u.role == Role::Regex)
        .map(|u| u.id)
        .collect();
    let mut found = Vec::new();
    for site in &facts.strings {
        if matches!(
            site.role,
            Role::Regex | Role::Rewrite | Role::ExternalUri | Role::DateTime
        ) || site.binding.is_some_and(|b| regex_lets.contains(&b))
        {
            continue;
        }
        let Some(text) = src.get(site.span.clone()) else {
            continue;
        };
        scan(
            text,
            site.span.start,
            identifier_context(site, facts),
            &mut found,
        );
    }
    found.sort_by_key(|i| i.span.start);
    let mut seen = HashSet::new();
    found.retain(|i| seen.insert((i.kind, i.value.clone())));
    found
}

#[cfg(test)]
mod tests {
    use crate::analysis::{analyse, Indicator, IndicatorKind};
    use crate::model::FunctionLibrary;

    fn indicators(query: &str) -> Vec<(IndicatorKind, String)> {
        analyse(query, &FunctionLibrary::new())
            .indicators
            .into_iter()
            .map(|i: Indicator| (i.kind, i.value))
            .collect()
    }

    fn kinds(list: &[(IndicatorKind, &str)]) -> Vec<(IndicatorKind, String)> {
        list.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn every_kind_in_strings_lists_and_datatables() {
        use IndicatorKind::*;
        let got = indicators(
            "let ips = dynamic(['203.0.113.7', \"10.0.0.0/8\", '2001:db8::1']);\n\
             let hashes = datatable(h:string)['d41d8cd98f00b204e9800998ecf8427e', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'];\n\
             T | where Url has 'http://evil.example.ru/a?b=1' or Domain == 'mail.badsite.xyz'\n\
             or Sender == 'bob@phish.net' or H == 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n\
             or ips == '203.0.113.7' or IP in ('0.0.0.0', '127.0.0.1', '::1')",
        );
        assert_eq!(
            got,
            kinds(&[
                (Ipv4, "203.0.113.7"),
                (Ipv4, "10.0.0.0/8"),
                (Ipv6, "2001:db8::1"),
                (Md5, "d41d8cd98f00b204e9800998ecf8427e"),
                (Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
                (Url, "http://evil.example.ru/a?b=1"),
                (Domain, "mail.badsite.xyz"),
                (Email, "bob@phish.net"),
                (
                    Sha256,
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                ),
                (Ipv4, "0.0.0.0"),
                (Ipv4, "127.0.0.1"),
                (Ipv6, "::1"),
            ])
        );
    }

    #[test]
    fn spans_point_at_the_value_in_the_query() {
        let query = "T | where A == \"x 198.51.100.2 y\"";
        let found = analyse(query, &FunctionLibrary::new()).indicators;
        assert_eq!(found.len(), 1);
        assert_eq!(&query[found[0].span.clone()], "198.51.100.2");
    }

    #[test]
    fn file_names_dotnet_names_versions_and_regexes_are_not_indicators() {
        let got = indicators(
            "let IPRegex = '[0-9]{1,3}\\\\.[0-9]{1,3}\\\\.[0-9]{1,3}\\\\.[0-9]{1,3}';\n\
             let DeviceId = \"474908f457a1dc4c1fab568f808d5f77bf3bb951\";\n\
             T | where FileName in~ ('cmd.exe', 'lsass.exe', 'System.Management.Automation.dll', 'evil.ps1', 'run.py', 'a.sh', 'x.zip')\n\
             and Ver == '10.0.14393.0' and Oid == '1.2.840.113556.1.4.803' and N == 'System.IO' and M == 'Az.Accounts'\n\
             and Cmd has 'Net.WebClient' and P == '$.properties.info' and Msg matches regex @'evil\\.com'\n\
             and R == 'HKLM\\\\SOFTWARE\\\\Microsoft' and U == 'john.doe@contoso.com' and S == 'www.contoso.com'\n\
             and Time == '12:30:00' and Mac == '00:11:22:33:44:55' and X matches regex IPRegex and D == DeviceId\n\
             and Z == 'user.name' and Num == '12345678901234567890123456789012'\n\
             and UA has 'rv:1.9.1.2) Gecko Chrome/4.0.221.6' and F == 'ASP.NET'\n\
             | extend F = replace(@'1.2.3.4', 'evil.com', F)\n\
             | join (externaldata(a:string)[@'https://raw.githubusercontent.com/x/y.csv']) on a",
        );
        assert_eq!(got, vec![]);
    }

    #[test]
    fn unique_by_kind_and_value_in_order_of_position() {
        use IndicatorKind::*;
        let got =
            indicators("T | where A in ('b.ru', 'a.ru', 'b.ru') or B == '1.1.1.1' or C == 'b.ru'");
        assert_eq!(
            got,
            kinds(&[(Domain, "b.ru"), (Domain, "a.ru"), (Ipv4, "1.1.1.1")])
        );
    }
}
