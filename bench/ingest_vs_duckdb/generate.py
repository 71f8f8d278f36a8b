"""Writes DeviceProcessEvents-shaped JSON lines for the ingest benchmark (seeded, so every run
of the same size reads the same file)."""

import argparse
import json
import random
from datetime import datetime, timedelta, timezone

PROCESSES = [
    ("chrome.exe", r"C:\Program Files\Google\Chrome\Application\chrome.exe", "explorer.exe"),
    ("svchost.exe", r"C:\Windows\System32\svchost.exe", "services.exe"),
    ("powershell.exe", r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe", "cmd.exe"),
    ("cmd.exe", r"C:\Windows\System32\cmd.exe", "explorer.exe"),
    ("outlook.exe", r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE", "explorer.exe"),
    ("teams.exe", r"C:\Users\Public\AppData\Local\Microsoft\Teams\current\Teams.exe", "explorer.exe"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rng = random.Random(7)
    start = datetime(2026, 10, 18, tzinfo=timezone.utc)
    span = 14 * 86400
    with open(args.out, "w", encoding="utf-8") as out:
        for i in range(args.events):
            name, path, parent = PROCESSES[rng.randrange(len(PROCESSES))]
            when = start + timedelta(seconds=span * i / args.events)
            device = f"wks-{rng.randrange(2000):04}.contoso.local"
            user = f"user{rng.randrange(5000):04}"
            row = {
                "Timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "DeviceId": f"{rng.getrandbits(160):040x}",
                "DeviceName": device,
                "ActionType": "ProcessCreated",
                "FileName": name,
                "FolderPath": path,
                "ProcessId": rng.randrange(100, 65000),
                "ProcessCommandLine": f"\"{path}\" --task {rng.randrange(10**6)}",
                "AccountDomain": "contoso",
                "AccountName": user,
                "SHA256": f"{rng.getrandbits(256):064x}",
                "InitiatingProcessFileName": parent,
                "InitiatingProcessId": rng.randrange(100, 65000),
                "InitiatingProcessCommandLine": parent,
                "ReportId": i,
            }
            out.write(json.dumps(row))
            out.write("\n")


if __name__ == "__main__":
    main()
