//! The planted attacks on identities: the RDP brute force and the password spray.

use super::{Planter, BRUTE_FORCE_IP, SPRAY_IP};
use crate::demo::benign::identity::{signin_record, SignIn};
use crate::demo::benign::security::{security_logon, Logon};
use crate::demo::clock::{DAY, SECOND};
use crate::demo::fields::{device_header, initiating, Fields, Proc, SYSTEM};
use crate::demo::software::Img;
use crate::demo::world::{Device, Kind, User, DOMAIN_SID, NAMES, NETBIOS, UPN_SUFFIX};
use crate::record::Record;
use rand::Rng;

/// Scenario `rdp-brute-force`: 46 failures against three accounts, then a remote desktop logon.
pub(crate) fn brute_force(p: &mut Planter<'_>, start: i64, rds: &Device, admin: &User) {
    let admin_account = (admin.sam.as_str(), NETBIOS, admin.sid.as_str());
    let mut time = start;
    for attempt in 0..46 {
        time += p.rng.random_range(8..30) * SECOND;
        let (account, sub_status) = match attempt % 4 {
            0 => (("administrator", NETBIOS, "S-1-0-0"), "0xc0000064"),
            1 => (("admin", NETBIOS, "S-1-0-0"), "0xc0000064"),
            _ => (admin_account, "0xc000006a"),
        };
        let logon = Logon {
            computer: rds,
            event_id: 4625,
            account,
            machine: false,
            logon_type: 3,
            ip: BRUTE_FORCE_IP,
            workstation: "WIN-8K2LQ3M1P0A",
            package: "NTLM",
            sub_status,
        };
        let record = security_logon(time, &logon, &mut p.rng).into_record();
        p.push(time, record);
        if attempt % 4 >= 2 {
            let record = remote_logon(p, time, rds, admin, false);
            p.push(time, record);
        }
    }
    time += 40 * SECOND;
    let logon = Logon {
        computer: rds,
        event_id: 4624,
        account: admin_account,
        machine: false,
        logon_type: 10,
        ip: BRUTE_FORCE_IP,
        workstation: "WIN-8K2LQ3M1P0A",
        package: "Negotiate",
        sub_status: "",
    };
    let record = security_logon(time, &logon, &mut p.rng).into_record();
    p.push(time, record);
    let record = remote_logon(p, time, rds, admin, true);
    p.push(time, record);
}

/// The `DeviceLogonEvents` record of a remote desktop attempt from the brute-force address.
fn remote_logon(
    p: &mut Planter<'_>,
    time: i64,
    rds: &Device,
    admin: &User,
    success: bool,
) -> Record {
    let mut f = Fields::new("DeviceLogonEvents");
    device_header(&mut f, time, rds, 0);
    f.text(
        "ActionType",
        if success {
            "LogonSuccess"
        } else {
            "LogonFailed"
        },
    )
    .text(
        "LogonType",
        if success {
            "RemoteInteractive"
        } else {
            "Network"
        },
    )
    .text("AccountDomain", crate::demo::world::DOMAIN)
    .text("AccountName", admin.sam.as_str())
    .text("AccountSid", admin.sid.as_str())
    .text("Protocol", "NTLM")
    .text(
        "FailureReason",
        if success {
            ""
        } else {
            "InvalidUserNameOrPassword"
        },
    )
    .flag("IsLocalAdmin", true)
    .long("LogonId", p.rng.random_range(100_000..90_000_000))
    .text("RemoteDeviceName", "WIN-8K2LQ3M1P0A")
    .text("RemoteIP", BRUTE_FORCE_IP)
    .text("RemoteIPType", "Public")
    .long("RemotePort", p.rng.random_range(49_152..65_535));
    let lsass = Proc {
        img: Img::Lsass,
        cmd: r"C:\Windows\system32\lsass.exe",
        pid: 788,
        started: time - 9 * DAY,
        parent: Img::Wininit,
        parent_pid: 640,
        actor: SYSTEM,
    };
    initiating(&mut f, p.world, &lsass);
    f.into_record()
}

/// Scenario `password-spray`: one address tries one password on thirty accounts.
pub(crate) fn password_spray(p: &mut Planter<'_>, start: i64) {
    let mut time = start;
    for (k, name) in NAMES.iter().take(30).enumerate() {
        time += p.rng.random_range(20..45) * SECOND;
        let user = match p.world.user(name) {
            Some(user) => user.clone(),
            None => User {
                sam: name.to_string(),
                upn: format!("{name}@{UPN_SUFFIX}"),
                display: name.to_string(),
                sid: format!("{DOMAIN_SID}-{}", 1104 + k),
                object_id: crate::demo::world::guid_of(name),
                kind: Kind::Staff,
                home_ip: String::new(),
                workstation: None,
            },
        };
        // The sprayed password is rosa's: she gets the MFA prompt instead of a failure.
        let result = if *name == "rosa" { "50074" } else { "50126" };
        let sign_in = SignIn {
            user: &user,
            ip: SPRAY_IP,
            result,
            app: ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
            place: ("NL", "Amsterdam", 52.3676, 4.9041),
            device: None,
            agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
        };
        let record = signin_record(time, &sign_in, &mut p.rng).into_record();
        p.push(time, record);
    }
}
