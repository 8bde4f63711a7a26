"""benchmarks/imitation_table.py: the table assembled from result files, the paper's column and
the intervals, checked by hand on small result files."""

from __future__ import annotations

import json
import math

import pytest
from _benchmarks import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("imitation_table")


def _run(env_id, algo, seed, norm):
    return {"env_id": env_id, "algorithm": algo, "seed": seed, "normalized_return": norm,
            "return_mean": 100.0 * norm, "return_std": 1.0, "env_steps": 1000, "wall_s": 2.0,
            "env_steps_per_s": 500.0, "raw_env_steps_per_s": 2000.0,
            "load_avg_1min_before": 0.5}


def test_the_papers_column_is_its_returns_normalised(bench):
    # Fu, Luo and Levine (2018), table 2, HalfCheetah: AIRL 1839.8, expert 1811.2, random -988.4
    assert bench.paper_normalized("HalfCheetah-v5", "airl") == pytest.approx(
        (1839.8 + 988.4) / (1811.2 + 988.4))
    assert bench.paper_normalized("Swimmer-v5", "gan-gcl") == pytest.approx(
        (-10.6 + 11.5) / (141.1 + 11.5))
    assert bench.paper_normalized("Hopper-v5", "airl") is None  # the paper has no Hopper task
    assert bench.paper_normalized("Ant-v5", "gcl") is None


def test_mean_interval_is_the_t_interval(bench):
    mean, half = bench.mean_interval([0.9, 1.0, 1.1])
    assert mean == pytest.approx(1.0)
    assert half == pytest.approx(4.303 * 0.1 / math.sqrt(3))
    assert bench.mean_interval([0.7]) == (0.7, None)


def test_collect_takes_each_cell_from_its_source_in_seed_order(bench, tmp_path):
    experts = {"Swimmer-v5": {"expert_return": 142.0, "random_return": 0.5}}
    (tmp_path / "a.json").write_text(json.dumps({"experts": experts, "runs": [
        _run("Swimmer-v5", "airl", 2, 1.2), _run("Swimmer-v5", "airl", 0, 1.0),
        _run("Swimmer-v5", "gail", 0, 0.5)]}))
    table = bench.collect(tmp_path, {("Swimmer-v5", "airl"): "a", ("Swimmer-v5", "gcl"): "a",
                                     ("Hopper-v5", "airl"): "missing"})
    cells = {(c["task"], c["algorithm"]): c for c in table["cells"]}
    assert len(cells) == len(bench.TASKS) * len(bench.ALGOS)
    airl = cells[("Swimmer-v5", "airl")]
    assert [r["seed"] for r in airl["runs"]] == [0, 2]
    assert airl["mean"] == pytest.approx(1.1)
    assert airl["interval95"] == pytest.approx(12.706 * math.sqrt(0.02) / math.sqrt(2))
    assert airl["expert_return"] == 142.0 and airl["source"] == "a"
    # a source without the pair's runs, a missing file and no source: not measured
    for key in (("Swimmer-v5", "gcl"), ("Hopper-v5", "airl"), ("Swimmer-v5", "gail")):
        assert cells[key]["runs"] == [] and cells[key]["source"] is None
    text = bench.format_text(table)
    assert "Swimmer-v5      GCL      not measured at the preset" in text
    assert "1.100 ± " in text
    markdown = bench.format_markdown(table)
    assert "1.000 / 1.200 (**1.100**); paper 0.99" in markdown
