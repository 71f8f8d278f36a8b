#!/usr/bin/env python3
"""Writes a rule pack of generated variants of corpus hunting queries, so that the catalog holds
5,000 rules in total: each variant is a corpus rule with a new id, a numbered name and one tag
more. Usage: make_pack.py CORPUS OUT COUNT"""
import os
import re
import sys
import uuid

corpus, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sources = []
for folder, _, files in os.walk(os.path.join(corpus, "Hunting Queries")):
    for name in sorted(files):
        if name.endswith((".yaml", ".yml")):
            text = open(os.path.join(folder, name), encoding="utf-8", errors="replace").read()
            if re.search(r"^id:\s*\S+", text, re.M) and re.search(r"^name:", text, re.M):
                sources.append(text)
os.makedirs(os.path.join(out, "Hunting Queries"), exist_ok=True)
for i in range(count):
    text = sources[i % len(sources)]
    new_id = uuid.uuid5(uuid.NAMESPACE_URL, f"quarry-web-load/{i}")
    text = re.sub(r"^id:\s*\S+", f"id: {new_id}", text, count=1, flags=re.M)
    text = re.sub(r"^name:\s*(.*)$", lambda m: f"name: {m.group(1).strip().strip(chr(39)).strip(chr(34))} (variant {i})", text, count=1, flags=re.M)
    with open(os.path.join(out, "Hunting Queries", f"variant-{i:05}.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
print(f"wrote {count} variants of {len(sources)} corpus rules")
