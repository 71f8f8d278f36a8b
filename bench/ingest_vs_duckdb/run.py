"""Times `quarry ingest` and DuckDB's read_json → Parquet on the same JSON lines file and prints
the comparison; the last line is `time ratio quarry/duckdb: X`."""

import argparse
import os
import shutil
import subprocess
import time

import duckdb

# The columns DuckDB reads, typed as Quarry types them (DeviceProcessEvents' schema).
COLUMNS = {
    "Timestamp": "TIMESTAMP",
    "DeviceId": "VARCHAR",
    "DeviceName": "VARCHAR",
    "ActionType": "VARCHAR",
    "FileName": "VARCHAR",
    "FolderPath": "VARCHAR",
    "ProcessId": "BIGINT",
    "ProcessCommandLine": "VARCHAR",
    "AccountDomain": "VARCHAR",
    "AccountName": "VARCHAR",
    "SHA256": "VARCHAR",
    "InitiatingProcessFileName": "VARCHAR",
    "InitiatingProcessId": "BIGINT",
    "InitiatingProcessCommandLine": "VARCHAR",
    "ReportId": "BIGINT",
}


def time_quarry(binary: str, source: str, work: str) -> float:
    workspace = os.path.join(work, "quarry-ws")
    shutil.rmtree(workspace, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [binary, "ingest", source, "--table", "DeviceProcessEvents", "--workspace", workspace,
         "--report", "json"],
        check=True, stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - started
    rows = int(subprocess.run(
        [binary, "query", "DeviceProcessEvents | count", "--workspace", workspace, "--format", "csv"],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()[1])
    return elapsed, rows


def time_duckdb(source: str, work: str) -> float:
    target = os.path.join(work, "duckdb.parquet")
    if os.path.exists(target):
        os.remove(target)
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    connection = duckdb.connect()
    started = time.perf_counter()
    connection.execute(
        f"COPY (SELECT * FROM read_json('{source}', format = 'newline_delimited', "
        f"columns = {columns}) ORDER BY Timestamp) TO '{target}' "
        "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 65536)"
    )
    elapsed = time.perf_counter() - started
    rows = connection.execute(f"SELECT count(*) FROM '{target}'").fetchone()[0]
    return elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quarry", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    megabytes = os.path.getsize(args.input) / 1e6
    runs = {"quarry": lambda: time_quarry(args.quarry, args.input, args.work),
            "duckdb": lambda: time_duckdb(args.input, args.work)}
    # Rounds alternate the engines, so that a slow stretch of a shared machine does not land on
    # one of them alone; each engine's fastest round counts.
    timings = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            timings[name].append(run())
    results = {}
    for name, runs_of_engine in timings.items():
        seconds = min(t for t, _ in runs_of_engine)
        rows = runs_of_engine[-1][1]
        if rows != args.events:
            raise SystemExit(f"{name} wrote {rows} rows, expected {args.events}")
        results[name] = seconds
        print(f"{name:7} {seconds:8.2f} s  {args.events / seconds:12,.0f} events/s  "
              f"{megabytes / seconds:8.1f} MB/s  ({args.events:,} events, {megabytes:,.1f} MB; "
              f"best of {args.rounds} rounds)")
    print(f"time ratio quarry/duckdb: {results['quarry'] / results['duckdb']:.2f}")


if __name__ == "__main__":
    main()
