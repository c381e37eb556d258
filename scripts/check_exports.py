#!/usr/bin/env python3
"""Check capi/libshmds.map against the SHMDS_API declarations of the public C headers.

Every function a public header declares with SHMDS_API must be exported by the version
script, and the version script must export nothing else: a missing entry leaves a
documented function unreachable through libshmds.so (hidden visibility), an extra one
names a function that does not exist (or no longer does).

    check_exports.py --map capi/libshmds.map [--stamp FILE] include/shmds/*.h

Exits 0 and (with --stamp) writes FILE when both lists agree; otherwise prints each
missing and extra name and exits 1. The build runs it before linking the library and
`meson test abi_map` runs it too.
"""
import argparse
import re
import sys

# SHMDS_API <return type> shmds_name(   — the return type may span '*' and qualifiers.
DECL = re.compile(r"\bSHMDS_API\b[^;{(]*?\b(shmds_\w+)\s*\(", re.S)
# A version node's entry: "    shmds_name;" (wildcards are refused: they hide mistakes).
ENTRY = re.compile(r"^\s*([A-Za-z_][\w*?]*)\s*;\s*$")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def header_names(paths):
    names = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = strip_comments(f.read())
        # The macro's own definition (#define SHMDS_API ...) is not a declaration.
        text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)
        for m in DECL.finditer(text):
            names.setdefault(m.group(1), path)
    return names


def map_names(path):
    with open(path, encoding="utf-8") as f:
        text = strip_comments(f.read())
    names, scope = set(), None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped in ("global:", "local:"):
            scope = stripped
            continue
        m = ENTRY.match(line)
        if m and scope == "global:":
            names.add(m.group(1))
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--map", required=True)
    ap.add_argument("--stamp")
    ap.add_argument("headers", nargs="+")
    args = ap.parse_args()

    declared = header_names(args.headers)
    exported = map_names(args.map)
    problems = []
    for name in sorted(set(declared) - exported):
        problems.append(f"missing from {args.map}: {name} (declared SHMDS_API in {declared[name]})")
    for name in sorted(exported - set(declared)):
        kind = "a wildcard" if any(c in name for c in "*?") else "not declared SHMDS_API in any public header"
        problems.append(f"extra in {args.map}: {name} ({kind})")
    if not declared:
        problems.append("no SHMDS_API declaration found in the headers given")
    if problems:
        print("libshmds.map does not match the public headers:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        print("Add or remove the entries in the map (a released symbol never leaves its node).",
              file=sys.stderr)
        return 1
    print(f"libshmds.map: {len(exported)} exports, all declared SHMDS_API in the headers")
    if args.stamp:
        with open(args.stamp, "w", encoding="utf-8") as f:
            f.write("\n".join(sorted(exported)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
