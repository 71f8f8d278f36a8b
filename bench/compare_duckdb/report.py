#!/usr/bin/env python3
"""Compare the Quarry and DuckDB JSON-lines outputs of bench/compare-duckdb.

Checks that each query returns the same rows in both (row count and the first 50 rows in
canonical order), prints a timing table and peak memory, and ends with the line
`geomean time ratio quarry/duckdb: X`. A file may hold several rounds of the same queries: each
query's fastest round counts, and the highest peak memory.
"""

import json
import math
import sys


def load(path):
    queries, peak, order = {}, None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            doc = json.loads(line)
            if "peak_rss_kb" in doc:
                peak = max(peak or 0, doc["peak_rss_kb"])
            elif "name" in doc:
                name = doc["name"]
                seen = queries.get(name)
                if seen is None:
                    queries[name] = doc
                    order.append(name)
                elif "error" in doc or "error" in seen:
                    queries[name] = doc if "error" in doc else seen
                elif doc.get("rows") != seen.get("rows") or doc.get("result") != seen.get("result"):
                    queries[name] = {"name": name, "error": "rounds returned different rows"}
                elif doc["seconds"] < seen["seconds"]:
                    queries[name] = doc
    return queries, peak, order


def normalise(value):
    if isinstance(value, float):
        if value == int(value) and abs(value) < 2**53:
            return int(value)
        return round(value, 9)
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def canonical_rows(doc):
    rows = [normalise(r) for r in doc.get("result", [])]
    return sorted(rows, key=lambda r: json.dumps(r, separators=(",", ":"), ensure_ascii=False))


def mib(kb):
    return "n/a" if kb is None else f"{kb / 1024:.0f} MiB"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py QUARRY.jsonl DUCKDB.jsonl")
    quarry, quarry_peak, order = load(sys.argv[1])
    duck, duck_peak, duck_order = load(sys.argv[2])
    names = order + [n for n in duck_order if n not in quarry]
    mismatches, ratios = [], []
    header = f"{'query':<28} {'rows':>8} {'quarry s':>10} {'duckdb s':>10} {'ratio':>8}  check"
    print(header)
    print("-" * len(header))
    for name in names:
        q, d = quarry.get(name), duck.get(name)
        problem = None
        if q is None or d is None:
            problem = f"missing on {'quarry' if q is None else 'duckdb'} side"
        elif "error" in q or "error" in d:
            problem = "error: " + (q.get("error") or d.get("error"))
        elif q["rows"] != d["rows"]:
            problem = f"row count differs: quarry {q['rows']} vs duckdb {d['rows']}"
        else:
            qr, dr = canonical_rows(q), canonical_rows(d)
            if qr != dr:
                first = next(i for i, (a, b) in enumerate(zip(qr, dr)) if a != b) if any(
                    a != b for a, b in zip(qr, dr)) else min(len(qr), len(dr))
                qa = qr[first] if first < len(qr) else None
                da = dr[first] if first < len(dr) else None
                problem = f"rows differ at {first}: quarry {json.dumps(qa)} vs duckdb {json.dumps(da)}"
        qs = q.get("seconds") if q else None
        ds = d.get("seconds") if d else None
        ratio = qs / ds if qs and ds else None
        if ratio:
            ratios.append(ratio)
        rows = q.get("rows", "") if q else ""
        fmt = lambda s: f"{s:10.4f}" if isinstance(s, (int, float)) else f"{'-':>10}"
        print(f"{name:<28} {rows!s:>8} {fmt(qs)} {fmt(ds)} "
              f"{(f'{ratio:8.2f}' if ratio else f'{chr(45):>8}')}  {'MISMATCH' if problem else 'ok'}")
        if problem:
            mismatches.append((name, problem))
    print()
    print(f"peak memory: quarry {mib(quarry_peak)}, duckdb {mib(duck_peak)}")
    if mismatches:
        print(f"\n{len(mismatches)} MISMATCH(ES):")
        for name, problem in mismatches:
            print(f"  {name}: {problem}")
    else:
        print(f"all {len(names)} queries return the same rows in both engines")
    geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else float("nan")
    print(f"geomean time ratio quarry/duckdb: {geomean:.2f}")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
