"""The one schedule of every training loop: learning-rate shapes and the iteration loop."""

from __future__ import annotations

import math

import pytest

from irlgan.schedule import lr_fraction, run_iterations


def test_learning_rate_shapes_at_their_ends_and_middle() -> None:
    assert [lr_fraction("constant", s, 10) for s in (0, 5, 10)] == [1.0, 1.0, 1.0]
    assert [lr_fraction("linear", s, 10) for s in (0, 5, 10, 12)] == [1.0, 0.5, 0.0, 0.0]
    assert lr_fraction("cosine", 0, 8, 0.1) == 1.0
    assert lr_fraction("cosine", 8, 8, 0.1) == pytest.approx(0.1, abs=1e-15)
    assert lr_fraction("cosine", 4, 8, 0.1) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_fraction("cosine", 2, 8) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    with pytest.raises(ValueError, match="shape"):
        lr_fraction("step", 1, 2)


def test_run_iterations_resumes_from_start_and_stops_on_false() -> None:
    calls: list[int] = []

    def step() -> dict:
        calls.append(len(calls))
        return {"n": len(calls)}

    seen: list[dict] = []
    assert run_iterations(step, start=3, total=7, callback=seen.append) == 7
    assert len(calls) == 4 and [r["n"] for r in seen] == [1, 2, 3, 4]
    calls.clear()
    assert run_iterations(step, start=0, total=10,
                          callback=lambda row: row["n"] < 2) == 2  # False after the second
    assert run_iterations(step, start=5, total=5) == 5  # nothing left to do
