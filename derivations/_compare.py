"""Compare a freshly generated tree with the checked-in one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import mpmath

from derivations._docs import SNIPPET_DIR
from derivations.oracles import ORACLE_FILES

MATCH_DIGITS = 30
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_IGNORED_KEYS = {"generator"}


def generated_paths(root: Path) -> list[str]:
    """Relative paths of the generated files present under ``root``."""
    root = Path(root)
    found = [rel for rel in ORACLE_FILES.values() if (root / rel).is_file()]
    snippets = root / SNIPPET_DIR
    if snippets.is_dir():
        found += sorted(f"{SNIPPET_DIR}/{p.name}" for p in snippets.glob("*.md"))
    return found


def _numbers_match(expected: str, actual: str) -> bool:
    with mpmath.workdps(60):
        a, b = mpmath.mpf(expected), mpmath.mpf(actual)
        scale = max(abs(a), abs(b))
        return bool(abs(a - b) <= mpmath.mpf(10) ** -MATCH_DIGITS * scale)


def _compare_json(expected: Any, actual: Any, where: str, out: list[str]) -> None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected:
            if key in _IGNORED_KEYS and where == "":
                continue
            if key not in actual:
                out.append(f"{where}.{key}: missing")
            else:
                _compare_json(expected[key], actual[key], f"{where}.{key}", out)
        for key in actual:
            if key not in expected and not (key in _IGNORED_KEYS and where == ""):
                out.append(f"{where}.{key}: unexpected key")
        return
    if isinstance(expected, list) and isinstance(actual, list):
        if where.endswith(".cases"):
            _compare_cases(expected, actual, where, out)
            return
        if len(expected) != len(actual):
            out.append(f"{where}: length {len(actual)}, expected {len(expected)}")
            return
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _compare_json(e, a, f"{where}[{i}]", out)
        return
    if isinstance(expected, str) and isinstance(actual, str):
        if expected == actual:
            return
        if _NUMBER.match(expected) and _NUMBER.match(actual):
            if not _numbers_match(expected, actual):
                out.append(
                    f"{where}: {actual}, expected {expected} "
                    f"(differs within {MATCH_DIGITS} significant digits)"
                )
            return
    if expected != actual:
        out.append(f"{where}: {actual!r}, expected {expected!r}")


def _compare_cases(expected: list, actual: list, where: str, out: list[str]) -> None:
    by_name = {c.get("name"): c for c in actual if isinstance(c, dict)}
    names = [c.get("name") for c in expected if isinstance(c, dict)]
    for case in expected:
        name = case.get("name")
        if name not in by_name:
            out.append(f"{where}[{name}]: case missing")
        else:
            _compare_json(case, by_name[name], f"{where}[{name}]", out)
    for name in by_name:
        if name not in names:
            out.append(f"{where}[{name}]: unexpected case")
    if [n for n in names if n in by_name] != [n for n in by_name if n in names]:
        out.append(f"{where}: cases in a different order")


def compare_trees(expected_root: Path, actual_root: Path) -> list[str]:
    """Differences between the generated files of two trees (empty when they agree).

    JSON files are compared structurally; decimal strings must agree to 30 significant
    digits and the ``generator`` versions key is ignored. Markdown fragments are compared as
    text, ignoring their first line.

    Args:
        expected_root: The freshly generated tree.
        actual_root: The tree to check (normally the repository).

    Returns:
        One line per difference, each naming the file (and the case, for oracles).
    """
    expected_root, actual_root = Path(expected_root), Path(actual_root)
    out: list[str] = []
    expected_files = generated_paths(expected_root)
    for rel in expected_files:
        actual_path = actual_root / rel
        if not actual_path.is_file():
            out.append(f"{rel}: missing")
            continue
        expected_text = (expected_root / rel).read_text(encoding="utf-8")
        actual_text = actual_path.read_text(encoding="utf-8")
        if rel.endswith(".json"):
            try:
                actual_json = json.loads(actual_text)
            except json.JSONDecodeError as err:
                out.append(f"{rel}: not valid JSON ({err})")
                continue
            diffs: list[str] = []
            _compare_json(json.loads(expected_text), actual_json, "", diffs)
            out += [f"{rel}: {d.lstrip('.')}" for d in diffs]
        else:
            e_lines = expected_text.splitlines()[1:]
            a_lines = actual_text.splitlines()[1:]
            if e_lines != a_lines:
                for i, (e, a) in enumerate(zip(e_lines, a_lines, strict=False), start=2):
                    if e != a:
                        out.append(f"{rel}: line {i} differs: {a!r}, expected {e!r}")
                        break
                else:
                    out.append(f"{rel}: {len(a_lines) + 1} lines, expected {len(e_lines) + 1}")
    for rel in generated_paths(actual_root):
        if rel not in expected_files:
            out.append(f"{rel}: unexpected file (not generated)")
    return out
