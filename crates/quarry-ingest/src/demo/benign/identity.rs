//! Benign identity activity outside the Security log: Defender logons (`DeviceLogonEvents`)
//! and Entra ID sign-ins (`SigninLogs`), with the sign-in record builder the planted scenarios
//! share.

use super::security::admin_seat;
use super::{guid, pick, pid, Ctx, Scene, Who};
use crate::demo::clock::{is_weekend, DAY, HOUR};
use crate::demo::fields::{device_header, initiating, Fields, Proc, SYSTEM};
use crate::demo::software::Img;
use crate::demo::world::{fnv, Device, Role, User, TENANT_ID};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// The public addresses Contoso's offices sign in from.
pub(crate) const OFFICE_IPS: [&str; 4] = [
    "198.51.100.10",
    "198.51.100.11",
    "198.51.100.12",
    "198.51.100.13",
];
/// A benign `DeviceLogonEvents` record.
pub(crate) fn device_logon(ctx: &mut Ctx<'_, '_>, scene: &Scene<'_>) -> Fields {
    let world = ctx.world;
    let roll = ctx.rng.random_range(0..100);
    let mut f = Fields::new("DeviceLogonEvents");
    let (device, user_fields, logon_type, protocol, remote, admin, failed, img) =
        match (scene.who, scene.user) {
            (Who::Staff, Some(user)) => {
                let failed = roll >= 96;
                if roll < 25 {
                    let fs = world.device("FS01").unwrap_or(scene.device);
                    (
                        fs,
                        user,
                        "Network",
                        "Kerberos",
                        Some(scene.device),
                        false,
                        failed,
                        Img::Lsass,
                    )
                } else {
                    let kind = *pick(
                        ctx.rng,
                        &["Interactive", "Unlock", "Unlock", "CachedInteractive"],
                    );
                    (
                        scene.device,
                        user,
                        kind,
                        "Negotiate",
                        None,
                        false,
                        failed,
                        Img::Winlogon,
                    )
                }
            }
            (Who::Admin, Some(admin)) => {
                let from = &world.devices[world.workstations[admin_seat(world, admin)]];
                (
                    scene.device,
                    admin,
                    "RemoteInteractive",
                    "Negotiate",
                    Some(from),
                    true,
                    false,
                    Img::Lsass,
                )
            }
            _ => {
                let service = if scene.device.role == Role::SqlServer {
                    "svc-sql"
                } else {
                    "svc-backup"
                };
                match world.service(service) {
                    Some(user) if scene.device.role != Role::Workstation => (
                        scene.device,
                        user,
                        "Service",
                        "Negotiate",
                        None,
                        false,
                        false,
                        Img::Services,
                    ),
                    _ => {
                        let user = &world.users[scene.device.user.unwrap_or(0)];
                        (
                            scene.device,
                            user,
                            "Unlock",
                            "Negotiate",
                            None,
                            false,
                            roll >= 97,
                            Img::Winlogon,
                        )
                    }
                }
            }
        };
    device_header(&mut f, ctx.time, device, ctx.report);
    f.text(
        "ActionType",
        if failed {
            "LogonFailed"
        } else {
            "LogonSuccess"
        },
    )
    .text("LogonType", logon_type)
    .text("AccountDomain", crate::demo::world::DOMAIN)
    .text("AccountName", user_fields.sam.as_str())
    .text("AccountSid", user_fields.sid.as_str())
    .text("Protocol", protocol)
    .text(
        "FailureReason",
        if failed {
            "InvalidUserNameOrPassword"
        } else {
            ""
        },
    )
    .flag("IsLocalAdmin", admin)
    .long("LogonId", ctx.rng.random_range(100_000..90_000_000));
    if let Some(remote) = remote {
        f.text("RemoteDeviceName", remote.short.as_str())
            .text("RemoteIP", remote.ip.as_str())
            .text("RemoteIPType", "Private")
            .long("RemotePort", ctx.rng.random_range(49_152..65_535));
    }
    let cmd = match img {
        Img::Lsass => r"C:\Windows\system32\lsass.exe",
        Img::Services => r"C:\Windows\system32\services.exe",
        _ => "winlogon.exe",
    };
    let proc = Proc {
        img,
        cmd,
        pid: pid(ctx.rng),
        started: ctx.time - ctx.rng.random_range(DAY..3 * DAY),
        parent: Img::Wininit,
        parent_pid: pid(ctx.rng),
        actor: SYSTEM,
    };
    initiating(&mut f, world, &proc);
    f
}

/// An Entra ID sign-in.
pub(crate) struct SignIn<'a> {
    /// Who signs in.
    pub user: &'a User,
    /// From where.
    pub ip: &'a str,
    /// `ResultType`: `0`, `50126`, `50074`, `50140`.
    pub result: &'a str,
    /// The application: display name and id.
    pub app: (&'a str, &'a str),
    /// Country, city and coordinates of the address.
    pub place: (&'a str, &'a str, f64, f64),
    /// The user's managed device, if the sign-in came from one.
    pub device: Option<&'a Device>,
    /// The browser or client's user agent.
    pub agent: &'a str,
}

/// Applications people sign in to: (display name, application id).
pub(crate) const APPS: [(&str, &str); 6] = [
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
    ("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
    (
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
    ),
    ("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca"),
    (
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
    ),
    ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"),
];

/// Where people work from home: (city, latitude, longitude).
const HOME_TOWNS: [(&str, f64, f64); 5] = [
    ("Reading", 51.4543, -0.9781),
    ("Croydon", 51.3762, -0.0982),
    ("Watford", 51.6565, -0.3903),
    ("Guildford", 51.2362, -0.5704),
    ("Brighton", 50.8225, -0.1372),
];

/// A user agent of an ordinary Windows browser.
pub(crate) const EDGE_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";

/// A `SigninLogs` record.
pub(crate) fn signin_record(time: i64, sign_in: &SignIn<'_>, rng: &mut ChaCha8Rng) -> Fields {
    let (description, status) = match sign_in.result {
        "0" => ("", json!({ "errorCode": 0 })),
        "50126" => (
            "Error validating credentials due to invalid username or password.",
            json!({ "errorCode": 50126, "failureReason": "Error validating credentials due to invalid username or password." }),
        ),
        "50074" => (
            "Strong Authentication is required.",
            json!({ "errorCode": 50074, "failureReason": "Strong Authentication is required.", "additionalDetails": "The user didn't complete the MFA prompt." }),
        ),
        _ => (
            "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
            json!({ "errorCode": 50140, "failureReason": "This error occurred due to 'Keep me signed in' interrupt when the user was signing in." }),
        ),
    };
    let (country, city, latitude, longitude) = sign_in.place;
    let user = sign_in.user;
    let (app, app_id) = sign_in.app;
    let device_detail = match sign_in.device {
        Some(device) => json!({
            "deviceId": crate::demo::world::guid_of(&device.fqdn),
            "displayName": device.short,
            "operatingSystem": "Windows10",
            "browser": "Edge 130.0.0",
            "isCompliant": true,
            "isManaged": true,
            "trustType": "Hybrid Azure AD joined",
        }),
        None => {
            json!({ "deviceId": "", "operatingSystem": "Windows10", "browser": "Chrome 130.0.0" })
        }
    };
    let mut f = Fields::new("SigninLogs");
    f.time("TimeGenerated", time)
        .text("Id", guid(rng))
        .text("CorrelationId", guid(rng))
        .text("OperationName", "Sign-in activity")
        .text("Category", "SignInLogs")
        .text("ResultType", sign_in.result)
        .text("ResultDescription", description)
        .text("UserPrincipalName", user.upn.as_str())
        .text("UserDisplayName", user.display.as_str())
        .text("Identity", user.display.as_str())
        .text("UserId", user.object_id.as_str())
        .text("UserType", "Member")
        .text("AppDisplayName", app)
        .text("AppId", app_id)
        .text(
            "ResourceDisplayName",
            if app == "Azure Portal" {
                "Windows Azure Service Management API"
            } else {
                "Microsoft Graph"
            },
        )
        .text(
            "ClientAppUsed",
            if sign_in.device.is_some() {
                "Mobile Apps and Desktop clients"
            } else {
                "Browser"
            },
        )
        .text("IPAddress", sign_in.ip)
        .text("Location", country)
        .json(
            "LocationDetails",
            json!({
                "city": city,
                "state": city,
                "countryOrRegion": country,
                "geoCoordinates": { "latitude": latitude, "longitude": longitude },
            }),
        )
        .json("DeviceDetail", device_detail)
        .json("Status", status)
        .text(
            "ConditionalAccessStatus",
            if sign_in.result == "0" {
                "success"
            } else {
                "notApplied"
            },
        )
        .text("AuthenticationRequirement", "multiFactorAuthentication")
        .flag("IsInteractive", true)
        .text("UserAgent", sign_in.agent)
        .text("RiskLevelDuringSignIn", "none")
        .text("AADTenantId", TENANT_ID)
        .text("Type", "SigninLogs");
    f
}

/// A benign `SigninLogs` record.
pub(crate) fn signin(ctx: &mut Ctx<'_, '_>, scene: &Scene<'_>) -> Fields {
    let world = ctx.world;
    let user = match scene.user {
        Some(user) => user,
        None => {
            &world.users[world.devices[*pick(ctx.rng, &world.workstations)]
                .user
                .unwrap_or(0)]
        }
    };
    let hour = ctx.time.rem_euclid(DAY) / HOUR;
    let in_office = !is_weekend(ctx.time.div_euclid(DAY))
        && (8..18).contains(&hour)
        && ctx.rng.random_range(0..4) != 0;
    let spread = fnv(&user.sam);
    let home = (spread % HOME_TOWNS.len() as u64) as usize;
    let (ip, place, device) = if in_office {
        let ip = OFFICE_IPS[(spread / 7 % OFFICE_IPS.len() as u64) as usize];
        let device = user.workstation.map(|d| &world.devices[d]);
        (ip, ("GB", "London", 51.5074, -0.1278), device)
    } else {
        let (town, latitude, longitude) = HOME_TOWNS[home];
        let device = if ctx.rng.random_range(0..3) == 0 {
            None
        } else {
            user.workstation.map(|d| &world.devices[d])
        };
        (
            user.home_ip.as_str(),
            ("GB", town, latitude, longitude),
            device,
        )
    };
    let result = match ctx.rng.random_range(0..100) {
        0..2 => "50126",
        2..5 => "50074",
        5..8 => "50140",
        _ => "0",
    };
    let app = if scene.who == Who::Admin && ctx.rng.random_range(0..2) == 0 {
        APPS[5]
    } else {
        APPS[ctx.rng.random_range(0..5)]
    };
    let sign_in = SignIn {
        user,
        ip,
        result,
        app,
        place,
        device,
        agent: EDGE_AGENT,
    };
    signin_record(ctx.time, &sign_in, ctx.rng)
}
