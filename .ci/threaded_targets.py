#!/usr/bin/env python3
"""Print the ninja targets the 'threaded' meson suite needs, one per line.

The ThreadSanitizer stage of .ci/run runs only that suite, so building every other test
under TSan would cost CI minutes for nothing. Usage: threaded_targets.py BUILD_DIR
"""
import json
import os
import subprocess
import sys


def introspect(build, what):
    return json.loads(subprocess.check_output(["meson", "introspect", what, build]))


def main(build):
    files = {t["id"]: t["filename"] for t in introspect(build, "--targets")}
    wanted = set()
    for test in introspect(build, "--tests"):
        if not any(s.split(":")[-1] == "threaded" for s in test["suite"]):
            continue
        wanted.add(test["cmd"][0])
        for dep in test.get("depends", []):
            wanted.update(files.get(dep, []))
    if not wanted:
        sys.exit(f"threaded_targets: no test in {build} is in the 'threaded' suite")
    root = os.path.realpath(build)
    for path in sorted(wanted):
        print(os.path.relpath(os.path.realpath(path), root))


if __name__ == "__main__":
    main(sys.argv[1])
