//! The demo rule pack: Azure-Sentinel style YAML rules written for the demo (in
//! `crates/quarry-ingest/demo/rules/`), embedded in the binary, and the values of the
//! placeholders its parameterised rule needs.

/// The address of the planted command-and-control server.
pub(crate) const C2_IP: &str = "203.0.113.77";
/// The domain of the planted command-and-control server.
pub(crate) const C2_DOMAIN: &str = "msteams-cdn.example";

/// Every rule of the pack: (file name, YAML text).
pub(crate) const RULE_PACK: &[(&str, &str)] = &[
    (
        "rdp-brute-force-then-success.yaml",
        include_str!("../../demo/rules/rdp-brute-force-then-success.yaml"),
    ),
    (
        "signin-password-spray.yaml",
        include_str!("../../demo/rules/signin-password-spray.yaml"),
    ),
    (
        "office-macro-encoded-powershell.yaml",
        include_str!("../../demo/rules/office-macro-encoded-powershell.yaml"),
    ),
    (
        "run-key-user-writable-path.yaml",
        include_str!("../../demo/rules/run-key-user-writable-path.yaml"),
    ),
    (
        "network-footprint-c2.yaml",
        include_str!("../../demo/rules/network-footprint-c2.yaml"),
    ),
    (
        "lsass-dump-comsvcs.yaml",
        include_str!("../../demo/rules/lsass-dump-comsvcs.yaml"),
    ),
    (
        "certutil-remote-download.yaml",
        include_str!("../../demo/rules/certutil-remote-download.yaml"),
    ),
    (
        "schtasks-user-writable-payload.yaml",
        include_str!("../../demo/rules/schtasks-user-writable-payload.yaml"),
    ),
    (
        "inhibit-system-recovery.yaml",
        include_str!("../../demo/rules/inhibit-system-recovery.yaml"),
    ),
];

/// Placeholder text as it appears in the queries, and the value the demo substitutes.
pub(crate) const PLACEHOLDERS: &[(&str, &str)] = &[
    ("IP ADDRESS GOES HERE", C2_IP),
    ("DNS ENTRY GOES HERE", C2_DOMAIN),
];
