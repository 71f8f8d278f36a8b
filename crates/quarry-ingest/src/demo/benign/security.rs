//! Benign Windows Security events (`SecurityEvent` 4624, 4625, 4634, 4672 and 4688), with the
//! logon record builder the planted scenarios share.

use super::process::launch;
use super::{pick, pid, Ctx, Scene, Who};
use crate::demo::fields::Fields;
use crate::demo::world::{fnv, Device, User, World, NETBIOS};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A logon as Windows writes it to the Security log (4624, 4625, 4634).
pub(crate) struct Logon<'a> {
    /// The computer that logs the event.
    pub computer: &'a Device,
    /// 4624 (success), 4625 (failure) or 4634 (logoff).
    pub event_id: i64,
    /// The account logging on: name, domain, SID.
    pub account: (&'a str, &'a str, &'a str),
    /// Whether the account is a computer account.
    pub machine: bool,
    /// Windows logon type (2, 3, 5, 7, 10, ...).
    pub logon_type: i64,
    /// Source address, `-` when there is none.
    pub ip: &'a str,
    /// Source workstation name, `-` when unknown.
    pub workstation: &'a str,
    /// Authentication package (`Kerberos`, `NTLM`, `Negotiate`).
    pub package: &'a str,
    /// Sub-status of a failure (`0xc000006a` wrong password, `0xc0000064` no such user).
    pub sub_status: &'a str,
}

/// The name of a Windows logon type, as `LogonTypeName` shows it.
fn logon_type_name(logon_type: i64) -> &'static str {
    match logon_type {
        2 => "2 - Interactive",
        3 => "3 - Network",
        4 => "4 - Batch",
        5 => "5 - Service",
        7 => "7 - Unlock",
        10 => "10 - RemoteInteractive",
        11 => "11 - CachedInteractive",
        _ => "0 - Unknown",
    }
}

/// The columns every `SecurityEvent` record has.
fn security_header(f: &mut Fields, time: i64, computer: &Device, event_id: i64, activity: &str) {
    f.time("TimeGenerated", time)
        .text("Computer", computer.fqdn.as_str())
        .long("EventID", event_id)
        .text("Activity", activity)
        .text("EventSourceName", "Microsoft-Windows-Security-Auditing")
        .text("SourceSystem", "OpsManager")
        .text("Type", "SecurityEvent");
}

/// A `SecurityEvent` record of a logon, failed logon or logoff.
pub(crate) fn security_logon(time: i64, logon: &Logon<'_>, rng: &mut ChaCha8Rng) -> Fields {
    let (name, domain, sid) = logon.account;
    let (activity, task) = match logon.event_id {
        4624 => ("4624 - An account was successfully logged on.", 12544),
        4625 => ("4625 - An account failed to log on.", 12544),
        _ => ("4634 - An account was logged off.", 12545),
    };
    let account = format!("{domain}\\{name}");
    let mut f = Fields::new("SecurityEvent");
    security_header(&mut f, time, logon.computer, logon.event_id, activity);
    f.long("Task", task)
        .text("Account", account.as_str())
        .text(
            "AccountType",
            if logon.machine { "Machine" } else { "User" },
        )
        .text("TargetAccount", account)
        .text("TargetUserName", name)
        .text("TargetDomainName", domain)
        .text("TargetUserSid", sid)
        .long("LogonType", logon.logon_type)
        .text("LogonTypeName", logon_type_name(logon.logon_type))
        .text("IpAddress", logon.ip)
        .text(
            "IpPort",
            if logon.ip == "-" {
                "-".to_string()
            } else {
                rng.random_range(49_152..65_535).to_string()
            },
        )
        .text("WorkstationName", logon.workstation)
        .text("AuthenticationPackageName", logon.package)
        .text(
            "LogonProcessName",
            match logon.logon_type {
                2 | 7 | 10 | 11 => "User32 ",
                3 if logon.package == "Kerberos" => "Kerberos",
                3 => "NtLmSsp ",
                _ => "Advapi  ",
            },
        )
        .text(
            "TargetLogonId",
            format!("0x{:x}", rng.random_range(0x10000..0xffffff)),
        );
    if logon.event_id == 4625 {
        f.text("Status", "0xc000006d")
            .text("SubStatus", logon.sub_status)
            .text("FailureReason", "%%2313")
            .text("SubjectUserSid", "S-1-0-0")
            .text("SubjectUserName", "-")
            .text("SubjectDomainName", "-")
            .text("SubjectLogonId", "0x0");
    } else {
        let subject = if matches!(logon.logon_type, 2 | 7 | 10 | 11) {
            format!("{}$", logon.computer.short)
        } else {
            "-".to_string()
        };
        f.text("SubjectUserName", subject)
            .text("SubjectDomainName", NETBIOS)
            .text("SubjectUserSid", "S-1-5-18");
    }
    f
}

/// A `SecurityEvent` 4672 (special privileges) for an administrator or SYSTEM logon.
fn special_privileges(time: i64, computer: &Device, account: (&str, &str, &str)) -> Fields {
    let (name, domain, sid) = account;
    let mut f = Fields::new("SecurityEvent");
    security_header(
        &mut f,
        time,
        computer,
        4672,
        "4672 - Special privileges assigned to new logon.",
    );
    f.long("Task", 12548)
        .text("Account", format!("{domain}\\{name}"))
        .text("AccountType", "User")
        .text("SubjectUserName", name)
        .text("SubjectDomainName", domain)
        .text("SubjectUserSid", sid)
        .text("SubjectLogonId", "0x3e7")
        .text(
            "PrivilegeList",
            "SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n\t\t\tSeTakeOwnershipPrivilege\r\n\t\t\tSeDebugPrivilege\r\n\t\t\tSeSystemEnvironmentPrivilege\r\n\t\t\tSeLoadDriverPrivilege\r\n\t\t\tSeImpersonatePrivilege",
        );
    f
}

/// A `SecurityEvent` 4688 (process creation) for a benign process start on the scene's device.
fn process_creation<'w>(ctx: &mut Ctx<'_, 'w>, scene: &Scene<'w>) -> Fields {
    let started = launch(ctx, scene);
    let (name, domain, sid) = match scene.user {
        Some(user) => (user.sam.as_str(), NETBIOS, user.sid.as_str()),
        None => (SYSTEM_NAME, "NT AUTHORITY", "S-1-5-18"),
    };
    let mut f = Fields::new("SecurityEvent");
    security_header(
        &mut f,
        ctx.time,
        scene.device,
        4688,
        "4688 - A new process has been created.",
    );
    f.long("Task", 13312)
        .text("Account", format!("{domain}\\{name}"))
        .text(
            "AccountType",
            if scene.user.is_some() {
                "User"
            } else {
                "Machine"
            },
        )
        .text("SubjectUserName", name)
        .text("SubjectDomainName", domain)
        .text("SubjectUserSid", sid)
        .text("NewProcessName", started.child.path())
        .text("NewProcessId", format!("0x{:x}", pid(ctx.rng)))
        .text("CommandLine", started.child_cmd)
        .text("ParentProcessName", started.parent.path())
        .text("ProcessId", format!("0x{:x}", pid(ctx.rng)))
        .text(
            "TokenElevationType",
            if scene.user.is_some() {
                "%%1937"
            } else {
                "%%1936"
            },
        )
        .text("MandatoryLabel", "S-1-16-12288");
    f
}

/// The SYSTEM account's name as Security events write it.
const SYSTEM_NAME: &str = "SYSTEM";

/// A benign `SecurityEvent` record.
pub(crate) fn security_event<'w>(ctx: &mut Ctx<'_, 'w>, scene: &Scene<'w>) -> Fields {
    let world = ctx.world;
    let roll = ctx.rng.random_range(0..100);
    let dc = pick_dc(ctx.rng, world);
    let fs = world.device("FS01").unwrap_or(scene.device);
    match (scene.who, scene.user) {
        (Who::Staff, Some(user)) => {
            let account = (user.sam.as_str(), NETBIOS, user.sid.as_str());
            let ws = scene.device;
            let network = |computer, event_id, package| Logon {
                computer,
                event_id,
                account,
                machine: false,
                logon_type: 3,
                ip: &ws.ip,
                workstation: if package == "NTLM" { &ws.short } else { "-" },
                package,
                sub_status: "0xc000006a",
            };
            let local = |event_id, logon_type| Logon {
                computer: ws,
                event_id,
                account,
                machine: false,
                logon_type,
                ip: "127.0.0.1",
                workstation: &ws.short,
                package: "Negotiate",
                sub_status: "0xc000006a",
            };
            let logon = match roll {
                0..35 => network(dc, 4624, "Kerberos"),
                35..50 => network(fs, 4624, "Kerberos"),
                50..65 => network(if roll % 2 == 0 { dc } else { fs }, 4634, "Kerberos"),
                65..85 => local(4624, *pick(ctx.rng, &[2, 7, 7, 11])),
                85..92 => local(4634, 2),
                92..98 => local(4625, *pick(ctx.rng, &[2, 7])),
                _ => network(fs, 4625, "NTLM"),
            };
            security_logon(ctx.time, &logon, ctx.rng)
        }
        (Who::Admin, Some(admin)) => {
            let account = (admin.sam.as_str(), NETBIOS, admin.sid.as_str());
            let from = &world.devices[world.workstations[admin_seat(world, admin)]];
            match roll {
                0..35 | 85..100 => {
                    let logon = Logon {
                        computer: scene.device,
                        event_id: if roll < 35 { 4624 } else { 4634 },
                        account,
                        machine: false,
                        logon_type: 10,
                        ip: &from.ip,
                        workstation: &from.short,
                        package: "Negotiate",
                        sub_status: "",
                    };
                    security_logon(ctx.time, &logon, ctx.rng)
                }
                35..55 => special_privileges(ctx.time, scene.device, account),
                _ => process_creation(ctx, scene),
            }
        }
        _ => match roll {
            0..30 => {
                let logon = Logon {
                    computer: scene.device,
                    event_id: 4624,
                    account: (SYSTEM_NAME, "NT AUTHORITY", "S-1-5-18"),
                    machine: false,
                    logon_type: 5,
                    ip: "-",
                    workstation: "-",
                    package: "Negotiate",
                    sub_status: "",
                };
                security_logon(ctx.time, &logon, ctx.rng)
            }
            30..45 => special_privileges(
                ctx.time,
                scene.device,
                (SYSTEM_NAME, "NT AUTHORITY", "S-1-5-18"),
            ),
            45..75 => process_creation(ctx, scene),
            75..90 => {
                let machine = format!("{}$", scene.device.short);
                let sid = format!(
                    "{}-{}",
                    crate::demo::world::DOMAIN_SID,
                    20_000 + fnv(&machine) % 10_000
                );
                let logon = Logon {
                    computer: dc,
                    event_id: 4624,
                    account: (&machine, NETBIOS, &sid),
                    machine: true,
                    logon_type: 3,
                    ip: &scene.device.ip,
                    workstation: "-",
                    package: "Kerberos",
                    sub_status: "",
                };
                security_logon(ctx.time, &logon, ctx.rng)
            }
            _ => {
                let (computer, service, logon_type) = match roll % 2 {
                    0 => (world.device("FS01"), "svc-backup", 4),
                    _ => (world.device("SQL01"), "svc-sql", 5),
                };
                let computer = computer.unwrap_or(scene.device);
                let sid = world
                    .service(service)
                    .map(|u| u.sid.as_str())
                    .unwrap_or("S-1-5-18");
                let logon = Logon {
                    computer,
                    event_id: 4624,
                    account: (service, NETBIOS, sid),
                    machine: false,
                    logon_type,
                    ip: "-",
                    workstation: "-",
                    package: "Negotiate",
                    sub_status: "",
                };
                security_logon(ctx.time, &logon, ctx.rng)
            }
        },
    }
}

/// One of the domain controllers.
fn pick_dc<'w>(rng: &mut ChaCha8Rng, world: &'w World) -> &'w Device {
    let dcs = [world.device("DC01"), world.device("DC02")];
    match dcs[rng.random_range(0..2)] {
        Some(dc) => dc,
        None => &world.devices[0],
    }
}

/// The index (into `world.workstations`) of the workstation an administrator works from.
pub(crate) fn admin_seat(world: &World, admin: &User) -> usize {
    let k = world
        .admins
        .iter()
        .position(|&a| world.users[a].sam == admin.sam)
        .unwrap_or(0);
    (k * 7 + 1) % world.workstations.len()
}
