"""Fault injection: every way of losing or falsifying a run's results that issue 14 lists, done
for real, and for each the error and a check that nothing the run had written was lost or
changed.

Faults are injected the way trusted training systems test themselves: SIGKILL at a random moment,
during a checkpoint write and during `irlgan eval`; SIGTERM; two writers on one folder; a full
disk (ENOSPC raised at a chosen write); read-only folders (permissions dropped in a child process,
in which root gives up its power to override file permissions); and corrupted, truncated and
foreign files of every kind a run reads. After each, the run is resumed and must end exactly where
an uninterrupted run ends.

The counts are printed at the end of the test run (`tests/conftest.py`).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import LEDGER

import irlgan
import irlgan.checkpoint
import irlgan.errors
from irlgan import cli
from irlgan.control import final_parameters, train_run
from irlgan.control._point_mass_expert import point_mass_expert_demonstrations
from irlgan.control.commands import build_config

ENV = "irlgan/PointMass-v0"
STEPS = 420  # six iterations of 2 x 35 steps
LONG = 4200  # sixty iterations, about 4 s: long enough to be hit while it runs
TINY = {"num_envs": "2", "steps_per_env": "35", "disc_batch": "16", "checkpoint_every": "2",
        "eval_episodes": "20"}
REPO = Path(__file__).resolve().parents[1]


def train_argv(out: Path, demos: Path, *extra: str, algo: str = "airl", steps: int = STEPS,
               settings: dict[str, str] | None = None) -> list[str]:
    argv = ["train", algo, "--env", ENV, "--demos", str(demos), "--steps", str(steps),
            "--out", str(out), "--quiet"]
    for key, value in {**TINY, **(settings or {})}.items():
        argv += ["--set", f"{key}={value}"]
    return argv + list(extra)


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (the lock file's content, a process id, aside)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


def one_line_error(stderr: str) -> str:
    """The single error line of a failed command (warnings aside); fails on a traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines()
             if line.strip() and not line.startswith("irlgan: warning:")]
    assert len(lines) == 1, stderr
    for leak in ("weights_only", "pickle", "state_dict", "Errno 2]"):
        assert leak not in lines[0], lines[0]
    return lines[0]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    capsys.readouterr()
    status = cli.main(argv)
    return status, capsys.readouterr().err


def strict_json(path: Path) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"{path} holds {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def assert_same_result(run: Path, reference: Path) -> None:
    """The run ended exactly where the uninterrupted reference did."""
    a, b = final_parameters(reference), final_parameters(run)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    sa, sb = strict_json(reference / "summary.json"), strict_json(run / "summary.json")
    for key in ("normalized_return", "return_mean", "return_std", "env_steps"):
        assert sa[key] == sb[key], key
    iterations = [int(r.split(",")[0]) for r in (run / "metrics.csv").read_text().splitlines()[1:]]
    assert iterations == list(range(1, len(iterations) + 1)), "each iteration exactly once"


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demos")
    point_mass_expert_demonstrations(episodes=12, seed=21).save(path)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, demos: Path) -> Path:
    out = tmp_path_factory.mktemp("reference") / "run"
    assert cli.main(train_argv(out, demos)) == 0
    return out


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory: pytest.TempPathFactory, demos: Path) -> Path:
    out = tmp_path_factory.mktemp("long-reference") / "run"
    assert cli.main(train_argv(out, demos, steps=LONG)) == 0
    return out


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory, demos: Path) -> Path:
    """A run stopped after iteration 4, with checkpoints after iterations 2 and 4."""
    out = tmp_path_factory.mktemp("stopped") / "run"
    run = build_config("airl", ENV, STEPS, 0, TINY)
    loaded = irlgan.Demonstrations.load(demos)
    assert train_run(run, loaded, out, demos_dir=demos, expert_return=loaded.expert_return,
                     random_return=loaded.random_return,
                     reference_seeds=loaded.reference_seeds, progress=False, stop_after=4) == {}
    return out


def copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


# ----------------------------------------------------------------------------------------------
# Child processes with a fault inside them
# ----------------------------------------------------------------------------------------------

CHILD = r"""
import io, os, signal, sys
import irlgan.checkpoint as ck

KILL_AT, MODE = int(sys.argv[1]), sys.argv[2]
calls = [0]
original = ck.atomic_write

def atomic_write(path, write):
    if path.name.startswith("ckpt-"):
        calls[0] += 1
        if calls[0] == KILL_AT:
            if MODE == "half":  # die with half a checkpoint written to the temporary file
                buffer = io.BytesIO()
                write(buffer)
                data = buffer.getvalue()
                tmp = path.parent / f".{path.name}.killed.tmp"
                with open(tmp, "wb") as handle:
                    handle.write(data[: len(data) // 2])
                    handle.flush()
                    os.fsync(handle.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
    return original(path, write)

ck.atomic_write = atomic_write
from irlgan.cli import main
sys.exit(main(sys.argv[3:]))
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "tests"),
                                         env.get("PYTHONPATH", "")])
    env["IRLGAN_THREADS"] = "1"
    return env


def run_child(argv: list[str], kill_at: int = 0, mode: str = "none",
              timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(kill_at), mode, *argv],
                          capture_output=True, text=True, env=child_env(), timeout=timeout,
                          check=False)


def start_cli(argv: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "irlgan.cli", *argv], env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the child process")
        time.sleep(0.02)


def metric_rows(run: Path) -> int:
    path = run / "metrics.csv"
    return max(0, len(path.read_text().splitlines()) - 1) if path.is_file() else 0


# ----------------------------------------------------------------------------------------------
# One writer per run folder
# ----------------------------------------------------------------------------------------------

def test_a_second_writer_is_refused_naming_the_first_and_the_first_run_is_intact(
        tmp_path, demos, long_reference, capsys):
    out = tmp_path / "run"
    steps = LONG
    first = start_cli(train_argv(out, demos, steps=steps))
    try:
        wait_for(lambda: metric_rows(out) >= 1)
        before = snapshot(out)
        status, err = run_cli(train_argv(out, demos, "--seed", "1", steps=steps), capsys)
        assert status == 6 and f"process {first.pid}" in one_line_error(err)
        status, err = run_cli(train_argv(out, demos, "--resume", steps=steps), capsys)
        assert status == 6 and f"process {first.pid}" in one_line_error(err)
        status, err = run_cli(["eval", str(out)], capsys)
        assert status == 6 and f"process {first.pid}" in one_line_error(err)
        assert first.poll() is None, "the first run ended before the second writer tried"
        after = snapshot(out)
        assert after["config.json"] == before["config.json"]
    finally:
        _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    config, summary = strict_json(out / "config.json"), strict_json(out / "summary.json")
    assert config["seed"] == summary["seed"] == 0
    assert_same_result(out, long_reference)
    LEDGER.fault(nothing_lost=True)


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path, demos, reference):
    out = tmp_path / "run"
    killed = run_child(train_argv(out, demos), kill_at=2, mode="before")
    assert killed.returncode == -signal.SIGKILL
    resumed = run_child(train_argv(out, demos, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert_same_result(out, reference)
    LEDGER.fault(nothing_lost=True)


# ----------------------------------------------------------------------------------------------
# SIGKILL, SIGTERM, full disks
# ----------------------------------------------------------------------------------------------

def test_killed_before_its_first_checkpoint_a_fresh_start_is_refused_and_resume_is_exact(
        tmp_path, demos, reference, capsys):
    out = tmp_path / "run"
    killed = run_child(train_argv(out, demos), kill_at=1, mode="before")
    assert killed.returncode == -signal.SIGKILL
    assert metric_rows(out) == 2 and not list((out / "checkpoints").iterdir())
    before = snapshot(out)
    status, err = run_cli(train_argv(out, demos), capsys)
    assert status == 2 and "already holds files" in one_line_error(err)
    assert snapshot(out) == before
    LEDGER.bad_input(nothing_lost=True)
    status, err = run_cli(train_argv(out, demos, "--resume"), capsys)
    assert status == 0, err
    assert_same_result(out, reference)  # the dead run's rows were dropped, not mixed in
    LEDGER.fault(nothing_lost=True)


def test_killed_while_writing_a_checkpoint_resumes_exactly(tmp_path, demos, reference):
    out = tmp_path / "run"
    killed = run_child(train_argv(out, demos), kill_at=2, mode="half")
    assert killed.returncode == -signal.SIGKILL
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert names == [".ckpt-00000004.pt.killed.tmp", "ckpt-00000002.pt"]
    resumed = run_child(train_argv(out, demos, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert_same_result(out, reference)
    LEDGER.fault(nothing_lost=True)


@pytest.mark.parametrize("draw", [0, pytest.param(1, marks=pytest.mark.slow),
                                  pytest.param(2, marks=pytest.mark.slow)])
def test_sigkill_at_a_random_moment_then_resume_is_exact(draw, tmp_path, demos,
                                                         long_reference):
    # The moment is drawn in progress, not in seconds, so that a faster machine cannot finish
    # the run first: a random iteration between the first and the last few, then a random
    # fraction of an iteration's time after it.
    rng = random.Random(1000 + draw)
    rows = metric_rows(long_reference)
    target = rng.randint(1, max(1, rows - 5))
    out = tmp_path / "run"
    child = start_cli(train_argv(out, demos, steps=LONG))
    wait_for(lambda: metric_rows(out) >= target)
    time.sleep(rng.uniform(0.0, 0.03))
    child.kill()
    child.communicate(timeout=60)
    if (out / "summary.json").exists():
        pytest.fail("the run finished before the kill; draw an earlier moment")
    resumed = run_child(train_argv(out, demos, "--resume", steps=LONG))
    assert resumed.returncode == 0, resumed.stderr
    assert_same_result(out, long_reference)
    LEDGER.fault(nothing_lost=True)


def test_sigterm_stops_with_status_130_and_the_run_resumes_exactly(tmp_path, demos,
                                                                   long_reference):
    out = tmp_path / "run"
    child = start_cli(train_argv(out, demos, steps=LONG))
    wait_for(lambda: (out / "checkpoints" / "ckpt-00000002.pt").exists())
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=60)
    if child.returncode == 0:
        pytest.fail("the run finished before SIGTERM arrived")
    assert child.returncode == 130 and "interrupted" in one_line_error(stderr)
    resumed = run_child(train_argv(out, demos, "--resume", steps=LONG))
    assert resumed.returncode == 0, resumed.stderr
    assert_same_result(out, long_reference)
    LEDGER.fault(nothing_lost=True)


@pytest.mark.parametrize("where", ["checkpoint", "metrics", "summary"])
def test_a_full_disk_is_an_io_error_and_the_run_resumes_exactly(where, tmp_path, demos,
                                                                 reference, capsys, monkeypatch):
    import irlgan.checkpoint as ck
    import irlgan.control._run as control_run
    import irlgan.runs as runs

    out = tmp_path / "run"
    calls = [0]

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out))

    if where == "checkpoint":
        original = ck.atomic_write

        def atomic_write(path, write):
            calls[0] += 1
            if calls[0] == 2:
                full()
            return original(path, write)

        monkeypatch.setattr(ck, "atomic_write", atomic_write)
    elif where == "metrics":
        original_append = runs.MetricsLog.append

        def append(self, row):
            calls[0] += 1
            if calls[0] == 3:
                full()
            return original_append(self, row)

        monkeypatch.setattr(runs.MetricsLog, "append", append)
    else:
        monkeypatch.setattr(control_run, "write_json", full)
    status, err = run_cli(train_argv(out, demos), capsys)
    assert status == 4 and "No space left" in one_line_error(err)
    kept = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert kept and all(not n.endswith(".tmp") for n in kept), kept
    monkeypatch.undo()  # the disk has room again
    status, err = run_cli(train_argv(out, demos, "--resume"), capsys)
    assert status == 0, err
    assert_same_result(out, reference)
    LEDGER.fault(nothing_lost=True)


# ----------------------------------------------------------------------------------------------
# Divergence
# ----------------------------------------------------------------------------------------------

def test_divergence_stops_with_its_cause_and_keeps_the_last_good_checkpoint(
        tmp_path, demos, reference, capsys, monkeypatch):
    from irlgan.rl import MaxEntPPO

    out = tmp_path / "run"
    calls = [0]
    original = MaxEntPPO.learn_from

    def learn_from(self, *args, **kwargs):
        stats = original(self, *args, **kwargs)
        calls[0] += 1
        if calls[0] == 5:  # the policy's weights blow up in iteration 5
            with torch.no_grad():
                next(self.policy.parameters()).fill_(float("nan"))
        return stats

    monkeypatch.setattr(MaxEntPPO, "learn_from", learn_from)
    status, err = run_cli(train_argv(out, demos), capsys)
    line = one_line_error(err)
    assert status == 5
    assert "iteration 5" in line and "policy parameter is not finite" in line
    assert "ppo.learning_rate" in line and "ckpt-00000004.pt, is kept" in line
    assert not (out / "summary.json").exists() and metric_rows(out) == 4
    state = irlgan.checkpoint.load_checkpoint(out / "checkpoints" / "ckpt-00000004.pt")
    assert all(torch.isfinite(v).all() for v in state["trainer"]["policy"].values())
    monkeypatch.undo()
    status, err = run_cli(train_argv(out, demos, "--resume"), capsys)
    assert status == 0, err
    assert_same_result(out, reference)
    LEDGER.fault(nothing_lost=True)


@pytest.mark.parametrize(("argv", "names"), [
    (["--set", "ppo.learning_rate=1e9"], "ppo.learning_rate = 1e+09"),
    (["--set", "disc_lr=1e7"], "disc_lr = 1e+07"),
])
def test_a_diverging_setting_is_named_and_leaves_no_folder(argv, names, tmp_path, demos,
                                                           capsys):
    out = tmp_path / "run"
    status, err = run_cli(train_argv(out, demos, *argv), capsys)
    line = one_line_error(err)
    assert status == 5 and "training diverged" in line and names in line
    assert not out.exists()
    LEDGER.bad_input(nothing_lost=True)


def test_a_diverging_density_run_is_named(tmp_path, capsys):
    out = tmp_path / "ebm"
    status, err = run_cli(["train", "ebm", "--data", "rings", "--steps", "20", "--out", str(out),
                           "--quiet", "--set", "energy_lr=1e6"], capsys)
    line = one_line_error(err)
    assert status == 5 and "energy_lr = 1e+06" in line and not out.exists()
    LEDGER.bad_input(nothing_lost=True)


# ----------------------------------------------------------------------------------------------
# eval never changes what training wrote
# ----------------------------------------------------------------------------------------------

def test_eval_writes_beside_the_summary_and_refuses_too_few_episodes(tmp_path, reference,
                                                                     capsys):
    run = copy_run(reference, tmp_path / "run")
    before = snapshot(run)
    status, err = run_cli(["eval", str(run), "--episodes", "5"], capsys)
    assert status == 2 and "at least 20 episodes" in one_line_error(err)
    assert snapshot(run) == before
    LEDGER.bad_input(nothing_lost=True)
    # By default both evaluate on the 50 seeds the demonstrations' references were measured on.
    status, err = run_cli(["eval", str(run), "--quiet"], capsys)
    assert status == 0, err
    after = snapshot(run)
    added = {k for k in after if k not in before}
    assert added == {"evals/ckpt-00000006-50ep.json"}
    assert {k: after[k] for k in before} == before, "eval changed a file of the training"
    result = strict_json(run / "evals" / "ckpt-00000006-50ep.json")
    training = strict_json(run / "summary.json")
    assert result["schema"] == "irlgan.eval" and result["eval_episodes"] == 50
    assert training["eval_seeds"] == result["eval_seeds"] == list(range(10**6, 10**6 + 50))
    assert result["return_mean"] == training["return_mean"]
    assert result["normalized_return"] == training["normalized_return"] is not None
    # On other seeds the return is raw, with the reason.
    status, err = run_cli(["eval", str(run), "--episodes", "20", "--quiet"], capsys)
    assert status == 0, err
    other = strict_json(run / "evals" / "ckpt-00000006-20ep.json")
    assert other["normalized_return"] is None and other["eval_episodes"] == 20
    assert "measured on seeds 1000000-1000049" in other["normalized_return_note"]


def test_eval_killed_at_a_random_moment_changes_nothing(tmp_path, reference):
    run = copy_run(reference, tmp_path / "run")
    before = snapshot(run)
    child = start_cli(["eval", str(run), "--episodes", "400", "--quiet"])
    time.sleep(random.Random(7).uniform(1.0, 2.5))
    child.kill()
    child.communicate(timeout=60)
    after = snapshot(run)
    assert {k: after.get(k) for k in before} == before
    for extra in set(after) - set(before):  # an eval that finished wrote a complete file
        strict_json(run / extra)
    assert not [p for p in run.rglob("*.tmp")]
    LEDGER.fault(nothing_lost=True)


# ----------------------------------------------------------------------------------------------
# Read-only folders: permissions dropped for real in a child process
# ----------------------------------------------------------------------------------------------

def _drop_file_permission_override() -> None:  # pragma: no cover - runs in the child
    """Runs in the child before exec: removes CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the
    capability bounding set, so that even root obeys file permissions after exec."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "cannot drop the capability")


RO_CHILD = r"""
import builtins, os, sys, tempfile
ROOTS = tuple(sys.argv[1].split(os.pathsep))
def refused(path):
    path = os.path.abspath(os.fspath(path))
    return any(path == r or path.startswith(r + os.sep) for r in ROOTS)
def deny(path):
    raise PermissionError(13, "Permission denied", os.fspath(path))
real_open, real_os_open = builtins.open, os.open
real_mkdir, real_mkstemp = os.mkdir, tempfile.mkstemp
def guarded_open(file, mode="r", *a, **k):
    writes = any(c in mode for c in "wax+")
    if writes and isinstance(file, (str, bytes, os.PathLike)) and refused(file):
        deny(file)
    return real_open(file, mode, *a, **k)
def guarded_os_open(path, flags, *a, **k):
    if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and refused(path):
        deny(path)
    return real_os_open(path, flags, *a, **k)
def guarded_mkdir(path, *a, **k):
    if refused(path):
        deny(path)
    return real_mkdir(path, *a, **k)
def guarded_mkstemp(*a, dir=None, **k):
    if dir is not None and refused(dir):
        deny(dir)
    return real_mkstemp(*a, dir=dir, **k)
builtins.open, os.open = guarded_open, guarded_os_open
os.mkdir, tempfile.mkstemp = guarded_mkdir, guarded_mkstemp
from irlgan.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _can_drop_permission_override() -> bool:
    if os.environ.get("IRLGAN_TEST_READ_ONLY_BY_INJECTION"):  # to exercise the other path
        return False
    if os.geteuid() != 0:
        return True  # an ordinary user obeys file permissions anyway
    try:
        done = subprocess.run([sys.executable, "-c", "pass"], timeout=60, check=False,
                              preexec_fn=_drop_file_permission_override)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def run_read_only(argv: list[str], home: Path,
                  read_only: list[Path]) -> subprocess.CompletedProcess:
    """`irlgan ARGV` in a child for which the folders `read_only` (made 0555/0444 by the caller)
    cannot be written: for real, by file permissions (root drops its override capabilities);
    where the sandbox forbids that, by refusing the child's writes there with EACCES."""
    env = child_env()
    env.update(HOME=str(home), MPLCONFIGDIR=str(home / "mpl"))
    if _can_drop_permission_override():
        command = [sys.executable, "-m", "irlgan.cli", *argv]
        preexec = _drop_file_permission_override if os.geteuid() == 0 else None
    else:
        roots = os.pathsep.join(str(p.resolve()) for p in read_only)
        command, preexec = [sys.executable, "-c", RO_CHILD, roots, *argv], None
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                          check=False, preexec_fn=preexec)


@pytest.fixture
def shared_tmp():
    """A folder an unprivileged child can reach (pytest's own is private to its user)."""
    path = Path(tempfile.mkdtemp(prefix="irlgan-faults-"))
    path.chmod(0o777)
    (path / "home").mkdir(mode=0o777)
    (path / "home").chmod(0o777)
    yield path
    for sub in path.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o777)
    shutil.rmtree(path, ignore_errors=True)


def make_read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def test_eval_of_a_read_only_run_prints_the_result_and_says_it_was_not_written(
        shared_tmp, reference, demos):
    run = copy_run(reference, shared_tmp / "run")
    shutil.copytree(demos, shared_tmp / "demos")
    config = json.loads((run / "config.json").read_text())
    config["demos"] = str(shared_tmp / "demos")
    (run / "config.json").write_text(json.dumps(config))
    make_read_only(run)
    before = snapshot(run)
    done = run_read_only(["eval", str(run)], shared_tmp / "home", [run])
    assert done.returncode == 4, done.stderr
    line = one_line_error(done.stderr)
    assert "Permission denied" in line and "printed above" in line
    printed = json.loads(done.stdout)
    assert printed["return_mean"] == strict_json(reference / "summary.json")["return_mean"]
    assert snapshot(run) == before
    target = shared_tmp / "home" / "result.json"
    done = run_read_only(["eval", str(run), "--output", str(target), "--quiet"],
                         shared_tmp / "home", [run])
    assert done.returncode == 0, done.stderr
    assert strict_json(target)["return_mean"] == printed["return_mean"]
    LEDGER.fault(nothing_lost=True)


def test_a_read_only_out_is_an_io_error_that_creates_nothing(shared_tmp, demos):
    shutil.copytree(demos, shared_tmp / "demos")
    parent = shared_tmp / "locked"
    parent.mkdir()
    parent.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH
                 | stat.S_IXOTH)
    done = run_read_only(train_argv(parent / "run", shared_tmp / "demos"),
                         shared_tmp / "home", [parent])
    assert done.returncode == 4, done.stderr
    assert "Permission denied" in one_line_error(done.stderr)
    assert list(parent.iterdir()) == []
    LEDGER.fault(nothing_lost=True)


# ----------------------------------------------------------------------------------------------
# Inputs: demonstrations by content, against the environment, files missing
# ----------------------------------------------------------------------------------------------

def test_resume_accepts_the_same_demonstrations_elsewhere_and_refuses_changed_ones(
        tmp_path, demos, stopped, reference, capsys):
    run = copy_run(stopped, tmp_path / "run")
    changed = tmp_path / "changed"
    shutil.copytree(demos, changed)
    loaded = irlgan.Demonstrations.load(changed)
    actions = [a.copy() for a in loaded.actions]
    actions[3][7, 0] = np.float32(actions[3][7, 0] * 0.5)
    irlgan.Demonstrations.from_arrays(
        loaded.observations, actions, loaded.terminated, returns=loaded.returns,
        env_id=loaded.env_id, expert_return=loaded.expert_return,
        random_return=loaded.random_return, reference_seeds=loaded.reference_seeds).save(changed)
    before = snapshot(run)
    status, err = run_cli(train_argv(run, changed, "--resume"), capsys)
    assert status == 2 and "not the ones it was trained on" in one_line_error(err)
    assert snapshot(run) == before
    LEDGER.bad_input(nothing_lost=True)
    moved = tmp_path / "elsewhere" / "same"
    shutil.copytree(demos, moved)
    status, err = run_cli(train_argv(run, moved, "--resume"), capsys)
    assert status == 0, err
    assert_same_result(run, reference)


def test_demonstrations_outside_the_spaces_are_refused_naming_the_worst(tmp_path, demos,
                                                                        capsys):
    loaded = irlgan.Demonstrations.load(demos)
    cases = {
        "action": ([o for o in loaded.observations],
                   [a * (50 if i == 2 else 1) for i, a in enumerate(loaded.actions)]),
        "observation": ([o if i != 5 else np.where(np.arange(len(o))[:, None] == 9, 1e30, o)
                         for i, o in enumerate(loaded.observations)], loaded.actions),
    }
    for name, (obs, act) in cases.items():
        folder = tmp_path / name
        irlgan.Demonstrations.from_arrays(obs, act, loaded.terminated).save(folder)
        out = tmp_path / f"run-{name}"
        status, err = run_cli(train_argv(out, folder), capsys)
        line = one_line_error(err)
        assert status == 2 and f"outside the environment's {name} space" in line
        assert ("episode 2" if name == "action" else "episode 5, step 9") in line
        assert not out.exists()
        LEDGER.bad_input(nothing_lost=True)


@pytest.mark.parametrize("missing", ["arrays.npz", "metadata.json"])
def test_a_demonstrations_folder_without_its_files_is_named(missing, tmp_path, demos, capsys):
    folder = tmp_path / "demos"
    shutil.copytree(demos, folder)
    (folder / missing).unlink()
    out = tmp_path / "run"
    status, err = run_cli(train_argv(out, folder), capsys)
    assert status == 2 and missing in one_line_error(err) and not out.exists()
    LEDGER.bad_input(nothing_lost=True)


@pytest.mark.parametrize("argv", [
    ["train", "airl", "--env", "NoSuchEnv-v0"],
    ["train", "airl", "--env", ENV, "--set", "no_such_setting=1"],
    ["train", "airl", "--env", ENV, "--set", "disc_lr=fast"],
    ["train", "airl", "--env", ENV, "--set", "eval_episodes=5"],
    ["train", "ebm", "--data", "rings", "--set", "energy_lr=-1"],
    ["train", "ebm", "--data", "no_such_data"],
    ["expert", "--env", "NoSuchEnv-v0"],
])
@pytest.mark.parametrize("existing", [False, True])
def test_a_failed_command_leaves_no_folder_behind(argv, existing, tmp_path, demos, capsys):
    out = tmp_path / "out"
    if existing:
        out.mkdir()
    argv = [*argv, "--out", str(out), "--quiet"]
    if argv[1] in ("airl",):
        argv += ["--demos", str(demos)]
    status, err = run_cli(argv, capsys)
    assert status == 2, err
    one_line_error(err)
    assert (list(out.iterdir()) == []) if existing else not out.exists()
    LEDGER.bad_input(nothing_lost=True)


def test_a_checkpoint_of_another_algorithm_is_refused(tmp_path, demos, stopped, reference,
                                                      capsys):
    other = tmp_path / "gan-gcl"
    assert cli.main(train_argv(other, demos, algo="gan-gcl", steps=140)) == 0
    run = copy_run(stopped, tmp_path / "run")
    shutil.copy(other / "checkpoints" / "ckpt-00000002.pt",
                run / "checkpoints" / "ckpt-00000005.pt")
    before = snapshot(run)
    status, err = run_cli(train_argv(run, demos, "--resume"), capsys)
    assert status == 3 and "other settings" in one_line_error(err)
    assert snapshot(run) == before
    LEDGER.fault(nothing_lost=True)
    (run / "checkpoints" / "ckpt-00000005.pt").unlink()
    status, err = run_cli(train_argv(run, demos, "--resume"), capsys)
    assert status == 0, err
    assert_same_result(run, reference)


# ----------------------------------------------------------------------------------------------
# Corrupted, truncated and foreign files of every kind a run reads
# ----------------------------------------------------------------------------------------------

def _random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _foreign_torch(path: Path) -> None:
    torch.save({"state_dict": {"w": torch.zeros(3)}}, path)


class _Payload:
    def __reduce__(self):
        return (print, ("this would run",))


def _pickled_code(path: Path) -> None:
    torch.save({"format": "irlgan-checkpoint", "payload": _Payload()}, path)


def _density_kind(path: Path) -> None:
    irlgan.checkpoint.save_checkpoint(path, {"iteration": 1}, kind="irlgan-density")


def _all_checkpoints(corrupt):
    def apply(run: Path) -> None:
        for path in (run / "checkpoints").glob("ckpt-*.pt"):
            corrupt(path)
    return apply


def _file(name: str, corrupt):
    return lambda run: corrupt(run / name)


def _json_text(text: str):
    return lambda path: path.write_text(text)


CORRUPTIONS = {
    "config random bytes": (_file("config.json", _random_bytes), 3),
    "config truncated": (_file("config.json", _truncate), 3),
    "config a JSON list": (_file("config.json", _json_text("[1, 2]")), 3),
    "config of a density run": (_file("config.json", _json_text('{"task": "density"}')), 2),
    "all checkpoints random bytes": (_all_checkpoints(_random_bytes), 3),
    "all checkpoints truncated": (_all_checkpoints(_truncate), 3),
    "all checkpoints foreign torch files": (_all_checkpoints(_foreign_torch), 3),
    "all checkpoints pickled code": (_all_checkpoints(_pickled_code), 3),
    "all checkpoints of a density run": (_all_checkpoints(_density_kind), 3),
    "metrics random bytes": (_file("metrics.csv", _random_bytes), 3),
    "metrics another program's CSV": (_file("metrics.csv", _json_text("a,b\n1,2\n")), 3),
}
RECOVERABLE = {
    "newest checkpoint random bytes": lambda run: _random_bytes(
        run / "checkpoints" / "ckpt-00000004.pt"),
    "metrics with a half-written row": lambda run: (run / "metrics.csv").write_text(
        (run / "metrics.csv").read_text() + "5,350,1.0"),
    "a stray temporary file": lambda run: (run / "checkpoints" / ".ckpt-00000006.pt.x.tmp")
    .write_bytes(b"half"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_damaged_run_folder_is_refused_with_one_line_and_resumes_once_repaired(
        case, tmp_path, demos, stopped, reference, capsys):
    corrupt, expected = CORRUPTIONS[case]
    run = copy_run(stopped, tmp_path / "run")
    corrupt(run)
    before = snapshot(run)
    status, err = run_cli(train_argv(run, demos, "--resume"), capsys)
    one_line_error(err)
    assert status == expected, err
    assert snapshot(run) == before
    if case.startswith(("config", "all checkpoints")):
        status, err = run_cli(["eval", str(run)], capsys)
        assert status in (2, 3), err
        one_line_error(err)
        assert snapshot(run) == before
    LEDGER.fault(nothing_lost=True)
    shutil.rmtree(run)
    copy_run(stopped, run)  # repaired from a backup: resume ends where it should
    status, err = run_cli(train_argv(run, demos, "--resume"), capsys)
    assert status == 0, err
    assert_same_result(run, reference)


@pytest.mark.parametrize("case", sorted(RECOVERABLE))
def test_damage_the_run_can_recover_from_is_recovered(case, tmp_path, demos, stopped,
                                                      reference, capsys):
    run = copy_run(stopped, tmp_path / "run")
    RECOVERABLE[case](run)
    status, err = run_cli(train_argv(run, demos, "--resume"), capsys)
    assert status == 0, err
    assert_same_result(run, reference)
    LEDGER.fault(nothing_lost=True)


DEMO_DAMAGE = {
    "arrays random bytes": ("arrays.npz", _random_bytes, "not an .npz archive"),
    "arrays truncated": ("arrays.npz", _truncate, "not a complete .npz archive"),
    "metadata random bytes": ("metadata.json", _random_bytes, "not valid JSON"),
    "metadata of another format": ("metadata.json",
                                   _json_text('{"format": "something-else"}'), "format"),
}


@pytest.mark.parametrize("case", sorted(DEMO_DAMAGE))
def test_damaged_demonstrations_are_named_and_create_nothing(case, tmp_path, demos, capsys):
    name, corrupt, words = DEMO_DAMAGE[case]
    folder = tmp_path / "demos"
    shutil.copytree(demos, folder)
    corrupt(folder / name)
    out = tmp_path / "run"
    status, err = run_cli(train_argv(out, folder), capsys)
    line = one_line_error(err)
    assert status == 2 and name in line and words in line
    assert not out.exists()
    LEDGER.bad_input(nothing_lost=True)


@pytest.mark.parametrize("corrupt", [_random_bytes, _truncate, _foreign_torch, _pickled_code])
def test_a_damaged_model_file_is_a_checkpoint_error(corrupt, tmp_path, reference):
    model = tmp_path / "model.pt"
    shutil.copy(reference / "model.pt", model)
    corrupt(model)
    with pytest.raises(irlgan.errors.CheckpointError) as caught:
        irlgan.load(model)
    assert "\n" not in str(caught.value) and "weights_only" not in str(caught.value)
    LEDGER.fault(nothing_lost=True)


# ----------------------------------------------------------------------------------------------
# Strict JSON everywhere
# ----------------------------------------------------------------------------------------------

def test_every_json_file_of_runs_and_the_demo_is_strict_with_a_schema(tmp_path, reference):
    from irlgan.demo import run_demo

    run_demo(tmp_path / "demo", iterations=3, progress=False, plots=False)
    for folder in (reference, tmp_path / "demo"):
        for path in folder.rglob("*.json"):
            data = strict_json(path)
            if path.name in ("config.json", "summary.json"):
                assert data["schema"].startswith("irlgan.") and data["schema_version"] == 1
    summary = strict_json(tmp_path / "demo" / "summary.json")
    assert summary["methods"][0]["seconds"] is None  # the true cost was not trained: null
