//! Building the records: a small field builder, the accounts processes run as, and the column
//! groups the Defender tables share (device, initiating process).

use crate::demo::clock::iso;
use crate::demo::software::Img;
use crate::demo::world::{Device, Kind, User, World, DOMAIN};
use crate::record::Record;
use serde_json::{Map, Value};

/// A record under construction.
pub(crate) struct Fields {
    table: &'static str,
    map: Map<String, Value>,
}

impl Fields {
    /// An empty record of `table` with room for `capacity` columns.
    pub fn new(table: &'static str, capacity: usize) -> Fields {
        Fields {
            table,
            map: Map::with_capacity(capacity),
        }
    }

    /// Sets a `string` column.
    pub fn text(&mut self, key: &str, value: impl Into<String>) -> &mut Fields {
        self.map
            .insert(key.to_string(), Value::String(value.into()));
        self
    }

    /// Sets an `int` or `long` column.
    pub fn long(&mut self, key: &str, value: i64) -> &mut Fields {
        self.map.insert(key.to_string(), Value::from(value));
        self
    }

    /// Sets a `bool` column.
    pub fn flag(&mut self, key: &str, value: bool) -> &mut Fields {
        self.map.insert(key.to_string(), Value::Bool(value));
        self
    }

    /// Sets a `datetime` column to `nanos` as ISO-8601 text.
    pub fn time(&mut self, key: &str, nanos: i64) -> &mut Fields {
        self.map.insert(key.to_string(), Value::String(iso(nanos)));
        self
    }

    /// Sets a `dynamic` column.
    pub fn json(&mut self, key: &str, value: Value) -> &mut Fields {
        self.map.insert(key.to_string(), value);
        self
    }

    /// The finished record.
    pub fn into_record(self) -> Record {
        Record::new(self.table, self.map)
    }
}

/// The account a process runs as, in Defender's spelling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Actor<'a> {
    /// Account name (`alice`, `system`).
    pub name: &'a str,
    /// Account domain (`contoso`, `nt authority`).
    pub domain: &'a str,
    /// Account SID.
    pub sid: &'a str,
    /// User principal name, empty for machine accounts.
    pub upn: &'a str,
    /// Entra ID object id, empty for machine accounts.
    pub object_id: &'a str,
    /// Process integrity level.
    pub integrity: &'static str,
    /// Token elevation type.
    pub elevation: &'static str,
}

/// The local system account.
pub(crate) const SYSTEM: Actor<'static> = Actor {
    name: "system",
    domain: "nt authority",
    sid: "S-1-5-18",
    upn: "",
    object_id: "",
    integrity: "System",
    elevation: "TokenElevationTypeDefault",
};

/// The network service account.
pub(crate) const NETWORK_SERVICE: Actor<'static> = Actor {
    name: "network service",
    domain: "nt authority",
    sid: "S-1-5-20",
    upn: "",
    object_id: "",
    integrity: "System",
    elevation: "TokenElevationTypeDefault",
};

impl<'a> Actor<'a> {
    /// `user` with the integrity its kind of account usually runs at.
    pub fn of(user: &'a User) -> Actor<'a> {
        let (integrity, elevation) = match user.kind {
            Kind::Staff => ("Medium", "TokenElevationTypeLimited"),
            Kind::Admin => ("High", "TokenElevationTypeFull"),
            Kind::Service => ("High", "TokenElevationTypeDefault"),
        };
        Actor {
            name: &user.sam,
            domain: DOMAIN,
            sid: &user.sid,
            upn: &user.upn,
            object_id: &user.object_id,
            integrity,
            elevation,
        }
    }

    /// The same account running elevated.
    pub fn elevated(self) -> Actor<'a> {
        Actor {
            integrity: "High",
            elevation: "TokenElevationTypeFull",
            ..self
        }
    }
}

/// A running process that starts or does something: the initiating process of a Defender event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Proc<'a> {
    /// Its image.
    pub img: Img,
    /// Its command line.
    pub cmd: &'a str,
    /// Its process id.
    pub pid: i64,
    /// When it started.
    pub started: i64,
    /// Its parent's image.
    pub parent: Img,
    /// Its parent's process id.
    pub parent_pid: i64,
    /// The account it runs as.
    pub actor: Actor<'a>,
}

/// Sets the columns every Defender `Device*` table starts with.
pub(crate) fn device_header(f: &mut Fields, time: i64, device: &Device, report: i64) {
    f.time("Timestamp", time)
        .text("DeviceId", device.id.as_str())
        .text("DeviceName", device.fqdn.as_str())
        .long("ReportId", report);
}

/// Sets the `InitiatingProcess*` columns for `proc` that the record's table has.
pub(crate) fn initiating(f: &mut Fields, world: &World, proc: &Proc<'_>) {
    f.text("InitiatingProcessAccountDomain", proc.actor.domain)
        .text("InitiatingProcessAccountName", proc.actor.name)
        .text("InitiatingProcessAccountSid", proc.actor.sid)
        .text("InitiatingProcessAccountUpn", proc.actor.upn)
        .text("InitiatingProcessAccountObjectId", proc.actor.object_id)
        .text("InitiatingProcessFileName", proc.img.file())
        .text("InitiatingProcessFolderPath", proc.img.path())
        .text("InitiatingProcessCommandLine", proc.cmd)
        .long("InitiatingProcessId", proc.pid)
        .time("InitiatingProcessCreationTime", proc.started)
        .text(
            "InitiatingProcessSHA256",
            world.sha256[proc.img as usize].as_str(),
        )
        .text("InitiatingProcessParentFileName", proc.parent.file())
        .long("InitiatingProcessParentId", proc.parent_pid)
        .text(
            "InitiatingProcessVersionInfoCompanyName",
            proc.img.company(),
        );
    // DeviceEvents has no integrity or elevation of the initiating process.
    if f.table != "DeviceEvents" {
        f.text("InitiatingProcessIntegrityLevel", proc.actor.integrity)
            .text("InitiatingProcessTokenElevation", proc.actor.elevation);
    }
}

/// Sets the columns of `DeviceProcessEvents` and `DeviceEvents` that describe the started
/// process `child` (image, command line, account).
pub(crate) fn started_process(f: &mut Fields, world: &World, child: &Proc<'_>, time: i64) {
    f.text("FileName", child.img.file())
        .text("FolderPath", child.img.path())
        .text("SHA256", world.sha256[child.img as usize].as_str())
        .long("ProcessId", child.pid)
        .text("ProcessCommandLine", child.cmd)
        .time("ProcessCreationTime", time)
        .text("AccountDomain", child.actor.domain)
        .text("AccountName", child.actor.name)
        .text("AccountSid", child.actor.sid)
        .text("AccountUpn", child.actor.upn)
        .text("AccountObjectId", child.actor.object_id)
        .text("ProcessIntegrityLevel", child.actor.integrity)
        .text("ProcessTokenElevation", child.actor.elevation)
        .text("ProcessVersionInfoCompanyName", child.img.company())
        .text(
            "ProcessVersionInfoOriginalFileName",
            child.img.file().to_ascii_lowercase(),
        );
}
