#!/usr/bin/env python3
"""Every crash point compiled into the library is exercised by some test.

A failpoint is a name like "queue.bytes.push.committed": SHMDS_FAILPOINT("...") in
src/, or a name handed to a helper that hits it (the semaphore's journaled changes).
Each such name must appear, quoted, in a file under tests/: the crash matrix of its
structure kills a process there. A new structure that adds a claim window without a
crash test for it fails this check (DESIGN.md §7; docs/adding-a-structure.md).

usage: check_failpoints.py SRC_DIR TESTS_DIR
"""
import pathlib
import re
import sys

NAME = re.compile(r'"([a-z_]+\.[a-z_]+(?:\.[a-z_]+)+)"')


def names_in(root: pathlib.Path, suffixes) -> set:
    found = set()
    for path in root.rglob("*"):
        if path.suffix in suffixes and path.is_file():
            found.update(NAME.findall(path.read_text(errors="replace")))
    return found


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    src, tests = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    points = names_in(src, {".cpp", ".hpp"})
    if not points:
        print(f"check_failpoints: no failpoint names found under {src}", file=sys.stderr)
        return 1
    untested = sorted(points - names_in(tests, {".cpp", ".hpp"}))
    for name in untested:
        print(f"check_failpoints: failpoint \"{name}\" is never armed by a test under {tests}",
              file=sys.stderr)
    print(f"check_failpoints: {len(points) - len(untested)} of {len(points)} failpoints tested")
    return 1 if untested else 0


if __name__ == "__main__":
    sys.exit(main())
