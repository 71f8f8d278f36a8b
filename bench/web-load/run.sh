#!/usr/bin/env bash
# Load benchmark of `quarry serve`: a catalog of 5,000 rules (the Azure-Sentinel corpus plus
# generated variants), then `oha` for 30 s each on the feed page and on the rule-search API.
# Prints requests/s, p50, p99 and errors; writes them to bench/web-load/results.txt.
# Usage: bench/web-load/run.sh [DURATION]   (needs the shared corpus beside the checkout)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
duration="${1:-30s}"
corpus="$repo/../shared/corpus/azure-sentinel"
[ -d "$corpus" ] || { echo "the corpus is missing: $corpus" >&2; exit 2; }
command -v oha >/dev/null || cargo install oha --locked
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -p quarry-cli
quarry="$target/release/quarry"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
ws="$work/ws"
"$quarry" demo --events 20000 -w "$ws" >/dev/null || true
"$quarry" rules import "$corpus" -w "$ws" --no-check >/dev/null || true
have=$("$quarry" rules list -w "$ws" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
python3 bench/web-load/make_pack.py "$corpus" "$work/pack" $((5000 - have))
"$quarry" rules import "$work/pack" -w "$ws" --no-check --origin https://example.invalid/quarry-load-pack >/dev/null || true
total=$("$quarry" rules list -w "$ws" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
port=18399
"$quarry" serve -w "$ws" --bind "127.0.0.1:$port" 2>/dev/null &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/rules?per_page=1" >/dev/null && break; sleep 0.2; done
out="bench/web-load/results.txt"
{
  echo "quarry serve load benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $total rules in the catalog, $duration per endpoint, 50 connections"
  for url in "/" "/api/rules/search?q=powershell&limit=50"; do
    oha -z "$duration" -c 50 -w --no-tui --output-format json "http://127.0.0.1:$port$url" > "$work/oha.json"
    python3 - "$url" "$work/oha.json" <<'PY'
import json, sys
url, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
errors = sum(n for c, n in codes.items() if not c.startswith("2")) + sum(d.get("errorDistribution", {}).values())
print(f"{url:45} {s['requestsPerSec']:9.0f} req/s  p50 {p['p50']*1000:6.2f} ms  p99 {p['p99']*1000:6.2f} ms  errors {errors}  (status {codes})")
PY
  done
} | tee "$out"
