#!/usr/bin/env python3
"""The C ABI check: libhearth.so against the committed baseline (capi/abi/baseline.txt).

The baseline lists, one fact a line: every exported symbol, every function's prototype as
include/hearth/c_api.h declares it, every public struct's size and each field's offset and
size, every enum value. The check fails when a baseline fact is gone or changed (a removed
symbol, a changed signature, a moved field, a renumbered code); new facts are allowed and
listed. A struct may grow (fields are added at its end; struct_size tells them apart).

    python3 scripts/check_abi.py --build-dir build            # check
    python3 scripts/check_abi.py --build-dir build --update   # after an intended addition
"""
import argparse
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
BASELINE = ROOT / "capi/abi/baseline.txt"
HEADER = ROOT / "include/hearth/c_api.h"


def exported_symbols(library):
    out = subprocess.run(["nm", "-D", "--defined-only", str(library)], check=True,
                         capture_output=True, text=True).stdout
    names = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
    return {f"symbol {n}" for n in names if n.startswith("hearth_")}


def prototypes():
    text = re.sub(r"/\*.*?\*/", " ", HEADER.read_text(), flags=re.S)
    facts = set()
    for declaration in re.findall(r"HEARTH_API\s+([^;]*?\))\s*;", text, flags=re.S):
        normalized = re.sub(r"\s+", " ", declaration).replace("( ", "(").replace(" )", ")")
        name = re.search(r"(hearth_\w+)\s*\(", normalized).group(1)
        facts.add(f"function {name}: {normalized}")
    return facts


def layout(build_dir):
    out = subprocess.run([str(build_dir / "tests/capi/abi_layout")], check=True,
                         capture_output=True, text=True).stdout
    return set(out.splitlines())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    build = pathlib.Path(args.build_dir)
    current = exported_symbols(build / "capi/libhearth.so.0") | prototypes() | layout(build)
    if args.update:
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE.write_text("\n".join(sorted(current)) + "\n")
        print(f"check_abi: wrote {len(current)} facts to {BASELINE.relative_to(ROOT)}")
        return 0
    baseline = set(BASELINE.read_text().splitlines()) - {""}
    sizes = {l.split(" size ")[0]: int(l.split(" size ")[1]) for l in current
             if l.startswith("struct ")}
    broken = []
    for fact in sorted(baseline - current):
        if fact.startswith("struct "):  # a struct may grow, never shrink
            name, size = fact.split(" size ")
            if sizes.get(name, -1) >= int(size):
                continue
        broken.append(fact)
    for fact in sorted(current - baseline):
        if not fact.startswith("struct "):
            print(f"check_abi: added: {fact}")
    if broken:
        for fact in broken:
            print(f"check_abi: BROKEN (gone or changed): {fact}", file=sys.stderr)
        return 1
    print(f"check_abi: libhearth.so keeps all {len(baseline)} facts of the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
