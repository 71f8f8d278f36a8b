//! Benign process trees (`DeviceProcessEvents`) and network connections (`DeviceNetworkEvents`).

use super::{is_server, pick, pid, Ctx, Scene, Who};
use crate::demo::clock::{HOUR, MINUTE};
use crate::demo::fields::{
    device_header, initiating, started_process, Actor, Fields, Proc, NETWORK_SERVICE, SYSTEM,
};
use crate::demo::software::{
    Img, ADMIN_COMMANDS, ADMIN_POWERSHELL, APP_TRAFFIC, BACKGROUND_TRAFFIC, DOCUMENTS,
    SVCHOST_CHILDREN, SVCHOST_LINES, WEB_SITES,
};
use crate::demo::world::{Device, Role, World};
use rand::Rng;
use std::borrow::Cow;

/// A process start: the parent (with its own parent) and the child with their command lines.
pub(crate) struct Launch<'w> {
    /// The parent's parent.
    pub grandparent: Img,
    /// The parent's image.
    pub parent: Img,
    /// The parent's command line.
    pub parent_cmd: Cow<'static, str>,
    /// The account the parent runs as.
    pub parent_actor: Actor<'w>,
    /// The started image.
    pub child: Img,
    /// The started command line.
    pub child_cmd: Cow<'static, str>,
    /// The account the child runs as.
    pub child_actor: Actor<'w>,
}

/// The quoted path of `img`, the way Explorer starts programs.
fn quoted(img: Img) -> Cow<'static, str> {
    Cow::Owned(format!("\"{}\" ", img.path()))
}

/// A benign process start for `scene`.
pub(crate) fn launch<'w>(ctx: &mut Ctx<'_, 'w>, scene: &Scene<'w>) -> Launch<'w> {
    let actor = scene.actor();
    let user = scene.user.map(|u| u.sam.as_str()).unwrap_or("public");
    let roll = ctx.rng.random_range(0..100);
    let from_explorer = |child: Img, child_cmd: Cow<'static, str>, child_actor: Actor<'w>| Launch {
        grandparent: Img::Userinit,
        parent: Img::Explorer,
        parent_cmd: Cow::Borrowed(r"C:\Windows\Explorer.EXE"),
        parent_actor: actor,
        child,
        child_cmd,
        child_actor,
    };
    match scene.who {
        Who::Staff => match roll {
            0..35 => {
                let browser = if ctx.rng.random_range(0..10) < 7 {
                    Img::Chrome
                } else {
                    Img::Msedge
                };
                let kind = *pick(ctx.rng, &["renderer", "renderer", "utility", "gpu-process"]);
                let child_cmd = format!(
                    "\"{}\" --type={kind} --lang=en-GB --field-trial-handle={},i,{} /prefetch:{}",
                    browser.path(),
                    ctx.rng.random_range(1000..9999),
                    ctx.rng.random::<u32>(),
                    ctx.rng.random_range(1..9)
                );
                Launch {
                    grandparent: Img::Explorer,
                    parent: browser,
                    parent_cmd: quoted(browser),
                    parent_actor: actor,
                    child: browser,
                    child_cmd: Cow::Owned(child_cmd),
                    child_actor: actor,
                }
            }
            35..60 => {
                let (doc, app) = *pick(ctx.rng, DOCUMENTS);
                let (child, cmd) = match ctx.rng.random_range(0..10) {
                    0..3 => (
                        app,
                        format!(
                            "\"{}\" /n \"C:\\Users\\{user}\\Documents\\{doc}\"",
                            app.path()
                        ),
                    ),
                    3 => (Img::Outlook, format!("\"{}\" ", Img::Outlook.path())),
                    4 => (Img::Teams, format!("\"{}\" ", Img::Teams.path())),
                    5 => (
                        Img::OneDrive,
                        format!("\"{}\" /background", Img::OneDrive.path()),
                    ),
                    6 => (
                        Img::Notepad,
                        format!(
                            "\"{}\" C:\\Users\\{user}\\Desktop\\todo.txt",
                            Img::Notepad.path()
                        ),
                    ),
                    7 => (Img::Acrobat, format!("\"{}\" ", Img::Acrobat.path())),
                    8 => (Img::Msedge, format!("\"{}\" ", Img::Msedge.path())),
                    _ => (Img::Chrome, format!("\"{}\" ", Img::Chrome.path())),
                };
                from_explorer(child, Cow::Owned(cmd), actor)
            }
            60..70 => {
                let office = *pick(ctx.rng, &[Img::Winword, Img::Excel, Img::Powerpnt]);
                Launch {
                    grandparent: Img::Explorer,
                    parent: office,
                    parent_cmd: quoted(office),
                    parent_actor: actor,
                    child: Img::Splwow64,
                    child_cmd: Cow::Borrowed(r"C:\Windows\splwow64.exe 12288"),
                    child_actor: actor,
                }
            }
            70..78 => {
                let folder = crate::demo::world::hex_digest(user, 4).to_ascii_uppercase();
                let cmd = format!(
                    "\"{}\" \"C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{folder}\\invoice_10233.pdf\"",
                    Img::Acrobat.path()
                );
                Launch {
                    grandparent: Img::Explorer,
                    parent: Img::Outlook,
                    parent_cmd: quoted(Img::Outlook),
                    parent_actor: actor,
                    child: Img::Acrobat,
                    child_cmd: Cow::Owned(cmd),
                    child_actor: actor,
                }
            }
            _ => {
                let (child, cmd) = *pick(
                    ctx.rng,
                    &[
                        (
                            Img::RuntimeBroker,
                            r"C:\Windows\System32\RuntimeBroker.exe -Embedding",
                        ),
                        (
                            Img::SmartScreen,
                            r"C:\Windows\System32\smartscreen.exe -Embedding",
                        ),
                        (
                            Img::BackgroundTaskHost,
                            r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:App.AppXnme9zjyebb2xnyygh6q9ev6p5d234br2.mca"#,
                        ),
                    ],
                );
                Launch {
                    grandparent: Img::Services,
                    parent: Img::Svchost,
                    parent_cmd: Cow::Borrowed(r"C:\Windows\system32\svchost.exe -k DcomLaunch -p"),
                    parent_actor: SYSTEM,
                    child,
                    child_cmd: Cow::Borrowed(cmd),
                    child_actor: actor,
                }
            }
        },
        Who::Admin => {
            let from_cmd = |child: Img, child_cmd: Cow<'static, str>| Launch {
                grandparent: Img::Explorer,
                parent: Img::Cmd,
                parent_cmd: Cow::Borrowed(r#""C:\Windows\system32\cmd.exe" "#),
                parent_actor: actor,
                child,
                child_cmd,
                child_actor: actor,
            };
            match roll {
                0..40 => {
                    let (img, line) = *pick(ctx.rng, ADMIN_COMMANDS);
                    from_cmd(img, Cow::Borrowed(line))
                }
                40..60 => from_explorer(
                    Img::PowerShell,
                    Cow::Borrowed(*pick(ctx.rng, ADMIN_POWERSHELL)),
                    actor,
                ),
                60..72 => from_explorer(
                    Img::Cmd,
                    Cow::Borrowed(r#""C:\Windows\system32\cmd.exe" "#),
                    actor,
                ),
                72..82 => {
                    let snapin = *pick(
                        ctx.rng,
                        &["dsa.msc", "services.msc", "eventvwr.msc", "gpmc.msc"],
                    );
                    let cmd = format!(
                        "\"C:\\Windows\\system32\\mmc.exe\" \"C:\\Windows\\system32\\{snapin}\""
                    );
                    from_explorer(Img::Mmc, Cow::Owned(cmd), actor)
                }
                82..90 => {
                    let target = pick(ctx.rng, &ctx.world.servers);
                    let cmd = format!(
                        "\"C:\\Windows\\system32\\mstsc.exe\" /v:{}",
                        ctx.world.devices[*target].fqdn
                    );
                    from_explorer(Img::Mstsc, Cow::Owned(cmd), actor)
                }
                90..95 => from_cmd(
                    Img::Conhost,
                    Cow::Borrowed(r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"),
                ),
                _ => {
                    if scene.device.role == Role::FileServer {
                        from_cmd(
                            Img::Schtasks,
                            Cow::Borrowed(
                                r#"schtasks  /create /tn "Contoso\Nightly backup" /tr "\"C:\Program Files\Contoso Backup\cbagent.exe\" --nightly" /sc daily /st 01:00 /ru CONTOSO\svc-backup /f"#,
                            ),
                        )
                    } else {
                        from_cmd(Img::Vssadmin, Cow::Borrowed("vssadmin  list shadows"))
                    }
                }
            }
        }
        Who::Machine => {
            let from_services = |child: Img, child_cmd: &'static str| Launch {
                grandparent: Img::Wininit,
                parent: Img::Services,
                parent_cmd: Cow::Borrowed(r"C:\Windows\system32\services.exe"),
                parent_actor: SYSTEM,
                child,
                child_cmd: Cow::Borrowed(child_cmd),
                child_actor: SYSTEM,
            };
            match roll {
                0..45 => {
                    let (child, cmd) = *pick(ctx.rng, SVCHOST_CHILDREN);
                    Launch {
                        grandparent: Img::Services,
                        parent: Img::Svchost,
                        parent_cmd: Cow::Borrowed(*pick(ctx.rng, SVCHOST_LINES)),
                        parent_actor: SYSTEM,
                        child,
                        child_cmd: Cow::Borrowed(cmd),
                        child_actor: SYSTEM,
                    }
                }
                45..62 => from_services(Img::Svchost, pick::<&str>(ctx.rng, SVCHOST_LINES)),
                62..72 => Launch {
                    grandparent: Img::Services,
                    parent: Img::SearchIndexer,
                    parent_cmd: Cow::Borrowed(r"C:\Windows\system32\SearchIndexer.exe /Embedding"),
                    parent_actor: SYSTEM,
                    child: Img::SearchProtocolHost,
                    child_cmd: Cow::Borrowed(
                        r#""C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe7_ Global\UsGthrCtrlFltPipeMssGthrPipe7 1 -2147483646 "Software\Microsoft\Windows Search""#,
                    ),
                    child_actor: SYSTEM,
                },
                72..80 if !is_server(scene.device) => {
                    let script = *pick(
                        ctx.rng,
                        &[
                            "0f5e2c4a-7d1b-4a53-9a0e-3c6b2d1e8f47_1",
                            "6b1d9e2f-3a4c-4f8e-b2d7-5e9a1c0f6d38_2",
                            "c3a7f1e9-2b5d-4e6a-8f0c-9d4b7e2a1f53_1",
                        ],
                    );
                    let cmd = format!(
                        "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile -executionPolicy bypass -file  \"C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\{script}.ps1\" "
                    );
                    Launch {
                        grandparent: Img::Services,
                        parent: Img::IntuneAgent,
                        parent_cmd: quoted(Img::IntuneAgent),
                        parent_actor: SYSTEM,
                        child: Img::PowerShell,
                        child_cmd: Cow::Owned(cmd),
                        child_actor: SYSTEM,
                    }
                }
                72..88 => {
                    if ctx.rng.random_range(0..2) == 0 {
                        from_services(Img::Msiexec, r"C:\Windows\system32\msiexec.exe /V")
                    } else {
                        from_services(
                            Img::OfficeClickToRun,
                            r#""C:\Program Files\Common Files\Microsoft Shared\ClickToRun\OfficeClickToRun.exe" /service"#,
                        )
                    }
                }
                _ => match scene.device.role {
                    Role::FileServer => Launch {
                        grandparent: Img::Services,
                        parent: Img::BackupAgent,
                        parent_cmd: quoted(Img::BackupAgent),
                        parent_actor: SYSTEM,
                        child: Img::Vssadmin,
                        child_cmd: Cow::Borrowed(
                            r"vssadmin.exe create shadow /for=D: /autoretry=5",
                        ),
                        child_actor: SYSTEM,
                    },
                    Role::SqlServer => from_services(
                        Img::SqlAgent,
                        r#""C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\SQLAGENT.EXE" -i MSSQLSERVER"#,
                    ),
                    _ => Launch {
                        grandparent: Img::Svchost,
                        parent: Img::MpCmdRun,
                        parent_cmd: Cow::Borrowed(
                            r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe" -IdleTask -TaskName WdCacheMaintenance"#,
                        ),
                        parent_actor: SYSTEM,
                        child: Img::Conhost,
                        child_cmd: Cow::Borrowed(
                            r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
                        ),
                        child_actor: SYSTEM,
                    },
                },
            }
        }
    }
}

/// A benign `DeviceProcessEvents` record.
pub(crate) fn process_event<'w>(ctx: &mut Ctx<'_, 'w>, scene: &Scene<'w>) -> Fields {
    let launch = launch(ctx, scene);
    let parent = Proc {
        img: launch.parent,
        cmd: &launch.parent_cmd,
        pid: pid(ctx.rng),
        started: ctx.time - ctx.rng.random_range(MINUTE..8 * HOUR),
        parent: launch.grandparent,
        parent_pid: pid(ctx.rng),
        actor: launch.parent_actor,
    };
    let child = Proc {
        img: launch.child,
        cmd: &launch.child_cmd,
        pid: pid(ctx.rng),
        started: ctx.time,
        parent: launch.parent,
        parent_pid: parent.pid,
        actor: launch.child_actor,
    };
    process_record(
        ctx.world,
        ctx.time,
        ctx.report,
        scene.device,
        &parent,
        &child,
    )
}

/// The `DeviceProcessEvents` record of `parent` starting `child` on `device` at `time`.
pub(crate) fn process_record(
    world: &World,
    time: i64,
    report: i64,
    device: &Device,
    parent: &Proc<'_>,
    child: &Proc<'_>,
) -> Fields {
    let mut f = Fields::new("DeviceProcessEvents");
    device_header(&mut f, time, device, report);
    f.text("ActionType", "ProcessCreated");
    started_process(&mut f, world, child);
    initiating(&mut f, world, parent);
    f
}

/// Where a connection goes: (initiating image, its command line, remote host, address, port).
type Route = (Img, Cow<'static, str>, &'static str, String, i64);

/// A benign `DeviceNetworkEvents` record.
pub(crate) fn network_event(ctx: &mut Ctx<'_, '_>, scene: &Scene<'_>) -> Fields {
    let world = ctx.world;
    let actor = scene.actor();
    let roll = ctx.rng.random_range(0..100);
    let (img, cmd, host, ip, port): Route = match scene.who {
        Who::Staff | Who::Admin if roll < 60 => {
            let browser = if ctx.rng.random_range(0..10) < 7 {
                Img::Chrome
            } else {
                Img::Msedge
            };
            let (host, ip) = *pick(ctx.rng, WEB_SITES);
            (browser, quoted(browser), host, ip.to_string(), 443)
        }
        Who::Staff if roll < 94 => {
            let (img, host, ip, port) = *pick(ctx.rng, APP_TRAFFIC);
            (img, quoted(img), host, ip.to_string(), port)
        }
        Who::Staff | Who::Admin => {
            let server = if scene.who == Who::Admin || ctx.rng.random_range(0..2) == 0 {
                world.device("FS01")
            } else {
                world.device("SQL01")
            };
            match server {
                Some(s) => (
                    Img::Explorer,
                    Cow::Borrowed(r"C:\Windows\Explorer.EXE"),
                    "",
                    s.ip.clone(),
                    if s.role == Role::SqlServer { 1433 } else { 445 },
                ),
                None => (
                    Img::Explorer,
                    quoted(Img::Explorer),
                    "",
                    "10.10.0.20".into(),
                    445,
                ),
            }
        }
        Who::Machine if roll < 55 => {
            let (img, host, ip, port) = *pick(ctx.rng, BACKGROUND_TRAFFIC);
            let cmd = if img == Img::Svchost {
                Cow::Borrowed(*pick(ctx.rng, SVCHOST_LINES))
            } else {
                quoted(img)
            };
            (img, cmd, host, ip.to_string(), port)
        }
        Who::Machine => {
            let dc = if ctx.rng.random_range(0..2) == 0 {
                "10.10.0.10"
            } else {
                "10.10.0.11"
            };
            let (img, port) = *pick(
                ctx.rng,
                &[
                    (Img::Lsass, 88),
                    (Img::Lsass, 389),
                    (Img::Svchost, 53),
                    (Img::Svchost, 445),
                ],
            );
            let cmd = if img == Img::Lsass {
                Cow::Borrowed(r"C:\Windows\system32\lsass.exe")
            } else {
                Cow::Borrowed(r"C:\Windows\system32\svchost.exe -k NetworkService -p -s Dnscache")
            };
            (img, cmd, "", dc.to_string(), port)
        }
    };
    let public = !ip.starts_with("10.");
    let running_as = match (scene.who, img) {
        (Who::Machine, Img::Svchost) if port == 53 => NETWORK_SERVICE,
        (Who::Machine, _) => SYSTEM,
        _ => actor,
    };
    let proc = Proc {
        img,
        cmd: &cmd,
        pid: pid(ctx.rng),
        started: ctx.time - ctx.rng.random_range(MINUTE..6 * HOUR),
        parent: match img {
            Img::Svchost | Img::MsMpEng | Img::Lsass => Img::Services,
            Img::Explorer => Img::Userinit,
            _ => Img::Explorer,
        },
        parent_pid: pid(ctx.rng),
        actor: running_as,
    };
    let failed = ctx.rng.random_range(0..100) < 2;
    let mut f = Fields::new("DeviceNetworkEvents");
    device_header(&mut f, ctx.time, scene.device, ctx.report);
    f.text(
        "ActionType",
        if failed {
            "ConnectionFailed"
        } else {
            "ConnectionSuccess"
        },
    )
    .text("RemoteIP", ip)
    .long("RemotePort", port)
    .text("RemoteUrl", host)
    .text("RemoteIPType", if public { "Public" } else { "Private" })
    .text("LocalIP", scene.device.ip.as_str())
    .long("LocalPort", ctx.rng.random_range(49_152..65_535))
    .text(
        "Protocol",
        if port == 53 || port == 123 {
            "Udp"
        } else {
            "Tcp"
        },
    );
    initiating(&mut f, world, &proc);
    f
}
