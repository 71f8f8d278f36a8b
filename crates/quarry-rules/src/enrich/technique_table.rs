//! The embedded evidence table for inferring ATT&CK techniques from what a query looks at, used
//! only for rules that declare no technique.
//!
//! Each signature is a conjunction of groups; a group matches when any of its cues is found in
//! the query's code (comments do not count: they say what the author meant, not what the query
//! checks). Cues are deliberately narrow — tool names, registry paths, event ids together with an
//! `EventID` column — because a wrong technique is worse than none. The evidence that matched is
//! quoted in the inferred technique's reason.

use super::text::QueryText;

/// Something to look for in a query.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cue {
    /// A name in the code (table, column, function), compared without case.
    Name(&'static str),
    /// Text inside a string literal, lower-case.
    Text(&'static str),
    /// A Windows event id: an `EventID` (or `EventCode`) name and this number in the code.
    EventId(&'static str),
    /// A number in the code (a port, a logon type), as an integer or an all-digit string.
    Number(&'static str),
}

impl Cue {
    fn matches(self, query: &QueryText) -> bool {
        match self {
            Cue::Name(name) => query.identifiers.contains(&name.to_ascii_lowercase()),
            Cue::Text(text) => query.string_contains(text),
            Cue::EventId(id) => {
                (query.identifiers.contains("eventid") || query.identifiers.contains("eventcode"))
                    && query.numbers.contains(id)
            }
            Cue::Number(n) => query.numbers.contains(n),
        }
    }

    /// How the evidence reads in a reason.
    fn describe(self) -> String {
        match self {
            Cue::Name(name) => format!("name {name}"),
            Cue::Text(text) => format!("\"{text}\""),
            Cue::EventId(id) => format!("EventID {id}"),
            Cue::Number(n) => format!("number {n}"),
        }
    }
}

/// One way of recognising a technique.
#[derive(Debug)]
pub(crate) struct Signature {
    /// The technique id (checked against the embedded ATT&CK data by a test).
    pub technique: &'static str,
    /// What the cues show, for the reason.
    pub meaning: &'static str,
    /// Every group must match; within a group any cue will do.
    pub all: &'static [&'static [Cue]],
}

use Cue::{EventId, Name, Number, Text};

/// The signatures, grouped by tactic for the reader; the order does not matter (results are
/// sorted by technique id).
pub(crate) const SIGNATURES: &[Signature] = &[
    // Credential access.
    Signature {
        technique: "T1003.001",
        meaning: "access to or dumps of the LSASS process",
        all: &[
            &[Text("lsass")],
            &[
                Text("openprocessapicall"),
                Name("GrantedAccess"),
                Text("procdump"),
                Text("comsvcs"),
                Text("minidump"),
                Text("sekurlsa"),
                Text("processaccess"),
            ],
        ],
    },
    Signature {
        technique: "T1003",
        meaning: "credential dumping tools",
        all: &[&[
            Text("mimikatz"),
            Text("sekurlsa"),
            Text("lsadump"),
            Text("kerberos::"),
        ]],
    },
    Signature {
        technique: "T1003.002",
        meaning: "saving the SAM or SECURITY registry hives",
        all: &[&[Text("hklm\\sam"), Text("hklm\\security")]],
    },
    Signature {
        technique: "T1003.003",
        meaning: "copies of the Active Directory database",
        all: &[&[Text("ntds.dit"), Text("ntdsutil")]],
    },
    Signature {
        technique: "T1003.006",
        meaning: "directory replication rights used outside domain controllers",
        all: &[&[
            Text("1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"),
            Text("1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"),
            Text("ds-replication-get-changes"),
            Text("dcsync"),
        ]],
    },
    Signature {
        technique: "T1110",
        meaning: "failed logons",
        all: &[&[
            EventId("4625"),
            EventId("4771"),
            Text("50126"),
            Text("failed password"),
        ]],
    },
    Signature {
        technique: "T1558.003",
        meaning: "Kerberos service tickets with weak encryption",
        all: &[&[EventId("4769")], &[Text("0x17"), Text("rc4")]],
    },
    Signature {
        technique: "T1558.003",
        meaning: "Kerberoasting tools",
        all: &[&[Text("kerberoast"), Text("rubeus")]],
    },
    Signature {
        technique: "T1528",
        meaning: "consent granted to an application",
        all: &[&[Text("consent to application")]],
    },
    Signature {
        technique: "T1040",
        meaning: "packet capture tools",
        all: &[&[
            Text("tcpdump"),
            Text("wireshark"),
            Text("tshark"),
            Text("pktmon"),
            Text("windump"),
        ]],
    },
    // Persistence and privilege escalation.
    Signature {
        technique: "T1547.001",
        meaning: "Run or RunOnce registry keys",
        all: &[&[Text("currentversion\\run")]],
    },
    Signature {
        technique: "T1053.005",
        meaning: "scheduled tasks",
        all: &[&[
            Text("schtasks"),
            Text("register-scheduledtask"),
            Text("new-scheduledtask"),
            EventId("4698"),
            EventId("4702"),
        ]],
    },
    Signature {
        technique: "T1053.003",
        meaning: "cron jobs",
        all: &[&[Text("crontab")]],
    },
    Signature {
        technique: "T1543.003",
        meaning: "new Windows services",
        all: &[&[
            EventId("7045"),
            EventId("4697"),
            Text("sc create"),
            Text("sc.exe create"),
            Text("new-service"),
            Text("serviceinstalled"),
        ]],
    },
    Signature {
        technique: "T1136",
        meaning: "user accounts created",
        all: &[&[EventId("4720")]],
    },
    Signature {
        technique: "T1136.001",
        meaning: "local accounts added with net user",
        all: &[&[Text("net user"), Text("net1 user")], &[Text("/add")]],
    },
    Signature {
        technique: "T1136.003",
        meaning: "cloud accounts created",
        all: &[&[Name("AuditLogs")], &[Text("add user")]],
    },
    Signature {
        technique: "T1098",
        meaning: "members added to security groups",
        all: &[&[EventId("4728"), EventId("4732"), EventId("4756")]],
    },
    Signature {
        technique: "T1098.001",
        meaning: "credentials added to applications or service principals",
        all: &[&[
            Text("certificates and secrets management"),
            Text("add service principal credentials"),
        ]],
    },
    Signature {
        technique: "T1098.003",
        meaning: "members added to directory roles",
        all: &[&[
            Text("add member to role"),
            Text("add eligible member to role"),
        ]],
    },
    Signature {
        technique: "T1098.004",
        meaning: "SSH authorized_keys changes",
        all: &[&[Text("authorized_keys")]],
    },
    Signature {
        technique: "T1505.003",
        meaning: "web shells",
        all: &[&[Text("webshell"), Text("web shell"), Text("china chopper")]],
    },
    Signature {
        technique: "T1505.003",
        meaning: "the IIS worker process starting a shell",
        all: &[&[Text("w3wp")], &[Text("cmd.exe"), Text("powershell")]],
    },
    Signature {
        technique: "T1546.003",
        meaning: "WMI event subscriptions",
        all: &[&[
            Text("__eventfilter"),
            Text("commandlineeventconsumer"),
            Text("activescripteventconsumer"),
            Text("__filtertoconsumerbinding"),
        ]],
    },
    Signature {
        technique: "T1548.002",
        meaning: "UAC bypass through auto-elevating binaries",
        all: &[&[
            Text("fodhelper"),
            Text("ms-settings\\shell"),
            Text("mscfile\\shell"),
        ]],
    },
    Signature {
        technique: "T1484.001",
        meaning: "Group Policy objects changed",
        all: &[
            &[EventId("5136")],
            &[Text("grouppolicycontainer"), Text("gplink")],
        ],
    },
    // Execution.
    Signature {
        technique: "T1059.001",
        meaning: "PowerShell with encoded or downloaded commands",
        all: &[
            &[Text("powershell"), Text("pwsh")],
            &[
                Text("-enc"),
                Text("encodedcommand"),
                Text("frombase64string"),
                Text("downloadstring"),
                Text("invoke-expression"),
                Text("iex("),
                Text("iex "),
            ],
        ],
    },
    Signature {
        technique: "T1059.003",
        meaning: "commands run through cmd /c",
        all: &[&[Text("cmd.exe /c"), Text("cmd /c")]],
    },
    Signature {
        technique: "T1059.004",
        meaning: "Unix shells",
        all: &[&[Text("/bin/bash"), Text("/bin/sh")]],
    },
    Signature {
        technique: "T1059.005",
        meaning: "Windows Script Host",
        all: &[&[Text("wscript"), Text("cscript")]],
    },
    Signature {
        technique: "T1047",
        meaning: "WMI process execution",
        all: &[&[
            Text("wmic"),
            Text("win32_process"),
            Text("wmiprvse"),
            Text("invoke-wmimethod"),
        ]],
    },
    Signature {
        technique: "T1569.002",
        meaning: "PsExec-style remote service execution",
        all: &[&[Text("psexec"), Text("paexec"), Text("psexesvc")]],
    },
    // Defence evasion.
    Signature {
        technique: "T1218.011",
        meaning: "rundll32",
        all: &[&[Text("rundll32")]],
    },
    Signature {
        technique: "T1218.005",
        meaning: "mshta",
        all: &[&[Text("mshta")]],
    },
    Signature {
        technique: "T1218.010",
        meaning: "regsvr32",
        all: &[&[Text("regsvr32")]],
    },
    Signature {
        technique: "T1218.003",
        meaning: "CMSTP",
        all: &[&[Text("cmstp")]],
    },
    Signature {
        technique: "T1218.004",
        meaning: "InstallUtil",
        all: &[&[Text("installutil")]],
    },
    Signature {
        technique: "T1140",
        meaning: "certutil decoding files",
        all: &[
            &[Text("certutil")],
            &[Text("-decode"), Text("/decode"), Text("decodehex")],
        ],
    },
    Signature {
        technique: "T1027",
        meaning: "base64-encoded content decoded by the query",
        all: &[&[Name("base64_decode_tostring"), Name("base64_decodestring")]],
    },
    Signature {
        technique: "T1070.001",
        meaning: "event logs cleared",
        all: &[&[
            EventId("1102"),
            EventId("104"),
            Text("clear-eventlog"),
            Text("securitylogcleared"),
            Text("wevtutil cl"),
            Text("wevtutil.exe cl"),
        ]],
    },
    Signature {
        technique: "T1070.004",
        meaning: "secure file deletion tools",
        all: &[&[Text("sdelete")]],
    },
    Signature {
        technique: "T1562.001",
        meaning: "Defender settings weakened",
        all: &[&[
            Text("set-mppreference"),
            Text("add-mppreference"),
            Text("disablerealtimemonitoring"),
            Text("disableantispyware"),
            Text("tamperprotection"),
        ]],
    },
    Signature {
        technique: "T1562.002",
        meaning: "audit policy changed with auditpol",
        all: &[&[Text("auditpol")]],
    },
    Signature {
        technique: "T1562.004",
        meaning: "firewall rules changed with netsh",
        all: &[&[Text("netsh")], &[Text("firewall")]],
    },
    Signature {
        technique: "T1112",
        meaning: "registry values set from the command line",
        all: &[&[
            Text("reg add"),
            Text("reg.exe add"),
            Text("set-itemproperty"),
            Text("new-itemproperty"),
        ]],
    },
    Signature {
        technique: "T1055",
        meaning: "remote thread creation or code injection APIs",
        all: &[&[
            Text("createremotethread"),
            Text("queueuserapc"),
            Text("writeprocessmemory"),
            Text("ntmapviewofsection"),
        ]],
    },
    Signature {
        technique: "T1550.002",
        meaning: "new-credential logons through seclogo",
        all: &[&[Text("seclogo")]],
    },
    Signature {
        technique: "T1197",
        meaning: "BITS transfers",
        all: &[&[Text("bitsadmin"), Text("start-bitstransfer")]],
    },
    // Discovery.
    Signature {
        technique: "T1482",
        meaning: "domain trust enumeration",
        all: &[&[
            Text("nltest"),
            Text("domain_trusts"),
            Text("get-domaintrust"),
        ]],
    },
    Signature {
        technique: "T1087.002",
        meaning: "AdFind or AD user enumeration",
        all: &[&[Text("adfind"), Text("get-aduser"), Text("get-netuser")]],
    },
    Signature {
        technique: "T1069.001",
        meaning: "net localgroup",
        all: &[&[Text("net localgroup"), Text("net1 localgroup")]],
    },
    Signature {
        technique: "T1069.002",
        meaning: "net group",
        all: &[&[Text("net group"), Text("net1 group")]],
    },
    Signature {
        technique: "T1033",
        meaning: "whoami",
        all: &[&[Text("whoami")]],
    },
    Signature {
        technique: "T1082",
        meaning: "systeminfo",
        all: &[&[Text("systeminfo")]],
    },
    Signature {
        technique: "T1016",
        meaning: "network configuration commands",
        all: &[&[Text("ipconfig"), Text("arp -a"), Text("route print")]],
    },
    Signature {
        technique: "T1057",
        meaning: "tasklist",
        all: &[&[Text("tasklist")]],
    },
    Signature {
        technique: "T1018",
        meaning: "net view",
        all: &[&[Text("net view")]],
    },
    Signature {
        technique: "T1046",
        meaning: "port scanners",
        all: &[&[Text("nmap"), Text("masscan")]],
    },
    // Lateral movement.
    Signature {
        technique: "T1021.001",
        meaning: "Remote Desktop",
        all: &[&[Text("mstsc"), Number("3389"), Text("remoteinteractive")]],
    },
    Signature {
        technique: "T1021.001",
        meaning: "remote interactive logons (LogonType 10)",
        all: &[&[Name("LogonType")], &[EventId("4624")], &[Number("10")]],
    },
    Signature {
        technique: "T1021.002",
        meaning: "administrative shares",
        all: &[&[Text("admin$"), Text("\\c$"), Text("ipc$")]],
    },
    Signature {
        technique: "T1021.006",
        meaning: "Windows Remote Management",
        all: &[&[
            Text("winrm"),
            Text("wsmprovhost"),
            Text("enter-pssession"),
            Text("invoke-command"),
        ]],
    },
    // Initial access.
    Signature {
        technique: "T1566.001",
        meaning: "e-mail attachments",
        all: &[&[Name("EmailAttachmentInfo")]],
    },
    Signature {
        technique: "T1566.002",
        meaning: "links in e-mail",
        all: &[&[Name("EmailUrlInfo"), Name("UrlClickEvents")]],
    },
    Signature {
        technique: "T1190",
        meaning: "JNDI lookup strings (Log4Shell)",
        all: &[&[Text("jndi:")]],
    },
    // Collection, command and control, exfiltration, impact.
    Signature {
        technique: "T1114.003",
        meaning: "mailbox forwarding or redirect rules",
        all: &[&[
            Text("forwardingsmtpaddress"),
            Text("forwardto"),
            Text("redirectto"),
            Text("forwardasattachmentto"),
        ]],
    },
    Signature {
        technique: "T1560.001",
        meaning: "archiving utilities",
        all: &[&[
            Text("7z.exe"),
            Text("rar.exe"),
            Text("winrar"),
            Text("makecab"),
        ]],
    },
    Signature {
        technique: "T1105",
        meaning: "files downloaded from a URL (file origin columns)",
        all: &[&[
            Name("FileOriginUrl"),
            Name("FileOriginReferrerUrl"),
            Name("FileOriginIP"),
        ]],
    },
    Signature {
        technique: "T1105",
        meaning: "download commands",
        all: &[&[
            Text("urlcache"),
            Text("downloadfile"),
            Text("invoke-webrequest"),
            Text("start-bitstransfer"),
            Text("wget "),
            Text("curl "),
        ]],
    },
    Signature {
        technique: "T1219",
        meaning: "remote access tools",
        all: &[&[
            Text("anydesk"),
            Text("teamviewer"),
            Text("screenconnect"),
            Text("splashtop"),
        ]],
    },
    Signature {
        technique: "T1090",
        meaning: "port forwarding through netsh portproxy",
        all: &[&[Text("portproxy")]],
    },
    Signature {
        technique: "T1090.003",
        meaning: "Tor",
        all: &[&[Text("tor.exe"), Text(".onion")]],
    },
    Signature {
        technique: "T1567.002",
        meaning: "rclone or MEGA uploads",
        all: &[&[Text("rclone"), Text("mega.nz")]],
    },
    Signature {
        technique: "T1490",
        meaning: "shadow copies or backups deleted",
        all: &[
            &[
                Text("vssadmin"),
                Text("wbadmin"),
                Text("shadowcopy"),
                Text("bcdedit"),
            ],
            &[
                Text("delete"),
                Text("resize"),
                Text("recoveryenabled"),
                Text("ignoreallfailures"),
            ],
        ],
    },
    Signature {
        technique: "T1486",
        meaning: "ransom notes or encrypted files",
        all: &[&[Text("ransom")]],
    },
    Signature {
        technique: "T1496",
        meaning: "crypto-mining tools",
        all: &[&[
            Text("xmrig"),
            Text("minerd"),
            Text("stratum+tcp"),
            Text("cryptonight"),
        ]],
    },
];

/// A technique the query shows evidence of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Match {
    /// The technique id.
    pub technique: &'static str,
    /// What was recognised and the cues that matched, one entry per matching signature.
    pub evidence: Vec<String>,
}

/// The techniques whose signatures match, sorted by id, with their evidence.
pub(crate) fn matches(query: &QueryText) -> Vec<Match> {
    let mut found: Vec<Match> = Vec::new();
    for signature in SIGNATURES {
        let mut cues = Vec::new();
        let all = signature.all.iter().all(|group| {
            let hits: Vec<String> = group
                .iter()
                .filter(|cue| cue.matches(query))
                .map(|cue| cue.describe())
                .collect();
            let matched = !hits.is_empty();
            cues.extend(hits);
            matched
        });
        if !all {
            continue;
        }
        let evidence = format!("{}: {}", signature.meaning, cues.join(", "));
        match found
            .iter_mut()
            .find(|m| m.technique == signature.technique)
        {
            Some(existing) => existing.evidence.push(evidence),
            None => found.push(Match {
                technique: signature.technique,
                evidence: vec![evidence],
            }),
        }
    }
    found.sort_by(|a, b| a.technique.cmp(b.technique));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::{Attack, TechniqueStatus};

    #[test]
    fn every_signature_names_an_active_technique() {
        let attack = Attack::embedded();
        for signature in SIGNATURES {
            assert!(
                matches!(
                    attack.resolve(signature.technique),
                    TechniqueStatus::Active(_)
                ),
                "{}",
                signature.technique
            );
            assert!(signature.all.iter().all(|g| !g.is_empty()));
        }
    }

    #[test]
    fn every_group_must_match() {
        let q = QueryText::read(r#"DeviceProcessEvents | where ProcessCommandLine has "vssadmin""#);
        assert!(matches(&q).is_empty());
        let q = QueryText::read(
            r#"DeviceProcessEvents | where ProcessCommandLine has "vssadmin" and ProcessCommandLine has "delete""#,
        );
        let found = matches(&q);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].technique, "T1490");
        assert_eq!(
            found[0].evidence,
            ["shadow copies or backups deleted: \"vssadmin\", \"delete\""]
        );
    }

    #[test]
    fn event_ids_need_an_event_id_column_and_comments_do_not_count() {
        let q =
            QueryText::read("SecurityEvent | where EventID == 4625 | summarize count() by Account");
        assert_eq!(matches(&q)[0].technique, "T1110");
        let q = QueryText::read("SecurityEvent | where Status == 4625");
        assert!(matches(&q).is_empty());
        let q = QueryText::read("// mimikatz\nSecurityEvent | take 1");
        assert!(matches(&q).is_empty());
    }

    #[test]
    fn two_signatures_of_one_technique_merge_their_evidence() {
        let q = QueryText::read(
            r#"DeviceFileEvents | where FileOriginUrl has "x" | where InitiatingProcessCommandLine has "urlcache""#,
        );
        let found = matches(&q);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].technique, "T1105");
        assert_eq!(found[0].evidence.len(), 2);
    }
}
