"""Run folders, the metrics log, configuration overrides and the command line's dispatch."""

from __future__ import annotations

import dataclasses

import pytest

from irlgan import cli
from irlgan.checkpoint import checkpoint_path, save_checkpoint
from irlgan.config import apply_overrides, config_to_dict, parse_overrides
from irlgan.runs import MetricsLog, prepare_run_dir, read_config


@dataclasses.dataclass(frozen=True)
class _Cfg:
    steps: int = 10
    lr: float = 1e-3
    normalize: bool = True
    hidden: tuple[int, ...] = (64, 64)
    name: str = "a"
    clip: float | None = None


def test_overrides_parse_each_type():
    cfg = apply_overrides(_Cfg(), parse_overrides(
        ["steps=20", "lr=3e-4", "normalize=false", "hidden=32,16", "name=b", "clip=none"]))
    assert cfg == _Cfg(steps=20, lr=3e-4, normalize=False, hidden=(32, 16), name="b", clip=None)
    assert apply_overrides(_Cfg(), {"clip": "0.5"}).clip == 0.5
    assert config_to_dict(_Cfg())["hidden"] == [64, 64]


@pytest.mark.parametrize(("items", "match"), [
    (["steps=ten"], "steps must be an integer"),
    (["lr=fast"], "lr must be a number"),
    (["normalize=maybe"], "normalize must be true or false"),
    (["nope=1"], "unknown setting 'nope'"),
])
def test_bad_overrides_are_named(items, match):
    with pytest.raises(ValueError, match=match):
        apply_overrides(_Cfg(), parse_overrides(items))


def test_parse_overrides_needs_an_equals_sign():
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["steps"])


def test_run_dir_fresh_resume_and_refusals(tmp_path):
    run = tmp_path / "run"
    config = {"task": "control", "seed": 1, "hidden": (64, 64)}
    prepare_run_dir(run, config, resume=False)
    assert read_config(run) == {"task": "control", "seed": 1, "hidden": [64, 64]}
    assert (run / "checkpoints").is_dir() and (run / "plots").is_dir()
    prepare_run_dir(run, config, resume=True)
    with pytest.raises(ValueError, match=r"differs \(seed: saved 1 vs now 2\)"):
        prepare_run_dir(run, {**config, "seed": 2}, resume=True)
    save_checkpoint(checkpoint_path(run, 1), {"x": 1}, kind="control")
    with pytest.raises(ValueError, match="--resume"):
        prepare_run_dir(run, config, resume=False)
    with pytest.raises(ValueError, match="no config.json"):
        prepare_run_dir(tmp_path / "empty", config, resume=True)


def test_metrics_log_truncates_to_a_checkpoint_and_drops_a_partial_line(tmp_path):
    log = MetricsLog(tmp_path / "m.csv", ["iteration", "loss"])
    for it in range(1, 6):
        log.append({"iteration": it, "loss": 1.0 / it})
    with (tmp_path / "m.csv").open("a") as handle:
        handle.write("6,0.1")  # a kill in the middle of a write
    assert [r["iteration"] for r in log.rows()] == ["1", "2", "3", "4", "5"]
    log = MetricsLog(tmp_path / "m.csv", ["iteration", "loss"])
    log.truncate(3)
    log.append({"iteration": 4, "loss": 9})
    assert [(r["iteration"], r["loss"]) for r in log.rows()][-2:] == [("3", str(1 / 3)),
                                                                       ("4", "9")]
    with pytest.raises(ValueError, match="unknown metric columns"):
        log.append({"iteration": 5, "acc": 1})
    with pytest.raises(ValueError, match="columns"):
        MetricsLog(tmp_path / "m.csv", ["iteration", "other"])


def test_a_metrics_file_from_a_version_with_fewer_columns_resumes_with_its_own(tmp_path):
    """A run started before a metric was added resumes: the new column stays out of its file."""
    old = MetricsLog(tmp_path / "m.csv", ["iteration", "loss"])
    old.append({"iteration": 1, "loss": 0.5})
    log = MetricsLog(tmp_path / "m.csv", ["iteration", "loss", "ess_fraction"])
    log.append({"iteration": 2, "loss": 0.25, "ess_fraction": 0.1})
    log.truncate(2)
    assert (tmp_path / "m.csv").read_text().splitlines() == ["iteration,loss", "1,0.5",
                                                             "2,0.25"]
    with pytest.raises(ValueError, match="unknown metric columns"):
        log.append({"iteration": 3, "acc": 1})
    with pytest.raises(ValueError, match="columns"):  # a file with a column we do not know
        MetricsLog(tmp_path / "m.csv", ["iteration", "ess_fraction"])


def test_cli_reports_bad_input_in_one_line(tmp_path, capsys):
    assert cli.main(["train", "ebm", "--env", "Pendulum-v1"]) == 2
    assert "needs --data NAME" in capsys.readouterr().err
    assert cli.main(["train", "airl", "--data", "moons"]) == 2
    assert "needs --env ID" in capsys.readouterr().err
    assert cli.main(["eval", str(tmp_path)]) == 2
    assert "no config.json" in capsys.readouterr().err
    (tmp_path / "config.json").write_text('{"task": "poetry"}')
    assert cli.main(["eval", str(tmp_path)]) == 2
    assert "names task 'poetry'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "bc", "--env", "Pendulum-v1"])
