"""Runs the corpus rules over each OTRF dataset and prints which rules fire on which attack."""

import collections
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def run(quarry, *args):
    result = subprocess.run([quarry, *args], capture_output=True, text=True)
    if result.returncode not in (0, 1):
        sys.exit(f"quarry {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


def main():
    quarry, shared = sys.argv[1], Path(sys.argv[2])
    otrf = shared / "telemetry" / "otrf"
    corpus = shared / "corpus" / "azure-sentinel"
    index = json.loads((otrf / "index.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="otrf-hunt-"))
    try:
        template = work / "template"
        run(quarry, "rules", "import", str(corpus), "-w", str(template),
            "--origin", "https://github.com/Azure/Azure-Sentinel", "--commit", index.get("commit", ""))
        print("| dataset | ATT&CK | rules that fired (hits) |")
        print("|---|---|---|")
        totals = collections.Counter()
        skipped = collections.Counter()
        ran_per_dataset = []
        for dataset in index["datasets"]:
            workspace = work / dataset["name"]
            workspace.mkdir()
            shutil.copy(template / "catalog.sqlite", workspace / "catalog.sqlite")
            files = [str(otrf / dataset["name"] / f["file"]) for f in dataset["files"]]
            run(quarry, "ingest", *files, "-w", str(workspace))
            report = json.loads(run(quarry, "hunt", "-w", str(workspace), "--format", "json", "--timeout", "60"))
            fired = []
            for rule in report["rules"]:
                status = rule["status"]["status"]
                totals[status] += 1
                if status == "skipped":
                    skipped[rule["status"]["detail"]["reason"]] += 1
                if status == "hits":
                    fired.append(f"{rule['name']} ({rule['status']['detail']})")
            summary = report["summary"]
            ran_per_dataset.append(summary["ran"])
            techniques = ", ".join(dataset.get("techniques", []))
            print(f"| {dataset['name']} | {techniques} | {'; '.join(sorted(fired)) or '—'} |")
        print()
        print(f"rule runs over {len(index['datasets'])} datasets: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))
        print("skipped by reason: " + ", ".join(f"{k} {v}" for k, v in skipped.most_common()))
        print(f"rules that ran per dataset: min {min(ran_per_dataset)}, max {max(ran_per_dataset)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
