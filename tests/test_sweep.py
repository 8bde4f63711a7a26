"""`irlgan sweep`: the sweep file, the plan of trials, the results table, and (slow, on a local
Ray cluster) bit-identical trials, a worker killed mid-trial, and a sweep started again."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from irlgan import cli
from irlgan.control import final_parameters
from irlgan.control._point_mass_expert import point_mass_expert_demonstrations
from irlgan.sweep import load_spec, plan_trials, summarise_results, t_interval

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SMALL = """
[sweep]
methods = ["airl"]
seeds = [0, 1]

[[tasks]]
env = "irlgan/PointMass-v0"
steps = 6000
demos = "{demos}"
set = {{ num_envs = 4, steps_per_env = 50, checkpoint_every = 3, eval_episodes = 20 }}
"""


# ----------------------------------------------------------------------------------------------
# The sweep file and the plan (no Ray)
# ----------------------------------------------------------------------------------------------

def test_the_smoke_sweep_plans_experts_first_and_two_by_two_by_two_trials(tmp_path) -> None:
    spec = load_spec(ROOT / "benchmarks" / "sweeps" / "smoke.toml")
    trials = plan_trials(spec, tmp_path)
    experts = [t for t in trials if t.kind == "expert"]
    train = [t for t in trials if t.kind == "train"]
    assert len(experts) == 2 and len(train) == 8
    assert trials.index(experts[-1]) < trials.index(train[0])
    first = train[0]
    assert first.name == "airl-irlgan-PointMass-v0-s0"
    assert first.needs == "expert-irlgan-PointMass-v0-s0"
    argv = list(first.argv)
    assert argv[:4] == ["train", "airl", "--env", "irlgan/PointMass-v0"]
    assert argv[argv.index("--demos") + 1] == str(tmp_path / "trials" / first.needs)
    assert "num_envs=4" in argv and argv[argv.index("--steps") + 1] == "16000"
    expert = list(experts[0].argv)
    assert expert[:3] == ["expert", "--env", "irlgan/PointMass-v0"]
    assert "demo_episodes=16" in expert


def test_training_trials_ask_for_the_gpu_only_when_the_sweep_gives_them_one(tmp_path) -> None:
    text = SMALL.format(demos=tmp_path)
    cpu = plan_trials(load_spec(write(tmp_path, text)), tmp_path)
    assert all("--device" not in t.argv for t in cpu)
    gpu_text = text + "\n[resources]\ngpus_per_trial = 0.5\n"
    gpu = plan_trials(load_spec(write(tmp_path, gpu_text, "gpu.toml")), tmp_path)
    for trial in gpu:
        argv = list(trial.argv)
        assert argv[argv.index("--device") + 1] == "cuda"


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks" / "sweeps").glob("*.toml")),
                         ids=lambda p: p.name)
def test_every_benchmark_sweep_file_parses(path, tmp_path) -> None:
    trials = plan_trials(load_spec(path), tmp_path)
    names = [t.name for t in trials]
    assert len(names) == len(set(names))
    assert all(t.needs in names for t in trials if t.needs)


@pytest.mark.parametrize("text, message", [
    ("[sweep]\nmethods = ['airl']\n", "seeds must be a non-empty list"),
    ("[sweep]\nmethods = ['nope']\nseeds = [0]\n", "unknown method 'nope'"),
    ("[sweep]\nmethods = ['airl']\nseeds = [0]\n", "at least one \\[\\[tasks\\]\\]"),
    ("[sweep]\nmethods = ['airl']\nseeds = [0, 0]\n[[tasks]]\nenv = 'X'\ndemos = 'd'\n",
     "listed twice"),
    ("[sweep]\nmethods = ['airl']\nseeds = [0]\n[[tasks]]\nenv = 'X'\n",
     "exactly one of demos"),
    ("[sweep]\nmethods = ['airl']\nseeds = [0]\n[[tasks]]\nenv = 'X'\ndemos = 'd'\nstep = 5\n",
     "unknown key\\(s\\) \\['step'\\]"),
    ("[sweep]\nmethods = ['airl']\nseeds = [0]\n[[tasks]]\nenv = 'X'\ndemos = 'd'\n"
     "set = { hidden = { a = [1, 'x'] } }\n", "setting 'hidden.a'"),
    ("[sweep\n", "not valid TOML"),
])
def test_bad_sweep_files_are_refused_naming_the_key(tmp_path, text, message) -> None:
    with pytest.raises(ValueError, match=message):
        load_spec(write(tmp_path, text))


DENSITY = """
[sweep]
name = "tiny densities"
methods = ["ebm", "nce-flow", "flow"]
seeds = [0, 1]

[[tasks]]
data = "8gaussians-x2"
steps = 12
set = {{ {tiny} }}

[methods.nce-flow]
algorithm = "nce"
set = {{ noise = "flow" }}
"""


def _density_spec(tmp_path: Path) -> Path:
    from tests.test_density_training import TINY

    tiny = ", ".join(f'{k} = "{v}"' for k, v in TINY.items() if k != "iterations")
    return write(tmp_path, DENSITY.format(tiny=tiny), "density.toml")


def test_density_tasks_run_their_algorithm_under_the_methods_own_name(tmp_path) -> None:
    trials = plan_trials(load_spec(_density_spec(tmp_path)), tmp_path)
    assert [t.name for t in trials] == [f"{m}-8gaussians-x2-s{s}" for m in
                                        ("ebm", "nce-flow", "flow") for s in (0, 1)]
    renamed = trials[2]
    assert renamed.method == "nce-flow" and renamed.algorithm == "nce"
    argv = list(renamed.argv)
    assert argv[:4] == ["train", "nce", "--data", "8gaussians-x2"]
    assert "--demos" not in argv and "noise=flow" in argv and "pretrain_iterations=6" in argv
    assert argv[argv.index("--steps") + 1] == "12"
    assert "noise=flow" not in trials[0].argv  # the override belongs to its method only


@pytest.mark.parametrize("text, message", [
    ("[sweep]\nmethods = ['airl']\nseeds = [0]\n[[tasks]]\ndata = 'rings'\n",
     "method 'airl' is a control algorithm and cannot run on task 'rings'"),
    ("[sweep]\nmethods = ['ebm']\nseeds = [0]\n[[tasks]]\nenv = 'X'\ndemos = 'd'\n",
     "method 'ebm' is a density algorithm"),
    ("[sweep]\nmethods = ['x']\nseeds = [0]\n[[tasks]]\ndata = 'rings'\n"
     "[methods.x]\nalgorithm = 'nope'\n", "\\[methods.x\\] algorithm: unknown method 'nope'"),
    ("[sweep]\nmethods = ['ebm']\nseeds = [0]\n[[tasks]]\ndata = 'rings'\ndemos = 'd'\n",
     "unknown key\\(s\\) \\['demos'\\]"),
    ("[sweep]\nmethods = ['ebm']\nseeds = [0]\n[[tasks]]\ndata = 'rings'\n[[tasks]]\n"
     "data = 'rings'\n", "a task \\(env or data\\) is listed twice"),
])
def test_density_sweep_files_are_checked(tmp_path, text, message) -> None:
    with pytest.raises(ValueError, match=message):
        load_spec(write(tmp_path, text))


def test_a_density_trial_matches_the_same_run_by_hand_and_fills_the_tables(tmp_path) -> None:
    """Without Ray: `run_trial` runs the trial's command as a child process; the by-hand run is
    `irlgan train` in this process. The tables are then those of the finished trials."""
    from irlgan.sweep import run_sweep, run_trial

    spec = _density_spec(tmp_path)
    trials = plan_trials(load_spec(spec), tmp_path / "sweep")
    trial = trials[2]  # nce-flow, seed 0
    row = run_trial(trial, str(tmp_path / "sweep"), threads=1, max_attempts=1)
    assert row["status"] == "done" and row["metric"] == "kl_gap"
    by_hand = [a.replace(str(tmp_path / "sweep"), str(tmp_path / "by-hand"))
               for a in trial.argv]
    assert cli.main(by_hand) == 0
    a = json.loads((tmp_path / "by-hand" / "trials" / trial.name / "summary.json").read_text())
    b = json.loads((tmp_path / "sweep" / "trials" / trial.name / "summary.json").read_text())
    for key in ("nll", "kl_gap", "log_z_ais", "log_z_learned", "mmd"):
        assert a[key] == b[key], key
    assert row["kl_gap"] == b["kl_gap"] and row["score"] == b["kl_gap"]
    # the tables, from the one finished trial (the others are planned, not run)
    tables = tmp_path / "published"
    run_sweep(spec, tmp_path / "sweep", tables_only=True, tables=tables, quiet=True)
    with (tables / "summary.csv").open() as handle:
        summary = {r["method"]: r for r in csv.DictReader(handle)}
    assert summary["nce-flow"]["seeds"] == "0" and summary["nce-flow"]["metric"] == "kl_gap"
    assert float(summary["nce-flow"]["mean"]) == b["kl_gap"]
    assert summary["ebm"]["seeds"] == "" and summary["ebm"]["mean"] == ""
    markdown = (tables / "summary.md").read_text()
    assert "Sweep `tiny densities`" in markdown and "1 of 6 training trials finished" in markdown
    assert f"0: {b['kl_gap']:.3f}" in markdown
    assert (tables / "summary.png").stat().st_size > 0 and (tables / "sweep.toml").is_file()


def test_the_markdown_table_gives_each_seed_and_the_t_interval(tmp_path) -> None:
    from irlgan.sweep import summary_markdown, write_report

    rows = [{"kind": "train", "task": "T", "method": m, "seed": s, "status": "done",
             "metric": "normalized_return", "normalized_return": v, "wall_s": 10.0 * (s + 1)}
            for m, values in (("airl", (0.9, 1.0, 0.95)), ("gail", (0.5, 0.7, 0.6)))
            for s, v in enumerate(values)]
    text = summary_markdown(rows)
    mean, low, high = t_interval([0.9, 1.0, 0.95])
    line = next(line for line in text.splitlines() if line.startswith("| T | airl |"))
    assert f"| {mean:.3f} | [{low:.3f}, {high:.3f}] | 0: 0.900, 1: 1.000, 2: 0.950 | 20 |" in line
    # a finished trial without a score (no normalisation scale) is named below, and the other
    # seeds keep their own values
    rows[1] = dict(rows[1], normalized_return=None, note="no scale to normalise on")
    text = summary_markdown(rows)
    assert "| 0: 0.900, 2: 0.950 |" in text and "- T, 1 trial(s): no scale to normalise on" in text
    write_report(tmp_path, rows)
    assert (tmp_path / "summary.md").read_text() == summary_markdown(rows, None,
                                                                     f"Sweep `{tmp_path.name}`")
    assert (tmp_path / "summary.png").stat().st_size > 0


def test_the_interval_is_students_t() -> None:
    mean, low, high = t_interval([0.0, 1.0])
    assert mean == 0.5 and high - mean == pytest.approx(12.706 * math.sqrt(0.5) / math.sqrt(2))
    values = [0.91, 0.95, 0.97, 0.93, 0.99]
    mean, low, high = t_interval(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 4)
    assert high - mean == pytest.approx(2.776 * sd / math.sqrt(5))
    assert math.isnan(t_interval([0.5])[1])
    rows = [{"kind": "train", "task": "E", "method": "airl", "seed": s, "status": st,
             "metric": "normalized_return", "normalized_return": v, "return_mean": 1.0,
             "wall_s": 2.0}
            for s, st, v in ((0, "done", 0.0), (1, "done", 1.0), (2, "failed (5)", None))]
    (row,) = summarise_results(rows)
    assert row["seeds"] == "0 1" and row["failed"] == 1
    assert row["metric"] == "normalized_return" and row["mean"] == 0.5


# ----------------------------------------------------------------------------------------------
# On Ray (slow: a local cluster starts in about 20 s here)
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """The sweep's two trials run one after another with `irlgan train`, and the sweep file."""
    root = tmp_path_factory.mktemp("sweep-reference")
    demos = root / "demos"
    point_mass_expert_demonstrations(episodes=8, seed=0, eval_episodes=20).save(demos)
    spec = write(root, SMALL.format(demos=demos))
    for trial in plan_trials(load_spec(spec), root / "by-hand"):
        assert cli.main(list(trial.argv)) == 0
    return root, spec


def _sweep(spec: Path, out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "irlgan.cli", "sweep", str(spec), "--out",
                             str(out), "--workers", "2", "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _same_as_by_hand(out: Path, reference: Path) -> None:
    for seed in (0, 1):
        name = f"airl-irlgan-PointMass-v0-s{seed}"
        a = final_parameters(reference / "by-hand" / "trials" / name)
        b = final_parameters(out / "trials" / name)
        for key in a:
            assert torch.equal(a[key], b[key]), (name, key)
        sa = json.loads((reference / "by-hand" / "trials" / name / "summary.json").read_text())
        sb = json.loads((out / "trials" / name / "summary.json").read_text())
        for key in ("normalized_return", "return_mean", "return_std", "env_steps"):
            assert sa[key] == sb[key], (name, key)
    with (out / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["status"] for r in rows] == ["done", "done"]


@pytest.mark.slow
def test_a_sweep_matches_the_same_runs_by_hand_bit_for_bit(reference, tmp_path) -> None:
    root, spec = reference
    proc = _sweep(spec, tmp_path / "sweep")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    _same_as_by_hand(tmp_path / "sweep", root)
    with (tmp_path / "sweep" / "summary.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["seeds"] == "0 1" and row["failed"] == "0"


def _wait_for_checkpoint(out: Path, proc: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 300
    while True:
        found = sorted((out / "trials").glob("*/checkpoints/ckpt-*.pt"))
        if found:
            return found[0].parents[1]
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint after 300 s"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_worker_killed_mid_trial_resumes_and_the_results_are_unchanged(reference,
                                                                          tmp_path) -> None:
    root, spec = reference
    out = tmp_path / "sweep"
    proc = _sweep(spec, out)
    trial = _wait_for_checkpoint(out, proc)
    child = int((trial / ".lock").read_text().split()[0])  # the `irlgan train` process
    fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
    worker = int(fields[1])
    # the trial runs at this process's priority, not at Ray's default worker niceness of 15
    assert int(fields[16]) == os.nice(0)
    os.kill(worker, signal.SIGKILL)  # the Ray worker; its trial process dies with it
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    _same_as_by_hand(out, root)
    log = (out / "logs" / f"{trial.name}.log").read_text()
    attempts = [line for line in log.splitlines() if line.startswith("# attempt")]
    assert len(attempts) == 2 and "--resume" in attempts[1], log  # run again, and resumed
    summary = json.loads((trial / "summary.json").read_text())
    assert summary["resume"] == "exact"


@pytest.mark.slow
def test_a_sweep_started_again_skips_finished_trials(reference, tmp_path) -> None:
    root, spec = reference
    out = tmp_path / "sweep"
    proc = _sweep(spec, out)
    deadline = time.monotonic() + 300
    while not list((out / "trials").glob("*/summary.json")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # the user stops the sweep
    proc.communicate(timeout=120)
    finished = {p: p.stat().st_mtime_ns for p in (out / "trials").glob("*/summary.json")}
    assert finished  # (both trials run side by side, so both may have finished)
    again = _sweep(spec, out)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # not run again
    with (out / "results.csv").open() as handle:
        notes = {r["trial"]: r["note"] for r in csv.DictReader(handle)}
    for path in finished:
        assert notes[path.parent.name] == "finished before this start"
    _same_as_by_hand(out, root)
    other = spec.with_name("other.toml")
    other.write_text(spec.read_text().replace("seeds = [0, 1]", "seeds = [0, 1, 2]"))
    refused = _sweep(other, out)
    _, err = refused.communicate(timeout=120)
    assert refused.returncode == 2 and "holds another sweep" in err
