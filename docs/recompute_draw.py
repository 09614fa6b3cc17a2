"""Recompute one task's drawn list from a draw folder with nothing but the standard library.

    python recompute_draw.py DRAW_DIR TASK_ID

Reads transcript.json (the seed and the quotas) and eligible.csv (each stratum's entities, which
`spotcheck verify` recomputes from the directory), rebuilds the key from the public value, ranks
every eligible entity by sha256(key|unit|uscc) and prints the n smallest of each stratum, exactly as
draws.csv lists them.
"""
import csv
import hashlib
import json
import sys

folder, task_id = sys.argv[1], sys.argv[2]
with open(f"{folder}/transcript.json", encoding="utf-8") as f:
    t = json.load(f)
seed = t["seed"]
if seed["source"] == "drill":
    key = hashlib.sha256(f"spotcheck-drill|{seed['value']}".encode()).hexdigest()
else:
    key = hashlib.sha256(f"spotcheck-reveal|{seed['commitment_id']}|{seed['value']}".encode()).hexdigest()
task = next(x for x in t["tasks"] if x["task_id"] == task_id)
pool = {}
with open(f"{folder}/eligible.csv", encoding="utf-8") as f:
    for row in csv.DictReader(f):
        if row["task_id"] == task_id:
            pool.setdefault(row["stratum"], []).append(row["uscc"])
for stratum in task["strata"]:
    members = pool.get(stratum["stratum"], [])
    if hashlib.sha256("\n".join(members).encode()).hexdigest() != stratum["eligible_sha256"]:
        sys.exit(f"eligible.csv does not match the transcript for stratum {stratum['stratum']}")
for rnd in task["rounds"]:
    for stratum in task["strata"]:
        unit = rnd["unit"].replace("{stratum}", stratum["stratum"])
        rank = lambda u: hashlib.sha256(f"{key}|{unit}{u}".encode()).hexdigest()  # noqa: E731
        for uscc in sorted(pool.get(stratum["stratum"], []), key=rank)[: stratum["drawn"]]:
            print(task_id, rnd["round"], stratum["stratum"], uscc, sep=",")
