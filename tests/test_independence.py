"""The numeric package must stay independent of the symbolic proofs that check it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import irlgan

FORBIDDEN = ("sympy", "derivations", "mpmath")
PACKAGE_DIR = Path(irlgan.__file__).parent


def test_no_source_file_in_irlgan_imports_sympy_or_derivations():
    offenders = []
    files = sorted(PACKAGE_DIR.rglob("*.py"))
    assert files, "no source files found"
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{node.lineno} {name}")
    assert not offenders, offenders


def test_importing_every_irlgan_module_loads_neither_sympy_nor_derivations():
    code = (
        "import importlib, pkgutil, sys, irlgan\n"
        "mods = [m.name for m in pkgutil.walk_packages(irlgan.__path__, 'irlgan.')]\n"
        "for name in mods: importlib.import_module(name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(len(mods), bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
