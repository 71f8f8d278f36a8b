"""Times a hunt and a few hunting queries over a demo workspace locally and on a local cluster
(one `quarry scheduler` and two `quarry executor` processes on 127.0.0.1), and prints the wall
times and the overhead ratio cluster/local.

Needs a release `quarry` built with the `distributed` feature:
    cargo build --release -p quarry-cli --features distributed
    python3 bench/cluster/run.py --quarry target/release/quarry --events 10000000
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = {
    "encoded powershell by device": (
        "DeviceProcessEvents | where FileName =~ 'powershell.exe' "
        "| where ProcessCommandLine has_any ('-enc', '-EncodedCommand') "
        "| summarize n = count() by DeviceName | top 10 by n"
    ),
    "rare parent-child pairs": (
        "DeviceProcessEvents | summarize n = count() by InitiatingProcessFileName, FileName "
        "| where n < 5 | count"
    ),
    "logons per account and hour": (
        "DeviceLogonEvents | summarize n = count() by AccountName, bin(Timestamp, 1h) | count"
    ),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, name):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{name} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{name} does not listen on {port}")


def timed(cmd):
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed, result.stdout


def hunt_summary(stdout):
    report = json.loads(stdout)
    statuses = {}
    for rule in report["rules"]:
        label = rule["status"]["status"]
        statuses[label] = statuses.get(label, 0) + 1
    return statuses, sum(len(r.get("findings", [])) for r in report["rules"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quarry", default="target/release/quarry")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--workspace", help="reuse this demo workspace (built when missing)")
    parser.add_argument("--tasks", type=int, default=1, help="concurrent tasks per executor")
    args = parser.parse_args()
    quarry = os.path.abspath(args.quarry)
    work = Path(tempfile.mkdtemp(prefix="quarry-cluster-bench-"))
    workspace = Path(args.workspace or work / "demo").resolve()
    if not (workspace / "manifest.json").is_file():
        started = time.perf_counter()
        subprocess.run([quarry, "demo", "--events", str(args.events), "--workspace",
                        str(workspace)], check=False, stdout=subprocess.DEVNULL)
        print(f"demo workspace: {args.events} events in {time.perf_counter() - started:.0f}s")
    tables = subprocess.run([quarry, "tables", "--format", "json", "--workspace",
                             str(workspace)], capture_output=True, text=True).stdout
    print(f"workspace {workspace}: {tables.strip()[:300]}")

    port = free_port()
    address = f"127.0.0.1:{port}"
    procs = []
    logs = open(work / "cluster.log", "w")
    try:
        sched = subprocess.Popen([quarry, "scheduler", "--bind", address],
                                 stdout=logs, stderr=logs)
        procs.append(sched)
        wait_port(port, sched, "scheduler")
        for i in range(2):
            flight, grpc = free_port(), free_port()
            (work / f"executor{i}").mkdir(exist_ok=True)
            ex = subprocess.Popen(
                [quarry, "executor", "--scheduler", address, "--port", str(flight),
                 "--grpc-port", str(grpc), "--concurrent-tasks", str(args.tasks),
                 "--work-dir", str(work / f"executor{i}")],
                stdout=logs, stderr=logs)
            procs.append(ex)
            wait_port(flight, ex, f"executor{i}")
        time.sleep(4)

        rows = []
        hunt = [quarry, "hunt", "--format", "json", "--timeout", "600", "--workspace",
                str(workspace)]
        local_time, local_out = timed(hunt)
        cluster_time, cluster_out = timed(hunt + ["--cluster", address])
        local_status, local_findings = hunt_summary(local_out)
        cluster_status, cluster_findings = hunt_summary(cluster_out)
        print(f"hunt local:   {local_time:7.2f}s  {local_status} findings={local_findings}")
        print(f"hunt cluster: {cluster_time:7.2f}s  {cluster_status} "
              f"findings={cluster_findings}")
        rows.append(("hunt (all demo rules)", local_time, cluster_time))
        for name, query in QUERIES.items():
            base = [quarry, "query", "--format", "json", "--workspace", str(workspace), query]
            lt, lo = timed(base)
            ct, co = timed(base + ["--cluster", address])
            same = "same" if lo == co else "DIFFERENT"
            rows.append((name, lt, ct))
            print(f"{name}: local {lt:.2f}s cluster {ct:.2f}s ({same} result)")
        print()
        print("| workload | local s | cluster s | cluster/local |")
        print("|---|---:|---:|---:|")
        for name, lt, ct in rows:
            print(f"| {name} | {lt:.2f} | {ct:.2f} | {ct / lt:.2f} |")
        total_local = sum(r[1] for r in rows)
        total_cluster = sum(r[2] for r in rows)
        print(f"overhead ratio cluster/local: {total_cluster / total_local:.2f}")
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
