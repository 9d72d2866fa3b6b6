r"""Which numbers moved between two versions of a metrics JSON: every numeric leaf whose value differs by more
than a tolerance, with both values, so a rebuild's note can list what moved and by how much.

    python scripts/compare_metrics.py OLD.json NEW.json [--keys phase1_evidence phase2_evidence] [--tol 1e-9]
    python scripts/compare_metrics.py --git HEAD~3 reports/metrics/anticipation.json   # old from git
    python scripts/compare_metrics.py OLD.json NEW.json --rename '\.phase1_=.phase1.'  # a renamed key

``--rename PATTERN=REPLACEMENT`` (a regular expression, repeatable) rewrites the old file's dotted keys
before comparing, so a refactor that renames or nests keys shows only the numbers that moved.

Timings, stamps and paths are left out (they always move). Written by hand because the question is this
project's own (which reported number moved); ``json`` and ``subprocess`` do the rest.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
from pathlib import Path

SKIPPED = ("stamp", "seconds", "wall", "time", "path", "created", "per_second", "per_minute")


def leaves(value, prefix: str = ""):
    """(dotted key, number) for every numeric leaf, skipping keys that name times, stamps and paths."""
    if isinstance(value, dict):
        for key, sub in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if not any(word in str(key) for word in SKIPPED):
                yield from leaves(sub, name)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from leaves(sub, f"{prefix}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix, float(value)


def renamed(name: str, renames: list[tuple[str, str]]) -> str:
    for pattern, replacement in renames:
        name = re.sub(pattern, replacement, name)
    return name


def moved(
    old: dict, new: dict, keys: list[str] | None, tol: float, renames: list[tuple[str, str]] | None = None
) -> list[tuple[str, float | None, float | None]]:
    old_leaves = {
        renamed(name, renames or []): value
        for name, value in leaves({k: v for k, v in old.items() if not keys or k in keys})
    }
    new_leaves = dict(leaves({k: v for k, v in new.items() if not keys or k in keys}))
    out = []
    for name in sorted(set(old_leaves) | set(new_leaves)):
        a, b = old_leaves.get(name), new_leaves.get(name)
        both_nan = a is not None and b is not None and math.isnan(a) and math.isnan(b)
        if a is None or b is None or (not both_nan and abs(a - b) > tol):
            out.append((name, a, b))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", help="old JSON file (or, with --git, the revision)")
    parser.add_argument("new", help="new JSON file (with --git: the path, compared with the working tree)")
    parser.add_argument("--git", action="store_true", help="read the old version from git: OLD is a revision")
    parser.add_argument("--keys", nargs="*", help="top-level keys to compare (default: all)")
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument(
        "--rename",
        action="append",
        default=[],
        metavar="PATTERN=REPLACEMENT",
        help="rewrite the old file's keys (a regular expression; repeatable)",
    )
    args = parser.parse_args(argv)
    if args.git:
        text = subprocess.run(
            ["git", "show", f"{args.old}:{args.new}"], capture_output=True, text=True, check=True
        ).stdout
        old = json.loads(text)
    else:
        old = json.loads(Path(args.old).read_text())
    new = json.loads(Path(args.new).read_text())
    renames = []
    for rule in args.rename:
        pattern, sep, replacement = rule.partition("=")
        if not sep:
            parser.error(f"--rename {rule!r}: expected PATTERN=REPLACEMENT")
        renames.append((pattern, replacement))
    rows = moved(old, new, args.keys, args.tol, renames)
    for name, a, b in rows:
        delta = "" if a is None or b is None else f"  ({b - a:+.4g})"
        print(f"{name}: {a} -> {b}{delta}")
    print(f"{len(rows)} number(s) moved", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
