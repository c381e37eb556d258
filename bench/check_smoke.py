#!/usr/bin/env python3
"""bench_smoke: run shmds-bench and check what it printed, never how fast it was.

usage: check_smoke.py SHMDS_BENCH ARGS...   (ARGS must include --json)

Passes when the harness exits 0, every stdout line is a JSON result with exactly the
documented keys, values are finite and non-negative, every ratio names a peer that
reported the same metric (or was skipped with a reason, and then there is no ratio), and
every case --list selects either reported or was skipped with a reason.
"""
import json
import math
import subprocess
import sys

KEYS = {"workload", "subject", "metric", "value", "unit", "ratio_to", "ratio"}


def fail(why):
    print(f"bench_smoke: {why}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) < 3 or "--json" not in sys.argv[2:]:
        fail("usage: check_smoke.py SHMDS_BENCH ARGS... (with --json)")
    bench, args = sys.argv[1], sys.argv[2:]

    listing = subprocess.run([bench, "--list"] + [a for a in args if a != "--json"],
                             capture_output=True, text=True, timeout=30)
    if listing.returncode != 0:
        fail(f"--list exited {listing.returncode}: {listing.stderr.strip()}")
    cases = [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]
    if not cases:
        fail("--list selected no case")

    run = subprocess.run([bench] + args, capture_output=True, text=True, timeout=100)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        fail(f"shmds-bench exited {run.returncode}")

    results = []
    for n, line in enumerate(run.stdout.splitlines(), 1):
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            fail(f"stdout line {n} is not JSON ({e}): {line!r}")
        if set(r) != KEYS:
            fail(f"line {n} has keys {sorted(r)}, expected {sorted(KEYS)}")
        v = r["value"]
        if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            fail(f"line {n}: value {v!r} is not a finite non-negative number")
        results.append(r)

    seen = {(r["workload"], r["subject"], r["metric"]) for r in results}
    skipped = {line.split()[0] for line in run.stderr.splitlines()
               if len(line.split()) > 1 and line.split()[1] == "skipped:"}
    for r in results:
        if r["ratio_to"] is None:
            if r["ratio"] is not None:
                fail(f"{r['workload']}/{r['subject']}: a ratio without a peer")
            continue
        if f"{r['workload']}/{r['ratio_to']}" in skipped:
            # A peer missing on this machine (not installed) skips; no ratio then.
            if r["ratio"] is not None:
                fail(f"{r['workload']}/{r['subject']}: a ratio to the skipped {r['ratio_to']}")
            continue
        if (r["workload"], r["ratio_to"], r["metric"]) not in seen:
            fail(f"{r['workload']}/{r['subject']}: peer {r['ratio_to']} reported no {r['metric']}")
        if r["ratio"] is None:
            fail(f"{r['workload']}/{r['subject']}: peer {r['ratio_to']} ran but no ratio")

    reported = {f"{r['workload']}/{r['subject']}" for r in results}
    for case in cases:
        if case not in reported and case not in skipped:
            fail(f"case {case} neither reported nor was skipped")
    print(f"bench_smoke: {len(results)} results from {len(reported)} of {len(cases)} cases ok")


if __name__ == "__main__":
    main()
