//! Building the records: a small field builder, the accounts processes run as, and the column
//! groups the Defender tables share (device, initiating process).

use crate::demo::clock::iso;
use crate::demo::software::Img;
use crate::demo::world::{fnv, mix, Device, Kind, User, World, DOMAIN};
use crate::record::Record;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Columns a record under construction holds without allocating.
const INLINE: usize = 32;

/// A record under construction: its table and its columns in the order they were set, kept on
/// the stack (the record's map is the only allocation besides the names and values).
#[derive(Debug)]
pub(crate) struct Fields {
    table: &'static str,
    len: usize,
    inline: [(&'static str, Value); INLINE],
    spill: Vec<(&'static str, Value)>,
}

impl Fields {
    /// An empty record of `table`.
    pub fn new(table: &'static str) -> Fields {
        Fields {
            table,
            len: 0,
            inline: std::array::from_fn(|_| ("", Value::Null)),
            spill: Vec::new(),
        }
    }

    /// Appends a column.
    fn push(&mut self, key: &'static str, value: Value) -> &mut Fields {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = (key, value);
                self.len += 1;
            }
            None => self.spill.push((key, value)),
        }
        self
    }

    /// Sets a `string` column; an empty value is left out (a missing string column reads as
    /// `""`, and leaving it out saves the allocations).
    pub fn text(&mut self, key: &'static str, value: impl Into<String>) -> &mut Fields {
        let value = value.into();
        if value.is_empty() {
            return self;
        }
        self.push(key, Value::String(value))
    }

    /// Sets an `int` or `long` column.
    pub fn long(&mut self, key: &'static str, value: i64) -> &mut Fields {
        self.push(key, Value::from(value))
    }

    /// Sets a `bool` column.
    pub fn flag(&mut self, key: &'static str, value: bool) -> &mut Fields {
        self.push(key, Value::Bool(value))
    }

    /// Sets a `datetime` column to `nanos` as ISO-8601 text.
    pub fn time(&mut self, key: &'static str, nanos: i64) -> &mut Fields {
        self.push(key, Value::String(iso(nanos)))
    }

    /// Sets a `dynamic` column.
    pub fn json(&mut self, key: &'static str, value: Value) -> &mut Fields {
        self.push(key, value)
    }

    /// The column names, in order.
    fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        let inline = self.inline[..self.len].iter().map(|(key, _)| *key);
        inline.chain(self.spill.iter().map(|(key, _)| *key))
    }

    /// The columns, in order.
    fn into_columns(self) -> impl Iterator<Item = (&'static str, Value)> {
        let len = self.len;
        self.inline.into_iter().take(len).chain(self.spill)
    }

    /// The finished record, built column by column.
    pub fn into_record(self) -> Record {
        let table = self.table;
        let mut map = Map::with_capacity(self.len + self.spill.len());
        for (key, value) in self.into_columns() {
            map.insert(key.to_string(), value);
        }
        Record::new(table, map)
    }
}

/// A column list and an empty map with those columns.
type Template = (Vec<&'static str>, Map<String, Value>);

/// The column lists of the records made so far, each with an empty map of those columns.
///
/// Most records of a table have one of a few column lists; cloning the map of a known list
/// copies its hash table instead of hashing every column name again.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    templates: HashMap<u64, Vec<Template>>,
}

impl Shapes {
    /// The finished record of `fields`.
    pub fn record(&mut self, fields: Fields) -> Record {
        let signature = fields.keys().fold(fnv(fields.table), |hash, key| {
            mix(hash ^ key.as_ptr() as u64 ^ (key.len() as u64) << 48)
        });
        let bucket = self.templates.entry(signature).or_default();
        let count = fields.len + fields.spill.len();
        let known = bucket.iter().position(|(keys, _)| {
            keys.len() == count && keys.iter().zip(fields.keys()).all(|(a, b)| same(a, b))
        });
        let index = match known {
            Some(index) => index,
            None => {
                let keys: Vec<&'static str> = fields.keys().collect();
                let mut template = Map::with_capacity(keys.len());
                for key in &keys {
                    template.insert(key.to_string(), Value::Null);
                }
                if template.len() != keys.len() {
                    // A column set twice: no template can hold it.
                    return fields.into_record();
                }
                bucket.push((keys, template));
                bucket.len() - 1
            }
        };
        let mut map = bucket[index].1.clone();
        let table = fields.table;
        for (slot, (_, value)) in map.values_mut().zip(fields.into_columns()) {
            *slot = value;
        }
        Record::new(table, map)
    }
}

/// Whether two column names are equal, comparing addresses first (names are literals).
fn same(a: &str, b: &str) -> bool {
    std::ptr::eq(a, b) || a == b
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
    /// Process integrity level.
    pub integrity: &'static str,
}

/// The local system account.
pub(crate) const SYSTEM: Actor<'static> = Actor {
    name: "system",
    domain: "nt authority",
    sid: "S-1-5-18",
    upn: "",
    integrity: "System",
};

/// The network service account.
pub(crate) const NETWORK_SERVICE: Actor<'static> = Actor {
    name: "network service",
    domain: "nt authority",
    sid: "S-1-5-20",
    upn: "",
    integrity: "System",
};

impl<'a> Actor<'a> {
    /// `user` with the integrity its kind of account usually runs at.
    pub fn of(user: &'a User) -> Actor<'a> {
        let integrity = match user.kind {
            Kind::Staff => "Medium",
            Kind::Admin | Kind::Service => "High",
        };
        Actor {
            name: &user.sam,
            domain: DOMAIN,
            sid: &user.sid,
            upn: &user.upn,
            integrity,
        }
    }

    /// The same account running elevated.
    pub fn elevated(self) -> Actor<'a> {
        Actor {
            integrity: "High",
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

/// Sets the `InitiatingProcess*` columns for `proc` that the record's table has (the ones
/// hunting queries use; version information, object ids, token elevation and creation time are left out).
pub(crate) fn initiating(f: &mut Fields, world: &World, proc: &Proc<'_>) {
    f.text("InitiatingProcessAccountDomain", proc.actor.domain)
        .text("InitiatingProcessAccountName", proc.actor.name)
        .text("InitiatingProcessAccountSid", proc.actor.sid)
        .text("InitiatingProcessAccountUpn", proc.actor.upn)
        .text("InitiatingProcessFileName", proc.img.file())
        .text("InitiatingProcessFolderPath", proc.img.path())
        .text("InitiatingProcessCommandLine", proc.cmd)
        .long("InitiatingProcessId", proc.pid)
        .text(
            "InitiatingProcessSHA256",
            world.sha256[proc.img as usize].as_str(),
        )
        .text("InitiatingProcessParentFileName", proc.parent.file())
        .long("InitiatingProcessParentId", proc.parent_pid);
    // DeviceEvents has no integrity level of the initiating process.
    if f.table != "DeviceEvents" {
        f.text("InitiatingProcessIntegrityLevel", proc.actor.integrity);
    }
}

/// Sets the columns of `DeviceProcessEvents` that describe the started process `child`
/// (image, command line, account).
pub(crate) fn started_process(f: &mut Fields, world: &World, child: &Proc<'_>) {
    f.text("FileName", child.img.file())
        .text("FolderPath", child.img.path())
        .text("SHA256", world.sha256[child.img as usize].as_str())
        .long("ProcessId", child.pid)
        .text("ProcessCommandLine", child.cmd)
        .text("AccountDomain", child.actor.domain)
        .text("AccountName", child.actor.name)
        .text("AccountSid", child.actor.sid)
        .text("AccountUpn", child.actor.upn)
        .text("ProcessIntegrityLevel", child.actor.integrity);
}
