//! The demo organisation, Contoso: its devices (workstations and a few servers), its people,
//! administrators and service accounts, and the stable identifiers (device ids, SIDs, object ids,
//! file hashes) derived from their names.
//!
//! The world depends only on the number of devices, never on the seed, so the planted scenarios
//! can name hosts and accounts that exist in every demo data set.

use crate::demo::software::Img;

/// The NetBIOS domain as Windows Security events write it.
pub(crate) const NETBIOS: &str = "CONTOSO";
/// The domain as Defender writes account domains.
pub(crate) const DOMAIN: &str = "contoso";
/// The DNS suffix of device names.
pub(crate) const DNS_SUFFIX: &str = "contoso.local";
/// The suffix of user principal names.
pub(crate) const UPN_SUFFIX: &str = "contoso.com";
/// The domain SID that account SIDs extend.
pub(crate) const DOMAIN_SID: &str = "S-1-5-21-1004336348-1177238915-682003330";
/// The Entra ID tenant of the sign-in logs.
pub(crate) const TENANT_ID: &str = "72f988bf-0000-4e3a-9c1d-2d7cd011db47";

/// Given names, in a fixed order: staff member `i` (for `i` < 100) is called `NAMES[i]`, and the
/// planted scenarios rely on the first ones.
pub(crate) const NAMES: [&str; 100] = [
    "alice", "bob", "carol", "dana", "erik", "fatima", "george", "hana", "ivan", "julia", "kofi",
    "laura", "mateo", "nina", "oscar", "paula", "quentin", "rosa", "samir", "tara", "umar", "vera",
    "will", "xenia", "yusuf", "zoe", "aaron", "bianca", "chen", "diego", "elena", "felix", "gina",
    "hugo", "irene", "jamal", "karin", "leon", "maya", "noah", "olga", "pedro", "rita", "sean",
    "tomas", "ursula", "victor", "wendy", "yara", "zeke", "amir", "beth", "carlos", "daria",
    "emil", "freya", "gustav", "helen", "ines", "jonas", "kira", "lars", "mia", "nils", "omar",
    "petra", "raj", "sofia", "theo", "una", "vikram", "wanda", "ximena", "yosef", "zara", "anton",
    "bella", "cyrus", "delia", "eero", "flora", "gabe", "heidi", "igor", "jana", "kai", "lucia",
    "milo", "nora", "otto", "pia", "reza", "selma", "timo", "uma", "vlad", "willa", "xavi",
    "yvonne", "zane",
];

/// Family names that make staff names unique beyond the first hundred (`alice.moreno`).
const SURNAMES: [&str; 50] = [
    "moreno",
    "smith",
    "okafor",
    "jensen",
    "garcia",
    "kowalski",
    "nguyen",
    "silva",
    "haddad",
    "fischer",
    "rossi",
    "tanaka",
    "murphy",
    "novak",
    "dubois",
    "lindqvist",
    "patel",
    "kim",
    "hughes",
    "costa",
    "ivanova",
    "mensah",
    "schmidt",
    "lopez",
    "brown",
    "wilson",
    "martin",
    "muller",
    "bauer",
    "ahmed",
    "sato",
    "park",
    "olsen",
    "walsh",
    "reyes",
    "khan",
    "berg",
    "cohen",
    "meyer",
    "santos",
    "ward",
    "young",
    "klein",
    "horvat",
    "das",
    "lee",
    "chavez",
    "wolf",
    "ali",
    "ford",
];

/// The administrators' separate privileged accounts; the first is used by the scenarios.
const ADMINS: [&str; 3] = ["adm-morgan", "adm-sven", "adm-lena"];
/// Service accounts.
const SERVICES: [&str; 4] = ["svc-sql", "svc-backup", "svc-web", "svc-scan"];

/// The fixed servers: short name, role and address.
const SERVERS: [(&str, Role, &str); 6] = [
    ("DC01", Role::DomainController, "10.10.0.10"),
    ("DC02", Role::DomainController, "10.10.0.11"),
    ("FS01", Role::FileServer, "10.10.0.20"),
    ("SQL01", Role::SqlServer, "10.10.0.30"),
    ("APP01", Role::AppServer, "10.10.0.40"),
    ("RDS01", Role::RemoteDesktop, "10.10.0.50"),
];

/// What a device is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A user's PC.
    Workstation,
    /// An Active Directory domain controller.
    DomainController,
    /// A file server.
    FileServer,
    /// A SQL Server.
    SqlServer,
    /// An internal application server.
    AppServer,
    /// The remote desktop host reachable from the internet.
    RemoteDesktop,
}

/// One device of the organisation.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    /// Fully qualified name, e.g. `WKS-0042.contoso.local`.
    pub fqdn: String,
    /// Short (NetBIOS) name, e.g. `WKS-0042`.
    pub short: String,
    /// Defender device id (40 hex digits).
    pub id: String,
    /// Its private IPv4 address.
    pub ip: String,
    /// What it is for.
    pub role: Role,
    /// Index of its primary user (workstations only).
    pub user: Option<usize>,
}

/// What kind of account a user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A member of staff with a workstation.
    Staff,
    /// A privileged administrator account.
    Admin,
    /// A service account.
    Service,
}

/// One account of the organisation.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// sAMAccountName, e.g. `alice`.
    pub sam: String,
    /// `alice@contoso.com`.
    pub upn: String,
    /// `Alice Moreno`.
    pub display: String,
    /// Domain SID of the account.
    pub sid: String,
    /// Entra ID object id (a GUID).
    pub object_id: String,
    /// What kind of account this is.
    pub kind: Kind,
    /// Public address the user signs in from when working from home.
    pub home_ip: String,
    /// Index of the user's workstation (staff only).
    pub workstation: Option<usize>,
}

/// The whole organisation and the precomputed hashes of its software.
#[derive(Debug, Clone)]
pub(crate) struct World {
    /// Every device: the servers first, then the workstations.
    pub devices: Vec<Device>,
    /// Every account: staff (in workstation order), administrators, service accounts.
    pub users: Vec<User>,
    /// Indices of the workstations in `devices`.
    pub workstations: Vec<usize>,
    /// Indices of the servers in `devices`.
    pub servers: Vec<usize>,
    /// Indices of the administrator accounts in `users`.
    pub admins: Vec<usize>,
    /// Indices of the service accounts in `users`.
    pub services: Vec<usize>,
    /// SHA-256 (hex) of every image, indexed by [`Img`].
    pub sha256: Vec<String>,
}

impl World {
    /// The organisation with `devices` devices (at least the fixed servers plus one workstation).
    pub fn new(devices: usize) -> World {
        let extra_servers = devices / 250;
        let server_count = SERVERS.len() + extra_servers;
        let workstation_count = devices.saturating_sub(server_count).max(1);
        let mut world = World {
            devices: Vec::with_capacity(server_count + workstation_count),
            users: Vec::with_capacity(workstation_count + ADMINS.len() + SERVICES.len()),
            workstations: Vec::with_capacity(workstation_count),
            servers: Vec::with_capacity(server_count),
            admins: Vec::new(),
            services: Vec::new(),
            sha256: Img::ALL
                .iter()
                .map(|img| hex_digest(img.path(), 32))
                .collect(),
        };
        for (short, role, ip) in SERVERS {
            world.add_device(short.to_string(), role, ip.to_string(), None);
        }
        for k in 0..extra_servers {
            let ip = format!("10.10.1.{}", 10 + k % 240);
            world.add_device(format!("APP{:02}", k + 2), Role::AppServer, ip, None);
        }
        for k in 0..workstation_count {
            let ip = format!("10.20.{}.{}", k / 240, 10 + k % 240);
            let user = world.users.len();
            let device = world.add_device(
                format!("WKS-{:04}", k + 1),
                Role::Workstation,
                ip,
                Some(user),
            );
            let (sam, display) = staff_name(k);
            world.add_user(sam, display, Kind::Staff, Some(device));
        }
        for name in ADMINS {
            let display = format!("{} (admin)", capitalise(&name[4..]));
            world.add_user(name.to_string(), display, Kind::Admin, None);
        }
        for name in SERVICES {
            world.add_user(name.to_string(), name.to_string(), Kind::Service, None);
        }
        world
    }

    /// Adds a device and returns its index.
    fn add_device(&mut self, short: String, role: Role, ip: String, user: Option<usize>) -> usize {
        let index = self.devices.len();
        let fqdn = format!("{short}.{DNS_SUFFIX}");
        if role == Role::Workstation {
            self.workstations.push(index);
        } else {
            self.servers.push(index);
        }
        self.devices.push(Device {
            id: hex_digest(&fqdn, 20),
            fqdn,
            short,
            ip,
            role,
            user,
        });
        index
    }

    /// Adds an account.
    fn add_user(&mut self, sam: String, display: String, kind: Kind, workstation: Option<usize>) {
        let index = self.users.len();
        match kind {
            Kind::Admin => self.admins.push(index),
            Kind::Service => self.services.push(index),
            Kind::Staff => {}
        }
        let seed = fnv(&sam);
        self.users.push(User {
            upn: format!("{sam}@{UPN_SUFFIX}"),
            sid: format!("{DOMAIN_SID}-{}", 1104 + index),
            object_id: guid_of(&sam),
            home_ip: format!(
                "{}.{}.{}.{}",
                [81, 86, 92, 109, 176][(seed % 5) as usize],
                mix(seed) % 250 + 2,
                mix(seed ^ 1) % 250 + 2,
                mix(seed ^ 2) % 250 + 2
            ),
            sam,
            display,
            kind,
            workstation,
        });
    }

    /// The device whose short name is `short`.
    pub fn device(&self, short: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.short == short)
    }

    /// The service account whose sAMAccountName is `sam` (without searching every account).
    pub fn service(&self, sam: &str) -> Option<&User> {
        self.services
            .iter()
            .map(|&s| &self.users[s])
            .find(|u| u.sam == sam)
    }

    /// The account whose sAMAccountName is `sam`.
    pub fn user(&self, sam: &str) -> Option<&User> {
        self.users.iter().find(|u| u.sam == sam)
    }
}

/// The sAMAccountName and display name of staff member `k`: a given name for the first hundred,
/// then `given.surname` (with a number once the surnames run out).
fn staff_name(k: usize) -> (String, String) {
    let first = NAMES[k % NAMES.len()];
    if k < NAMES.len() {
        let surname = SURNAMES[k % SURNAMES.len()];
        let display = format!("{} {}", capitalise(first), capitalise(surname));
        return (first.to_string(), display);
    }
    let round = k / NAMES.len() - 1;
    let surname = SURNAMES[round % SURNAMES.len()];
    let display = format!("{} {}", capitalise(first), capitalise(surname));
    let sam = match round / SURNAMES.len() {
        0 => format!("{first}.{surname}"),
        n => format!("{first}.{surname}{n}"),
    };
    (sam, display)
}

/// `word` with its first letter in upper case.
fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The FNV-1a hash of `text`.
pub(crate) fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The SplitMix64 finaliser: a well-spread 64-bit value from `x`.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable, hash-looking hex string of `bytes` bytes derived from `text`.
pub(crate) fn hex_digest(text: &str, bytes: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut state = fnv(text);
    let mut out = String::with_capacity(bytes * 2);
    while out.len() < bytes * 2 {
        state = mix(state);
        for byte in state.to_be_bytes() {
            if out.len() < bytes * 2 {
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
    }
    out
}

/// A stable GUID derived from `text`.
pub(crate) fn guid_of(text: &str) -> String {
    format_guid(mix(fnv(text)), mix(fnv(text) ^ 0x5555))
}

/// Two 64-bit values formatted as a version-4 style GUID.
pub(crate) fn format_guid(high: u64, low: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xfff,
        0x8000 | ((low >> 48) & 0x3fff),
        low & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_world_has_the_scenario_hosts_and_accounts() {
        let world = World::new(20);
        assert_eq!(world.devices.len(), 20);
        assert_eq!(world.workstations.len(), 14);
        assert!(world.device("WKS-0004").is_some());
        assert!(world.device("FS01").is_some());
        assert_eq!(world.devices[9].short, "WKS-0004");
        assert_eq!(world.user("dana").and_then(|u| u.workstation), Some(9));
        assert!(world.user("adm-morgan").is_some());
    }

    #[test]
    fn names_are_unique_in_the_largest_world() {
        let world = World::new(5000);
        let mut names: Vec<&str> = world.users.iter().map(|u| u.sam.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        assert_eq!(guid_of("x").len(), 36);
        assert_eq!(hex_digest("x", 32).len(), 64);
    }
}
