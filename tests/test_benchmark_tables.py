"""The statistics that the density benchmark's table reports (benchmarks/density.py)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "density.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_density", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results(ebm: list[float], base: list[float], method: str = "nce-gaussian") -> dict:
    out = {}
    for seed, (a, b) in enumerate(zip(ebm, base, strict=True)):
        out[f"rings/ebm/s{seed}"] = {"nll": a}
        out[f"rings/{method}/s{seed}"] = {"nll": b}
    return out


def _row(lines: list[str], method: str) -> str:
    (row,) = [line for line in lines if f"vs {method}" in line]
    return row


def test_across_seeds_mean_and_t_interval_match_a_hand_computation(bench):
    # Differences -0.001, -0.002, -0.003: mean -0.002, sample sd 0.001, n = 3, t(2) = 4.303.
    row = _row(bench.across_seeds(_results([1.0, 1.0, 1.0], [1.001, 1.002, 1.003])),
               "nce-gaussian")
    half = 4.303 * 0.001 / math.sqrt(3)
    assert f"n=3: -0.0020 +- {half:.4f} tie" in row
    assert "per seed -0.0010 -0.0020 -0.0030" in row


@pytest.mark.parametrize(("ebm", "verdict"), [
    ([1.0, 1.0, 1.0, 1.0], "lower"),     # EBM below by 0.010-0.013 on every seed
    ([1.03, 1.03, 1.03, 1.03], "higher"),
    ([1.0, 1.03, 0.99, 1.04], "tie"),    # the sign changes between seeds
])
def test_across_seeds_verdicts(bench, ebm, verdict):
    row = _row(bench.across_seeds(_results(ebm, [1.010, 1.011, 1.012, 1.013], "flow")), "flow")
    assert row.split(";")[0].endswith(verdict), row


def test_across_seeds_needs_two_seeds_that_ran_both(bench):
    results = _results([1.0, 1.0], [1.1, 1.1])
    del results["rings/nce-gaussian/s1"]
    assert not any("vs nce-gaussian" in line for line in bench.across_seeds(results))
