"""SymPy proofs of the GAN / MaxEnt IRL / EBM identities, and the numeric oracles.

``python -m derivations`` proves every identity, prints a table, and writes the oracle files
(``tests/oracles/*.json``) and the docs fragments (``docs/snippets/derivations/*.md``);
``python -m derivations --check`` regenerates them into a temporary folder and compares.

This package uses SymPy and mpmath only; it never imports the numeric package ``irlgan``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from derivations._compare import compare_trees
from derivations._records import ProofRecord

__all__ = ["ProofRecord", "compare_trees", "prove_all", "repo_root", "write_all"]

MODULES = (
    "discriminator",
    "partition",
    "gradient",
    "generator",
    "ebm",
    "dynamics",
    "initial_state",
)


def repo_root() -> Path:
    """The repository root: the folder that contains this package."""
    return Path(__file__).resolve().parent.parent


def prove_all() -> list[ProofRecord]:
    """Run every proof module and return its records, in a fixed order."""
    import importlib

    records: list[ProofRecord] = []
    for name in MODULES:
        module = importlib.import_module(f"derivations.{name}")
        records += module.proofs()
    return records


def write_all(root: Path | str, records: Sequence[ProofRecord] | None = None) -> list[Path]:
    """Write the oracle files and the docs fragments under ``root``.

    Args:
        root: Repository root, or another folder that mirrors its layout.
        records: Proof records for the fragments (proved afresh when omitted).

    Returns:
        The paths written.
    """
    from derivations._docs import write_fragments
    from derivations.oracles import write_oracles

    if records is None:
        records = prove_all()
    root = Path(root)
    return [*write_oracles(root), *write_fragments(root, records)]
