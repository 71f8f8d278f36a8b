//! The software catalogue of the demo: the executables that run on Contoso's machines, where
//! they live, where they connect to, and the ordinary commands people and administrators type.

/// Defines [`Img`] with its file name and full path in one table, so they cannot drift.
macro_rules! images {
    ($($variant:ident => ($file:literal, $path:literal),)*) => {
        /// An executable image of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Img {
            $($variant,)*
        }

        impl Img {
            /// Every image, in declaration order (so `ALL[img as usize] == img`).
            pub const ALL: &'static [Img] = &[$(Img::$variant,)*];

            /// The file name, e.g. `chrome.exe`.
            pub fn file(self) -> &'static str {
                match self {
                    $(Img::$variant => $file,)*
                }
            }

            /// The full path, e.g. `C:\Program Files\Google\Chrome\Application\chrome.exe`.
            pub fn path(self) -> &'static str {
                match self {
                    $(Img::$variant => $path,)*
                }
            }
        }
    };
}

images! {
    Explorer => ("explorer.exe", r"C:\Windows\explorer.exe"),
    Userinit => ("userinit.exe", r"C:\Windows\System32\userinit.exe"),
    Winlogon => ("winlogon.exe", r"C:\Windows\System32\winlogon.exe"),
    Wininit => ("wininit.exe", r"C:\Windows\System32\wininit.exe"),
    Services => ("services.exe", r"C:\Windows\System32\services.exe"),
    Lsass => ("lsass.exe", r"C:\Windows\System32\lsass.exe"),
    Svchost => ("svchost.exe", r"C:\Windows\System32\svchost.exe"),
    Taskhostw => ("taskhostw.exe", r"C:\Windows\System32\taskhostw.exe"),
    RuntimeBroker => ("RuntimeBroker.exe", r"C:\Windows\System32\RuntimeBroker.exe"),
    BackgroundTaskHost => ("backgroundTaskHost.exe", r"C:\Windows\System32\backgroundTaskHost.exe"),
    WmiPrvSe => ("WmiPrvSE.exe", r"C:\Windows\System32\wbem\WmiPrvSE.exe"),
    SearchIndexer => ("SearchIndexer.exe", r"C:\Windows\System32\SearchIndexer.exe"),
    SearchProtocolHost => ("SearchProtocolHost.exe", r"C:\Windows\System32\SearchProtocolHost.exe"),
    Conhost => ("conhost.exe", r"C:\Windows\System32\conhost.exe"),
    Cmd => ("cmd.exe", r"C:\Windows\System32\cmd.exe"),
    PowerShell => ("powershell.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"),
    MsMpEng => ("MsMpEng.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe"),
    MpCmdRun => ("MpCmdRun.exe", r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe"),
    CompatTelRunner => ("CompatTelRunner.exe", r"C:\Windows\System32\CompatTelRunner.exe"),
    TiWorker => ("TiWorker.exe", r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.5007_none_7e2b6c0f2d1c1b63\TiWorker.exe"),
    Msiexec => ("msiexec.exe", r"C:\Windows\System32\msiexec.exe"),
    SmartScreen => ("smartscreen.exe", r"C:\Windows\System32\smartscreen.exe"),
    Dllhost => ("dllhost.exe", r"C:\Windows\System32\dllhost.exe"),
    Splwow64 => ("splwow64.exe", r"C:\Windows\splwow64.exe"),
    Rundll32 => ("rundll32.exe", r"C:\Windows\System32\rundll32.exe"),
    Mmc => ("mmc.exe", r"C:\Windows\System32\mmc.exe"),
    Mstsc => ("mstsc.exe", r"C:\Windows\System32\mstsc.exe"),
    Ipconfig => ("ipconfig.exe", r"C:\Windows\System32\ipconfig.exe"),
    Whoami => ("whoami.exe", r"C:\Windows\System32\whoami.exe"),
    Ping => ("PING.EXE", r"C:\Windows\System32\PING.EXE"),
    Nslookup => ("nslookup.exe", r"C:\Windows\System32\nslookup.exe"),
    Net => ("net.exe", r"C:\Windows\System32\net.exe"),
    Gpupdate => ("gpupdate.exe", r"C:\Windows\System32\gpupdate.exe"),
    Netstat => ("NETSTAT.EXE", r"C:\Windows\System32\NETSTAT.EXE"),
    Tasklist => ("tasklist.exe", r"C:\Windows\System32\tasklist.exe"),
    Sc => ("sc.exe", r"C:\Windows\System32\sc.exe"),
    Systeminfo => ("systeminfo.exe", r"C:\Windows\System32\systeminfo.exe"),
    Schtasks => ("schtasks.exe", r"C:\Windows\System32\schtasks.exe"),
    Vssadmin => ("vssadmin.exe", r"C:\Windows\System32\vssadmin.exe"),
    Certutil => ("certutil.exe", r"C:\Windows\System32\certutil.exe"),
    Wmic => ("WMIC.exe", r"C:\Windows\System32\wbem\WMIC.exe"),
    Bcdedit => ("bcdedit.exe", r"C:\Windows\System32\bcdedit.exe"),
    Reg => ("reg.exe", r"C:\Windows\System32\reg.exe"),
    Chrome => ("chrome.exe", r"C:\Program Files\Google\Chrome\Application\chrome.exe"),
    GoogleUpdate => ("GoogleUpdate.exe", r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe"),
    Msedge => ("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"),
    Outlook => ("OUTLOOK.EXE", r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE"),
    Winword => ("WINWORD.EXE", r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE"),
    Excel => ("EXCEL.EXE", r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE"),
    Powerpnt => ("POWERPNT.EXE", r"C:\Program Files\Microsoft Office\root\Office16\POWERPNT.EXE"),
    OfficeClickToRun => ("OfficeClickToRun.exe", r"C:\Program Files\Common Files\microsoft shared\ClickToRun\OfficeClickToRun.exe"),
    Teams => ("ms-teams.exe", r"C:\Program Files\WindowsApps\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\ms-teams.exe"),
    OneDrive => ("OneDrive.exe", r"C:\Program Files\Microsoft OneDrive\OneDrive.exe"),
    Notepad => ("notepad.exe", r"C:\Windows\System32\notepad.exe"),
    Acrobat => ("Acrobat.exe", r"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe"),
    IntuneAgent => ("Microsoft.Management.Services.IntuneWindowsAgent.exe", r"C:\Program Files (x86)\Microsoft Intune Management Extension\Microsoft.Management.Services.IntuneWindowsAgent.exe"),
    SqlServer => ("sqlservr.exe", r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlservr.exe"),
    SqlAgent => ("SQLAGENT.EXE", r"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\SQLAGENT.EXE"),
    W3wp => ("w3wp.exe", r"C:\Windows\System32\inetsrv\w3wp.exe"),
    BackupAgent => ("cbagent.exe", r"C:\Program Files\Contoso Backup\cbagent.exe"),
    System => ("System", ""),
    // The planted malware: the implant dropped by the macro and the tool staged on the file server.
    Implant => ("msteamsupd.exe", r"C:\Users\dana\AppData\Roaming\Microsoft\Teams\msteamsupd.exe"),
    Stager => ("svchelper.exe", r"C:\ProgramData\SysHealth\svchelper.exe"),
}

/// A user application with the sites it talks to: (image, host, address, port).
pub(crate) const APP_TRAFFIC: &[(Img, &str, &str, i64)] = &[
    (Img::Outlook, "outlook.office365.com", "52.97.183.130", 443),
    (Img::Outlook, "outlook.office.com", "52.98.152.178", 443),
    (Img::Teams, "teams.microsoft.com", "52.113.194.132", 443),
    (Img::Teams, "api.spaces.skype.com", "52.114.128.43", 443),
    (
        Img::Teams,
        "statics.teams.cdn.office.net",
        "13.107.246.64",
        443,
    ),
    (
        Img::OneDrive,
        "contoso-my.sharepoint.com",
        "13.107.136.10",
        443,
    ),
    (Img::OneDrive, "g.live.com", "13.107.42.13", 443),
    (Img::Winword, "contoso.sharepoint.com", "13.107.136.9", 443),
    (Img::Excel, "contoso.sharepoint.com", "13.107.136.9", 443),
    (
        Img::Winword,
        "officeclient.microsoft.com",
        "52.109.8.19",
        443,
    ),
    (
        Img::Powerpnt,
        "officeclient.microsoft.com",
        "52.109.8.19",
        443,
    ),
];

/// Web sites people browse to with Chrome or Edge: (host, address).
pub(crate) const WEB_SITES: &[(&str, &str)] = &[
    ("www.google.com", "142.250.180.4"),
    ("www.bing.com", "204.79.197.200"),
    ("www.youtube.com", "142.250.179.238"),
    ("fonts.gstatic.com", "142.250.200.3"),
    ("cdnjs.cloudflare.com", "104.17.24.14"),
    ("www.linkedin.com", "13.107.42.14"),
    ("github.com", "140.82.121.4"),
    ("learn.microsoft.com", "23.36.252.217"),
    ("www.bbc.co.uk", "151.101.0.81"),
    ("en.wikipedia.org", "185.15.59.224"),
    ("stackoverflow.com", "104.18.32.7"),
    ("portal.office.com", "52.96.88.146"),
    ("login.microsoftonline.com", "20.190.159.2"),
    ("contoso.service-now.com", "149.96.5.101"),
    ("www.gov.uk", "151.101.64.144"),
];

/// Machine traffic: (image, host, address, port).
pub(crate) const BACKGROUND_TRAFFIC: &[(Img, &str, &str, i64)] = &[
    (
        Img::Svchost,
        "settings-win.data.microsoft.com",
        "20.42.65.92",
        443,
    ),
    (
        Img::Svchost,
        "v10.events.data.microsoft.com",
        "20.189.173.14",
        443,
    ),
    (
        Img::Svchost,
        "ctldl.windowsupdate.com",
        "93.184.221.240",
        80,
    ),
    (
        Img::Svchost,
        "fe3cr.delivery.mp.microsoft.com",
        "20.109.209.108",
        443,
    ),
    (Img::Svchost, "time.windows.com", "168.61.215.74", 123),
    (Img::MsMpEng, "wdcp.microsoft.com", "52.182.143.212", 443),
    (Img::MsMpEng, "go.microsoft.com", "23.205.106.170", 443),
    (
        Img::GoogleUpdate,
        "update.googleapis.com",
        "142.250.187.227",
        443,
    ),
    (
        Img::OfficeClickToRun,
        "officecdn.microsoft.com",
        "23.216.147.64",
        443,
    ),
    (
        Img::IntuneAgent,
        "contoso.manage.microsoft.com",
        "52.168.54.64",
        443,
    ),
    (
        Img::CompatTelRunner,
        "v10.events.data.microsoft.com",
        "20.189.173.14",
        443,
    ),
];

/// Service host command lines started by services.exe.
pub(crate) const SVCHOST_LINES: &[&str] = &[
    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s gpsvc",
    r"C:\Windows\system32\svchost.exe -k netsvcs -p -s wuauserv",
    r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
    r"C:\Windows\system32\svchost.exe -k LocalServiceNetworkRestricted -p -s Dhcp",
    r"C:\Windows\system32\svchost.exe -k NetworkService -p -s Dnscache",
    r"C:\Windows\System32\svchost.exe -k utcsvc -p",
    r"C:\Windows\system32\svchost.exe -k UnistackSvcGroup",
    r"C:\Windows\system32\svchost.exe -k wsappx -p -s AppXSvc",
    r"C:\Windows\System32\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain",
];

/// Children of the service host: (image, command line).
pub(crate) const SVCHOST_CHILDREN: &[(Img, &str)] = &[
    (Img::Taskhostw, "taskhostw.exe"),
    (Img::Taskhostw, "taskhostw.exe NGCKeyPregen"),
    (
        Img::BackgroundTaskHost,
        r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider"#,
    ),
    (
        Img::WmiPrvSe,
        r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding",
    ),
    (
        Img::MpCmdRun,
        r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe" -IdleTask -TaskName WdCacheMaintenance"#,
    ),
    (
        Img::MpCmdRun,
        r#""C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe" -SignatureUpdate -ScheduleJob"#,
    ),
    (
        Img::CompatTelRunner,
        r"C:\Windows\system32\compattelrunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun",
    ),
    (
        Img::GoogleUpdate,
        r#""C:\Program Files (x86)\Google\Update\GoogleUpdate.exe" /ua /installsource scheduler"#,
    ),
    (
        Img::TiWorker,
        r"C:\Windows\winsxs\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.5007_none_7e2b6c0f2d1c1b63\TiWorker.exe -Embedding",
    ),
    (
        Img::Dllhost,
        r"C:\Windows\system32\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}",
    ),
];

/// What an administrator types at a command prompt: (image, command line).
pub(crate) const ADMIN_COMMANDS: &[(Img, &str)] = &[
    (Img::Ipconfig, "ipconfig  /all"),
    (Img::Ipconfig, "ipconfig  /flushdns"),
    (Img::Whoami, "whoami"),
    (Img::Ping, "ping  -n 4 dc01.contoso.local"),
    (Img::Ping, "ping  fs01"),
    (Img::Nslookup, "nslookup  sql01.contoso.local"),
    (Img::Net, r"net  use S: \\fs01.contoso.local\shared"),
    (Img::Net, "net  localgroup administrators"),
    (Img::Gpupdate, "gpupdate  /force"),
    (Img::Netstat, "netstat  -ano"),
    (Img::Tasklist, "tasklist  /svc"),
    (Img::Sc, "sc  query spooler"),
    (Img::Systeminfo, "systeminfo"),
    (Img::Schtasks, "schtasks  /query /fo LIST /v"),
    (
        Img::Certutil,
        r"certutil  -hashfile C:\Tools\setup.msi SHA256",
    ),
    (Img::Certutil, "certutil  -store My"),
];

/// What an administrator runs in PowerShell (the whole command line of powershell.exe).
pub(crate) const ADMIN_POWERSHELL: &[&str] = &[
    r#""powershell.exe" -NoProfile -Command "Get-Service | Where-Object Status -eq 'Stopped'""#,
    r#""powershell.exe" -NoProfile -Command "Restart-Service -Name Spooler -Force""#,
    r#""powershell.exe" -NoProfile -Command "Get-ADUser -Filter * -SearchBase 'OU=Staff,DC=contoso,DC=local' | Measure-Object""#,
    r#""powershell.exe" -Command "Test-NetConnection sql01.contoso.local -Port 1433""#,
    r#""powershell.exe" -NoProfile -Command "Get-WinEvent -LogName System -MaxEvents 50""#,
    r#""powershell.exe" -NoProfile -ExecutionPolicy RemoteSigned -File C:\Scripts\Check-DiskSpace.ps1"#,
    r#""powershell.exe""#,
];

/// Documents people open and save: (file name, the Office application that handles it).
pub(crate) const DOCUMENTS: &[(&str, Img)] = &[
    ("Quarterly report.docx", Img::Winword),
    ("Meeting notes.docx", Img::Winword),
    ("Project plan v3.docx", Img::Winword),
    ("Contract draft.docx", Img::Winword),
    ("Budget 2026.xlsx", Img::Excel),
    ("Sales pipeline.xlsx", Img::Excel),
    ("Timesheet October.xlsx", Img::Excel),
    ("Inventory.xlsx", Img::Excel),
    ("All hands.pptx", Img::Powerpnt),
    ("Customer pitch.pptx", Img::Powerpnt),
];

/// Files people download with a browser: (file name, size in bytes).
pub(crate) const DOWNLOADS: &[(&str, i64)] = &[
    ("invoice_10233.pdf", 184_233),
    ("ChromeSetup.exe", 1_410_000),
    ("brochure.pdf", 2_310_442),
    ("team-photo.jpg", 3_450_120),
    ("expenses.csv", 12_840),
    ("slides-final.pptx", 5_882_001),
    ("npp.8.6.9.Installer.x64.exe", 4_701_232),
    ("dataset.zip", 18_220_115),
];
