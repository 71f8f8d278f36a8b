//! Benign traces on disk and in the registry (`DeviceFileEvents`, `DeviceRegistryEvents`) and
//! miscellaneous endpoint events (`DeviceEvents`).

use super::{guid, pick, pid, Ctx, Scene, Who};
use crate::demo::clock::{HOUR, MINUTE};
use crate::demo::fields::{device_header, initiating, Actor, Fields, Proc, SYSTEM};
use crate::demo::software::{Img, DOCUMENTS, DOWNLOADS, SVCHOST_LINES, WEB_SITES};
use crate::demo::world::{hex_digest, Role};
use rand::Rng;
use serde_json::json;

/// The initiating process of a trace: `img` started from `parent`, running as `actor`.
fn proc_of<'a>(ctx: &mut Ctx<'_, '_>, img: Img, cmd: &'a str, actor: Actor<'a>) -> Proc<'a> {
    Proc {
        img,
        cmd,
        pid: pid(ctx.rng),
        started: ctx.time - ctx.rng.random_range(MINUTE..4 * HOUR),
        parent: match img {
            Img::Svchost | Img::MsMpEng | Img::IntuneAgent | Img::BackupAgent => Img::Services,
            Img::SqlServer | Img::GoogleUpdate | Img::TiWorker | Img::MpCmdRun => Img::Svchost,
            Img::Explorer => Img::Userinit,
            _ => Img::Explorer,
        },
        parent_pid: pid(ctx.rng),
        actor,
    }
}

/// A benign `DeviceFileEvents` record.
pub(crate) fn file_event(ctx: &mut Ctx<'_, '_>, scene: &Scene<'_>) -> Fields {
    let actor = scene.actor();
    let user = scene.user.map(|u| u.sam.as_str()).unwrap_or("public");
    let roll = ctx.rng.random_range(0..100);
    let mut origin: Option<(String, &str)> = None;
    let mut action = "FileCreated";
    let (img, folder, name, size): (Img, String, String, i64) = match scene.who {
        Who::Staff => match roll {
            0..30 => {
                let (doc, app) = *pick(ctx.rng, DOCUMENTS);
                if ctx.rng.random_range(0..10) < 7 {
                    action = "FileModified";
                }
                let folder = format!(r"C:\Users\{user}\Documents");
                (
                    app,
                    folder,
                    doc.to_string(),
                    ctx.rng.random_range(20_000..2_000_000),
                )
            }
            30..55 => {
                let (file, size) = *pick(ctx.rng, DOWNLOADS);
                let (host, ip) = *pick(ctx.rng, WEB_SITES);
                origin = Some((format!("https://{host}/downloads/{file}"), ip));
                let browser = if ctx.rng.random_range(0..10) < 7 {
                    Img::Chrome
                } else {
                    Img::Msedge
                };
                (
                    browser,
                    format!(r"C:\Users\{user}\Downloads"),
                    file.to_string(),
                    size,
                )
            }
            55..80 => {
                let (_, app) = *pick(ctx.rng, DOCUMENTS);
                let name = format!("~WRL{:04}.tmp", ctx.rng.random_range(0..10_000));
                (
                    app,
                    format!(r"C:\Users\{user}\AppData\Local\Temp"),
                    name,
                    ctx.rng.random_range(1_000..500_000),
                )
            }
            80..90 => {
                let (file, size) = *pick(
                    ctx.rng,
                    &[
                        ("invoice_10233.pdf", 184_233),
                        ("Agenda.docx", 24_100),
                        ("Minutes.pdf", 98_003),
                    ],
                );
                let folder = format!(
                    r"C:\Users\{user}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\{}",
                    hex_digest(user, 4).to_ascii_uppercase()
                );
                (Img::Outlook, folder, file.to_string(), size)
            }
            _ => {
                let (doc, _) = *pick(ctx.rng, DOCUMENTS);
                action = "FileModified";
                let folder = format!(r"C:\Users\{user}\OneDrive - Contoso\Documents");
                (
                    Img::OneDrive,
                    folder,
                    doc.to_string(),
                    ctx.rng.random_range(20_000..2_000_000),
                )
            }
        },
        Who::Admin => {
            if roll < 60 {
                let name = format!("__PSScriptPolicyTest_{}.ps1", &guid(ctx.rng)[..12]);
                (
                    Img::PowerShell,
                    format!(r"C:\Users\{user}\AppData\Local\Temp"),
                    name,
                    1,
                )
            } else {
                let file = *pick(
                    ctx.rng,
                    &["Check-DiskSpace.ps1", "Export-Users.ps1", "notes.txt"],
                );
                (
                    Img::Notepad,
                    r"C:\Scripts".to_string(),
                    file.to_string(),
                    ctx.rng.random_range(500..20_000),
                )
            }
        }
        Who::Machine => match roll {
            0..35 => {
                let kb = *pick(ctx.rng, &["KB5044273", "KB5043935", "KB5044091"]);
                let folder = format!(
                    r"C:\Windows\SoftwareDistribution\Download\{}",
                    hex_digest(kb, 16)
                );
                (
                    Img::Svchost,
                    folder,
                    format!("Windows10.0-{kb}-x64.cab"),
                    ctx.rng.random_range(5_000_000..90_000_000),
                )
            }
            35..60 => {
                let folder = format!(
                    r"C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{{{}}}",
                    guid(ctx.rng).to_ascii_uppercase()
                );
                let file = *pick(ctx.rng, &["mpasdlta.vdm", "mpavdlta.vdm", "mpengine.dll"]);
                (
                    Img::MpCmdRun,
                    folder,
                    file.to_string(),
                    ctx.rng.random_range(100_000..20_000_000),
                )
            }
            60..80 => {
                action = "FileModified";
                let app = *pick(
                    ctx.rng,
                    &[
                        "CHROME.EXE",
                        "OUTLOOK.EXE",
                        "SVCHOST.EXE",
                        "TEAMS.EXE",
                        "CONHOST.EXE",
                    ],
                );
                let name = format!("{app}-{}.pf", hex_digest(app, 4).to_ascii_uppercase());
                (
                    Img::Svchost,
                    r"C:\Windows\Prefetch".to_string(),
                    name,
                    ctx.rng.random_range(2_000..90_000),
                )
            }
            80..90 => {
                action = "FileModified";
                (
                    Img::TiWorker,
                    r"C:\Windows\Logs\CBS".to_string(),
                    "CBS.log".to_string(),
                    ctx.rng.random_range(1_000_000..9_000_000),
                )
            }
            _ => match scene.device.role {
                Role::FileServer => {
                    let name = format!("FS01_{}.vbk", ctx.time / (24 * HOUR));
                    (
                        Img::BackupAgent,
                        r"D:\Backups".to_string(),
                        name,
                        4_200_000_000,
                    )
                }
                Role::SqlServer => {
                    let name = format!("Sales_{}.bak", ctx.time / (24 * HOUR));
                    (
                        Img::SqlServer,
                        r"D:\MSSQL\Backup".to_string(),
                        name,
                        1_800_000_000,
                    )
                }
                _ => {
                    let folder = r"C:\Program Files (x86)\Google\Update\Download\{8A69D345-D564-463C-AFF1-A69D9E530F96}\130.0.6723.92";
                    (
                        Img::GoogleUpdate,
                        folder.to_string(),
                        "130.0.6723.92_chrome_installer.exe".to_string(),
                        112_400_000,
                    )
                }
            },
        },
    };
    let cmd_owned;
    let cmd: &str = match img {
        Img::Svchost => pick::<&str>(ctx.rng, SVCHOST_LINES),
        _ => {
            cmd_owned = format!("\"{}\" ", img.path());
            &cmd_owned
        }
    };
    let running_as = if scene.who == Who::Machine {
        SYSTEM
    } else {
        actor
    };
    let proc = proc_of(ctx, img, cmd, running_as);
    let mut f = Fields::new("DeviceFileEvents");
    device_header(&mut f, ctx.time, scene.device, ctx.report);
    f.text("ActionType", action)
        .text("FolderPath", format!(r"{folder}\{name}"))
        .text("SHA256", hex_digest(&name, 32))
        .text("FileName", name)
        .long("FileSize", size);
    if let Some((url, ip)) = origin {
        let referrer = match url.find("/downloads/") {
            Some(end) => url[..end + 1].to_string(),
            None => String::new(),
        };
        f.text("FileOriginUrl", url)
            .text("FileOriginIP", ip)
            .text("FileOriginReferrerUrl", referrer);
    }
    initiating(&mut f, ctx.world, &proc);
    f
}

/// A benign `DeviceRegistryEvents` record.
pub(crate) fn registry_event(ctx: &mut Ctx<'_, '_>, scene: &Scene<'_>) -> Fields {
    let roll = ctx.rng.random_range(0..100);
    let (img, key, value_type, name, data): (Img, String, &str, String, String) = match (scene.who, scene.user) {
        (Who::Staff, Some(user)) => {
            let hkcu = format!(r"HKEY_CURRENT_USER\{}\Software", user.sid);
            match roll {
                0..40 => {
                    let (doc, app) = *pick(ctx.rng, DOCUMENTS);
                    let product = match app {
                        Img::Excel => "Excel",
                        Img::Powerpnt => "PowerPoint",
                        _ => "Word",
                    };
                    let key = format!(r"{hkcu}\Microsoft\Office\16.0\{product}\User MRU\AD_{}\File MRU", hex_digest(&user.sam, 8).to_ascii_uppercase());
                    let data = format!(r"[F00000000][T01DB2A{:010X}][O00000000]*C:\Users\{}\Documents\{doc}", ctx.rng.random::<u32>(), user.sam);
                    (app, key, "String", "Item 1".to_string(), data)
                }
                40..70 => {
                    let ext = *pick(ctx.rng, &[".docx", ".xlsx", ".pdf", ".pptx"]);
                    let key = format!(r"{hkcu}\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\{ext}");
                    (Img::Explorer, key, "Binary", "MRUListEx".to_string(), String::new())
                }
                70..85 => {
                    let key = format!(r"{hkcu}\Microsoft\Windows\CurrentVersion\Run");
                    let data = format!("\"{}\" /background", Img::OneDrive.path());
                    (Img::OneDrive, key, "String", "OneDrive".to_string(), data)
                }
                _ => {
                    let key = format!(r"{hkcu}\Microsoft\Windows\CurrentVersion\Run");
                    let data = format!(
                        r#"C:\Users\{}\AppData\Local\Microsoft\Teams\Update.exe --processStart "Teams.exe" --process-start-args "--system-initiated""#,
                        user.sam
                    );
                    (Img::Teams, key, "String", "com.squirrel.Teams.Teams".to_string(), data)
                }
            }
        }
        _ => match roll {
            0..30 => (
                Img::MsMpEng,
                r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows Defender\Signature Updates".to_string(),
                "String",
                "AVSignatureVersion".to_string(),
                format!("1.419.{}.0", 100 + ctx.time / (8 * HOUR) % 400),
            ),
            30..55 => {
                let sid = match scene.device.user {
                    Some(u) => ctx.world.users[u].sid.clone(),
                    None => "S-1-5-18".to_string(),
                };
                let app = *pick(ctx.rng, &[Img::Chrome, Img::Outlook, Img::Teams, Img::Winword, Img::Explorer]);
                let key = format!(r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\bam\State\UserSettings\{sid}");
                let name = format!(r"\Device\HarddiskVolume3{}", &app.path()[2..]);
                (Img::System, key, "Binary", name, String::new())
            }
            55..70 => {
                let key = format!(
                    r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\Tcpip\Parameters\Interfaces\{{{}}}",
                    crate::demo::world::guid_of(&scene.device.short)
                );
                (Img::Svchost, key, "String", "DhcpIPAddress".to_string(), scene.device.ip.clone())
            }
            70..85 => {
                let task = *pick(ctx.rng, &["GoogleUpdateTaskMachineUA", "OneDrive Reporting Task-S-1-5-21", r"Microsoft\Windows\WindowsUpdate\Scheduled Start"]);
                let key = format!(r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tree\{task}");
                (Img::Svchost, key, "String", "Id".to_string(), format!("{{{}}}", crate::demo::world::guid_of(task).to_ascii_uppercase()))
            }
            85..95 => (
                Img::GoogleUpdate,
                r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\Google\Update\ClientState\{8A69D345-D564-463c-AFF1-A69D9E530F96}".to_string(),
                "String",
                "pv".to_string(),
                "130.0.6723.92".to_string(),
            ),
            _ => (
                Img::TiWorker,
                r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run".to_string(),
                "ExpandString",
                "SecurityHealth".to_string(),
                r"%windir%\system32\SecurityHealthSystray.exe".to_string(),
            ),
        },
    };
    let cmd_owned;
    let cmd: &str = match img {
        Img::Svchost => r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
        Img::System => "",
        _ => {
            cmd_owned = format!("\"{}\" ", img.path());
            &cmd_owned
        }
    };
    let actor = if scene.who == Who::Staff {
        scene.actor()
    } else {
        SYSTEM
    };
    let proc = proc_of(ctx, img, cmd, actor);
    let mut f = Fields::new("DeviceRegistryEvents");
    device_header(&mut f, ctx.time, scene.device, ctx.report);
    f.text("ActionType", "RegistryValueSet")
        .text("RegistryKey", key)
        .text("RegistryValueType", value_type)
        .text("RegistryValueName", name)
        .text("RegistryValueData", data);
    initiating(&mut f, ctx.world, &proc);
    f
}

/// A benign `DeviceEvents` record.
pub(crate) fn device_event(ctx: &mut Ctx<'_, '_>, scene: &Scene<'_>) -> Fields {
    let roll = ctx.rng.random_range(0..100);
    let mut f = Fields::new("DeviceEvents");
    device_header(&mut f, ctx.time, scene.device, ctx.report);
    let (img, actor) = match scene.who {
        Who::Staff if roll < 50 => {
            let url = *pick(ctx.rng, &[
                "https://contoso.sharepoint.com/sites/Finance/Shared%20Documents/Forms/AllItems.aspx",
                "https://contoso.sharepoint.com/sites/Intranet/SitePages/Home.aspx",
                "https://www.linkedin.com/feed/",
                "https://contoso.service-now.com/sp?id=ticket",
                "https://learn.microsoft.com/en-us/microsoft-365/",
            ]);
            f.text("ActionType", "BrowserLaunchedToOpenUrl")
                .text("RemoteUrl", url);
            (*pick(ctx.rng, &[Img::Outlook, Img::Teams]), scene.actor())
        }
        Who::Staff if roll < 75 => {
            f.text("ActionType", "PnpDeviceConnected").json(
                "AdditionalFields",
                json!({
                    "ClassName": "USB",
                    "DeviceDescription": "USB Composite Device",
                    "DeviceId": r"USB\VID_046D&PID_C52B\6&2A9E2C5&0&2",
                    "VendorIds": r"USB\VID_046D&PID_C52B&REV_2411",
                }),
            );
            (Img::Svchost, SYSTEM)
        }
        Who::Staff => {
            f.text("ActionType", "UsbDriveMounted").json(
                "AdditionalFields",
                json!({
                    "DriveLetter": "E:",
                    "ProductName": "Ultra USB 3.0",
                    "Manufacturer": "SanDisk",
                    "SerialNumber": hex_digest(&scene.device.short, 6).to_ascii_uppercase(),
                }),
            );
            (Img::Svchost, SYSTEM)
        }
        Who::Admin => {
            let command = *pick(
                ctx.rng,
                &[
                    "Get-Service",
                    "Get-ADUser",
                    "Restart-Service",
                    "Get-WinEvent",
                    "Test-NetConnection",
                ],
            );
            f.text("ActionType", "PowerShellCommand")
                .json("AdditionalFields", json!({ "Command": command }));
            (Img::PowerShell, scene.actor())
        }
        Who::Machine if roll < 50 => {
            f.text("ActionType", "AntivirusScanCompleted")
                .json("AdditionalFields", json!({ "ScanTypeIndex": "QuickScan" }));
            (Img::MsMpEng, SYSTEM)
        }
        Who::Machine => {
            let task = *pick(
                ctx.rng,
                &[
                    r"\GoogleSystem\GoogleUpdater\GoogleUpdaterTaskSystem130.0.6723.92",
                    r"\Microsoft\Windows\WindowsUpdate\Scheduled Start",
                    r"\Microsoft\Office\Office Automatic Updates 2.0",
                ],
            );
            f.text("ActionType", "ScheduledTaskUpdated")
                .json("AdditionalFields", json!({ "TaskName": task }));
            (Img::Svchost, SYSTEM)
        }
    };
    let cmd_owned;
    let cmd: &str = match img {
        Img::Svchost => r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
        _ => {
            cmd_owned = format!("\"{}\" ", img.path());
            &cmd_owned
        }
    };
    let proc = proc_of(ctx, img, cmd, actor);
    initiating(&mut f, ctx.world, &proc);
    f
}
