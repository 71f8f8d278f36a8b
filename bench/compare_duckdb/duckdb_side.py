#!/usr/bin/env python3
"""DuckDB side of bench/compare-duckdb: the SQL equivalent of each KQL query in
crates/quarry-engine/benches/compare_duckdb.rs, over the same Parquet files.

Prints one JSON line per query, {"name", "seconds" (best of 3), "rows", "result" (first 50 rows
sorted canonically)}, then {"peak_rss_kb"}. Values are printed the way Quarry's `json_rows`
prints them: datetimes as Kusto text (`2026-01-01T00:00:00.123Z`), dynamic columns as JSON.
"""

import datetime as dt
import json
import os
import resource
import sys
import time

import duckdb

QUERIES = [
    ("encoded_powershell", """
        SELECT DeviceName, count(*) AS Count FROM DeviceProcessEvents
        WHERE lower(FileName) IN ('powershell.exe', 'pwsh.exe')
          AND ProcessCommandLine ILIKE '%encodedcommand%'
        GROUP BY DeviceName ORDER BY Count DESC, DeviceName ASC LIMIT 10"""),
    ("credential_dumping", """
        SELECT AccountName, count(*) AS Count FROM DeviceProcessEvents
        WHERE ProcessCommandLine ILIKE '%mimikatz%' OR InitiatingProcessCommandLine ILIKE '%sekurlsa%'
        GROUP BY AccountName"""),
    ("lolbin_network", """
        SELECT InitiatingProcessFileName, RemotePort, count(*) AS Connections,
               count(DISTINCT DeviceName) AS Devices
        FROM DeviceNetworkEvents
        WHERE lower(InitiatingProcessFileName) IN ('powershell.exe', 'rundll32.exe', 'regsvr32.exe', 'mshta.exe')
          AND RemotePort IN (443, 80, 8080)
        GROUP BY InitiatingProcessFileName, RemotePort"""),
    ("hourly_network", """
        SELECT date_trunc('hour', Timestamp)::TIMESTAMP AS Timestamp, count(*) AS Count
        FROM DeviceNetworkEvents GROUP BY 1"""),
    ("distinct_per_account", """
        SELECT AccountName, count(DISTINCT DeviceName) AS Devices, count(DISTINCT SHA256) AS Hashes
        FROM DeviceProcessEvents GROUP BY AccountName"""),
    ("latest_per_device", """
        SELECT DeviceName, max(Timestamp)::TIMESTAMP AS Timestamp, arg_max(FileName, Timestamp),
               arg_max(ProcessCommandLine, Timestamp), arg_max(ProcessId, Timestamp)
        FROM DeviceProcessEvents GROUP BY DeviceName"""),
    ("process_network_join", """
        SELECT p.DeviceName, count(*) AS Count
        FROM (SELECT DeviceName, ProcessId, Timestamp AS ProcTime FROM DeviceProcessEvents
              WHERE lower(FileName) IN ('powershell.exe', 'cmd.exe')) p
        JOIN (SELECT DeviceName, InitiatingProcessId, Timestamp AS NetTime FROM DeviceNetworkEvents
              WHERE RemotePort = 443) n
          ON p.DeviceName = n.DeviceName AND p.ProcessId = n.InitiatingProcessId
        WHERE n.NetTime BETWEEN p.ProcTime AND p.ProcTime + INTERVAL 1 DAY
        GROUP BY p.DeviceName ORDER BY Count DESC, p.DeviceName ASC LIMIT 10"""),
    ("file_tags_mv_expand", """
        SELECT Tag, count(*) AS Count FROM (
            SELECT unnest(json_extract_string(AdditionalFields, '$.Tags[*]')) AS Tag FROM DeviceFileEvents)
        GROUP BY Tag"""),
    ("parse_computer_name", """
        SELECT regexp_extract(ProcessCommandLine, '-ComputerName (.*?) ', 1) AS Target, count(*) AS Count
        FROM DeviceProcessEvents WHERE ProcessCommandLine ILIKE '%computername%'
        GROUP BY Target"""),
    ("extract_download_host", """
        SELECT Host, count(*) AS Count, count(DISTINCT DeviceName) AS Devices FROM (
            SELECT regexp_extract(ProcessCommandLine, 'https?://([a-z0-9.-]+)', 1) AS Host, DeviceName
            FROM DeviceProcessEvents)
        WHERE Host <> '' GROUP BY Host"""),
    ("top_file_sizes", """
        SELECT DeviceName, FileName, FolderPath, FileSize, Timestamp::TIMESTAMP AS Timestamp
        FROM DeviceFileEvents WHERE ActionType = 'FileCreated' ORDER BY FileSize DESC LIMIT 10"""),
    ("suspicious_urls", """
        SELECT RemoteUrl, count(*) AS Count, count(DISTINCT DeviceName) AS Devices FROM DeviceNetworkEvents
        WHERE lower(RemoteUrl) LIKE '%pastebin.com' OR lower(RemoteUrl) LIKE 'raw.%'
        GROUP BY RemoteUrl"""),
    ("singleton_hashes", """
        SELECT count(*) AS Count FROM (
            SELECT SHA256 FROM DeviceFileEvents GROUP BY SHA256 HAVING count(DISTINCT DeviceName) = 1)"""),
    ("hourly_series_by_process", """
        WITH bins AS (
            SELECT range AS b FROM range(TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-08', INTERVAL 1 HOUR)),
        inrange AS (
            SELECT InitiatingProcessFileName AS k, date_trunc('hour', Timestamp)::TIMESTAMP AS b
            FROM DeviceNetworkEvents
            WHERE Timestamp >= TIMESTAMP '2026-01-01' AND Timestamp < TIMESTAMP '2026-01-08'),
        keys AS (SELECT DISTINCT k FROM inrange),
        counts AS (SELECT k, b, count(*) AS c FROM inrange GROUP BY k, b)
        SELECT keys.k AS InitiatingProcessFileName, list(coalesce(counts.c, 0) ORDER BY bins.b) AS Connections
        FROM keys CROSS JOIN bins
        LEFT JOIN counts ON counts.k = keys.k AND counts.b = bins.b
        GROUP BY keys.k"""),
    ("child_parent_network_joins", """
        WITH children AS (
            SELECT DeviceName, ProcessId, InitiatingProcessId, FileName FROM DeviceProcessEvents
            WHERE lower(FileName) IN ('powershell.exe', 'cmd.exe', 'rundll32.exe')),
        parents AS (
            SELECT DeviceName, ProcessId, count(*) AS ParentCount FROM DeviceProcessEvents
            GROUP BY DeviceName, ProcessId),
        net AS (
            SELECT DeviceName, InitiatingProcessId, count(*) AS Connections FROM DeviceNetworkEvents
            WHERE RemotePort IN (443, 8080) GROUP BY DeviceName, InitiatingProcessId)
        SELECT c.FileName, count(*) AS Processes, sum(n.Connections) AS Connections, sum(p.ParentCount) AS Parents
        FROM children c
        JOIN parents p ON c.DeviceName = p.DeviceName AND c.InitiatingProcessId = p.ProcessId
        JOIN net n ON c.DeviceName = n.DeviceName AND c.ProcessId = n.InitiatingProcessId
        GROUP BY c.FileName"""),
    ("daily_encoded_ratio", """
        SELECT date_trunc('day', Timestamp)::TIMESTAMP AS Day, count(*) AS Total,
               count(*) FILTER (WHERE ProcessCommandLine ILIKE '%encodedcommand%') AS Encoded
        FROM DeviceProcessEvents GROUP BY 1"""),
]


def kusto_datetime(value):
    """Kusto's text for a datetime, as Quarry prints it: fraction in ticks, trailing zeros cut."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    ticks = value.microsecond * 10
    if ticks == 0:
        return base + "Z"
    return base + "." + f"{ticks:07d}".rstrip("0") + "Z"


def to_json(value):
    if isinstance(value, dt.datetime):
        return kusto_datetime(value)
    return value


def canonical(row):
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False)


def main():
    data = os.environ.get("QUARRY_BENCH_DATA") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not data:
        sys.exit("usage: duckdb_side.py DATA_DIR (or QUARRY_BENCH_DATA)")
    con = duckdb.connect()
    for table in ["DeviceProcessEvents", "DeviceNetworkEvents", "DeviceFileEvents"]:
        path = os.path.join(data, f"{table}.parquet").replace("'", "''")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
    only = os.environ.get("QUARRY_BENCH_ONLY")
    for name, sql in QUERIES:
        if only and name not in only.split(","):
            continue
        best = float("inf")
        rows = None
        try:
            for _ in range(3):
                start = time.perf_counter()
                rows = con.execute(sql).fetchall()
                best = min(best, time.perf_counter() - start)
        except duckdb.Error as error:
            print(json.dumps({"name": name, "error": str(error)}), flush=True)
            continue
        result = [[to_json(value) for value in row] for row in rows]
        result.sort(key=canonical)
        print(json.dumps({"name": name, "seconds": best, "rows": len(rows), "result": result[:50]}),
              flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_kb": peak}), flush=True)


if __name__ == "__main__":
    main()
