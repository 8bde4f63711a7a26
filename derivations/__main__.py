"""Command line: ``python -m derivations [--check] [--out DIR]``."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from derivations import compare_trees, prove_all, repo_root, write_all
from derivations._records import ProofRecord


def print_table(records: Sequence[ProofRecord]) -> None:
    """Print one row per record and a total."""
    width = max(len(r.identity) for r in records)
    level_width = max(len(r.level) for r in records)
    print(f"{'identity':<{width}}  {'level':<{level_width}}  {'proved':<14}  seconds")
    for r in records:
        if r.expect_zero:
            verdict = "yes" if r.proved else "NO"
        else:
            verdict = "no (expected)" if r.ok else "UNEXPECTED"
        print(f"{r.identity:<{width}}  {r.level:<{level_width}}  {verdict:<14}  {r.seconds:7.3f}")
    total = sum(r.seconds for r in records)
    bad = [r for r in records if not r.ok]
    print(f"{len(records)} records, {len(bad)} failed, {total:.2f} s proving")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m derivations", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary folder and compare with the repo",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write under DIR (same relative layout) instead of the repo",
    )
    args = parser.parse_args(argv)

    start = time.perf_counter()
    records = prove_all()
    print_table(records)
    failed = [r.name for r in records if not r.ok]
    for name in failed:
        print(f"FAILED: {name}", file=sys.stderr)

    if args.check:
        target = args.out if args.out is not None else repo_root()
        with tempfile.TemporaryDirectory(prefix="derivations-check-") as tmp:
            write_all(tmp, records)
            diffs = compare_trees(Path(tmp), target)
        for line in diffs:
            print(f"DIFF: {line}")
        status = "up to date" if not diffs else f"{len(diffs)} difference(s)"
        print(f"check against {target}: {status}; {time.perf_counter() - start:.1f} s in all")
        return 1 if diffs or failed else 0

    root = args.out if args.out is not None else repo_root()
    written = write_all(root, records)
    for path in written:
        print(f"wrote {path}")
    print(f"{time.perf_counter() - start:.1f} s in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
