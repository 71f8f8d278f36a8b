//! What a value denotes (`ip`, `url`, `host`, …), told from the words of a placeholder, a `let`
//! name or a column name (`IP ADDRESS GOES HERE`, `RemoteIP`, `FileOriginUrl`, `SrcIpAddr`).

/// The words of a name or text, lower-case: split at non-alphanumerics and at case changes
/// (`FileOriginUrl` → file, origin, url; `IPAddress` → ip, address; `SHA256` → sha256).
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        // The case of the previous character as written (`current` is already lower-case).
        let previous = if current.is_empty() {
            None
        } else {
            i.checked_sub(1).map(|j| chars[j])
        };
        if let Some(previous) = previous {
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let lower_to_upper = previous.is_lowercase() && c.is_uppercase();
            // The last capital of a run starts the next word: `IPAddress` → IP, Address.
            let run_ends = previous.is_uppercase() && c.is_uppercase() && next_is_lower;
            if lower_to_upper || run_ends {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Semantics by the words that signal them, most specific first (a `FileOriginUrl` is a URL, an
/// `InitiatingProcessFileName` a process).
const SIGNALS: &[(&str, &[&str])] = &[
    ("url", &["url", "urls", "uri", "uris", "link", "links"]),
    (
        "ip",
        &[
            "ip",
            "ips",
            "ipaddress",
            "ipaddr",
            "ipv4",
            "ipv6",
            "subnet",
            "cidr",
        ],
    ),
    (
        "hash",
        &[
            "hash", "hashes", "sha1", "sha256", "md5", "sha", "filehash", "sha1s", "sha256s",
            "md5s",
        ],
    ),
    ("account", &["email", "emails", "mail", "upn", "upns"]),
    (
        "domain",
        &["domain", "domains", "dns", "fqdn", "tld", "tlds"],
    ),
    (
        "host",
        &[
            "host",
            "hosts",
            "hostname",
            "hostnames",
            "computer",
            "computers",
            "device",
            "devices",
            "machine",
            "machines",
            "server",
            "servers",
            "workstation",
            "dvc",
        ],
    ),
    (
        "account",
        &[
            "user",
            "users",
            "username",
            "usernames",
            "account",
            "accounts",
            "employee",
            "principal",
            "caller",
            "actor",
            "sid",
            "vip",
            "vips",
        ],
    ),
    (
        "process",
        &[
            "process",
            "processes",
            "processname",
            "commandline",
            "cmdline",
            "command",
            "commands",
            "cmdlet",
        ],
    ),
    (
        "file",
        &[
            "file",
            "files",
            "filename",
            "filenames",
            "filepath",
            "path",
            "folder",
            "extension",
        ],
    ),
    (
        "time",
        &[
            "time",
            "timestamp",
            "date",
            "datetime",
            "starttime",
            "endtime",
        ],
    ),
    ("guid", &["guid", "uuid", "objectid", "tenantid"]),
];

/// The semantic its words signal, if any (`"IP ADDRESS GOES HERE"` → `ip`).
pub(crate) fn semantic_of(text: &str) -> Option<&'static str> {
    let mut words = words(text);
    // A time zone is a place, not a time.
    if let Some(i) = words
        .windows(2)
        .position(|w| w[0] == "time" && w[1] == "zone")
    {
        words.splice(i..i + 2, ["timezone".to_string()]);
    }
    // `IP ADDRESS` and `Ip Addr` are one signal split in two.
    let joined: Vec<String> = words
        .windows(2)
        .map(|w| format!("{}{}", w[0], w[1]))
        .collect();
    SIGNALS
        .iter()
        .find(|(_, signals)| {
            words
                .iter()
                .chain(joined.iter())
                .any(|w| signals.contains(&w.as_str()))
        })
        .map(|(semantic, _)| *semantic)
}

/// A parameter name from placeholder text: the words that are not filler, joined by `_`
/// (`IP ADDRESS GOES HERE` → `ip_address`, `<replace this with full computer name>` →
/// `full_computer_name`); `value` when nothing is left.
pub(crate) fn name_from_text(text: &str) -> String {
    const FILLER: &[&str] = &[
        "goes", "here", "enter", "insert", "replace", "this", "with", "the", "a", "an", "your",
        "put", "type", "fill", "in",
    ];
    let words: Vec<String> = words(text)
        .into_iter()
        .filter(|w| !FILLER.contains(&w.as_str()))
        .filter(|w| !(w.len() > 1 && w.chars().all(|c| c == 'x')))
        .collect();
    let mut name = String::new();
    for word in words {
        if name.len() + 1 + word.len() > 40 {
            break;
        }
        if !name.is_empty() {
            name.push('_');
        }
        name.push_str(&word);
    }
    if name.is_empty() {
        "value".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_case_changes_and_separators() {
        assert_eq!(words("FileOriginUrl"), vec!["file", "origin", "url"]);
        assert_eq!(words("IPAddress"), vec!["ip", "address"]);
        assert_eq!(words("SrcIpAddr"), vec!["src", "ip", "addr"]);
        assert_eq!(words("SHA256"), vec!["sha256"]);
        assert_eq!(
            words("IP ADDRESS GOES HERE"),
            vec!["ip", "address", "goes", "here"]
        );
        assert_eq!(words("<project_X>"), vec!["project", "x"]);
        assert_eq!(words("StartTimeISO"), vec!["start", "time", "iso"]);
    }

    #[test]
    fn semantics_from_placeholders_and_columns() {
        let cases = [
            ("IP ADDRESS GOES HERE", Some("ip")),
            ("URL GOES HERE", Some("url")),
            ("DNS ENTRY GOES HERE", Some("domain")),
            ("FILENAME GOES HERE", Some("file")),
            ("<replace this with full computer name>", Some("host")),
            ("RemoteIP", Some("ip")),
            ("FileOriginUrl", Some("url")),
            ("FileOriginReferrerUrl", Some("url")),
            ("DeviceName", Some("host")),
            ("SHA256", Some("hash")),
            ("InitiatingProcessFileName", Some("process")),
            ("AccountUpn", Some("account")),
            ("nonapproved_users", Some("account")),
            ("SrcIpAddr", Some("ip")),
            ("StartTimeISO", Some("time")),
            ("Ip Addr", Some("ip")),
            ("tz_whitelist", None),
            ("JoinedTimeZone", None),
            ("ActionType", None),
        ];
        for (text, expected) in cases {
            assert_eq!(semantic_of(text), expected, "{text}");
        }
    }

    #[test]
    fn names_from_placeholder_text() {
        assert_eq!(name_from_text("IP ADDRESS GOES HERE"), "ip_address");
        assert_eq!(name_from_text("URL GOES HERE"), "url");
        assert_eq!(
            name_from_text("<replace this with full computer name>"),
            "full_computer_name"
        );
        assert_eq!(name_from_text("<project_X>"), "project_x");
        assert_eq!(name_from_text("XXX"), "value");
        assert_eq!(name_from_text("Enter the domain here"), "domain");
        let long =
            name_from_text("a very long placeholder text that goes on and on and on forever");
        assert!(long.len() <= 40, "{long}");
    }
}
