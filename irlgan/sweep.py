"""Sweeps: tasks x methods x seeds as resumable run folders, scheduled on Ray (`irlgan sweep`).

A sweep file (TOML) names the methods, the seeds and the tasks, each task with its budget, its
``--set`` overrides and where its demonstrations come from: a folder, a Minari dataset
(``minari:ID``), or an expert trained by the sweep itself (``[tasks.expert]``)::

    [sweep]
    methods = ["airl", "gail"]
    seeds = [0, 1]

    [[tasks]]
    env = "irlgan/PointMass-v0"
    steps = 20_000
    set = { num_envs = 4, steps_per_env = 50 }
    expert = { steps = 30_000, seed = 0 }

    [methods.gail]
    set = { disc_steps = 1 }       # overrides for one method, on every task

    [resources]
    cpus_per_trial = 1             # Ray's scheduling unit
    threads_per_trial = 1          # torch threads inside a trial (IRLGAN_THREADS)
    gpus_per_trial = 0             # > 0: Ray assigns GPUs and training trials get --device cuda

Every trial is the command a user would type, `irlgan expert ...` or `irlgan train ...`, run as
a child process of a Ray task in ``OUT/trials/<name>/``; a trial in a sweep is therefore the
same computation as the same command run by hand, bit for bit. Experts are trials too: the
trials that need one get it as a Ray dependency and start when it is written.

Fault tolerance: a child killed mid-trial is started again with ``--resume`` (it continues from
its last checkpoint, which is exact for classic control and MuJoCo); a Ray worker that dies is
retried by Ray, and its trial resumes the same way. A sweep started again skips the trials that
finished (their ``summary.json`` or ``expert.json`` is there) and resumes the others.

Results: each finished trial's summary comes back through Ray (not through a shared file), and
the driver rewrites ``OUT/results.csv`` (one row per trial) and ``OUT/summary.csv`` (per task and
method: the seeds, the mean normalised return with its 95% t-interval, the mean wall time) as
trials finish. With ``--address`` on a cluster, OUT must be a path that every node sees for a
retried trial to find its checkpoints.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["SweepSpec", "Trial", "load_spec", "plan_trials", "run_sweep", "summarise_results",
           "t_interval"]

_RESULT_FIELDS = ["trial", "kind", "env_id", "method", "seed", "status", "normalized_return",
                  "return_mean", "return_std", "env_steps", "wall_s", "env_steps_per_s",
                  "attempts", "note"]
_SUMMARY_FIELDS = ["env_id", "method", "seeds", "normalized_return_mean", "ci95_low",
                   "ci95_high", "return_mean_mean", "wall_s_mean", "failed"]
# Exit statuses of `irlgan` that another attempt cannot change (bad input, an incompatible
# checkpoint, a divergence): the trial fails at once. Killed children are retried.
_FINAL_STATUSES = {1, 2, 3, 5}


# ----------------------------------------------------------------------------------------------
# The sweep file
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskSpec:
    """One task of a sweep."""

    env: str
    steps: int | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    demos: str | None = None
    expert_steps: int | None = None
    expert_seed: int = 0
    expert_overrides: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file."""

    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    tasks: tuple[TaskSpec, ...]
    method_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    cpus_per_trial: float = 1.0
    threads_per_trial: int = 1
    gpus_per_trial: float = 0.0
    max_attempts: int = 3


def _setting_text(key: str, value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                       for v in value):
        return ",".join(str(v) for v in value)
    raise ValueError(f"{where}: setting {key!r} must be a number, a string, a boolean or a list "
                     f"of numbers, got {value!r}")


def _settings(table: Any, where: str) -> dict[str, str]:
    from irlgan.config import flatten_overrides

    if table is None:
        return {}
    if not isinstance(table, dict):
        raise ValueError(f"{where}: 'set' must be a table of settings")
    return {k: _setting_text(k, v, where) for k, v in flatten_overrides(table).items()}


def _int(value: Any, name: str, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def _only(table: dict[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def load_spec(path: str | os.PathLike[str]) -> SweepSpec:
    """Reads and checks a sweep file; errors name the file and the key."""
    import tomllib

    from irlgan.algorithms import ALGORITHMS

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"sweep file {path} not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error})") from None
    _only(data, ("sweep", "tasks", "methods", "resources"), str(path))
    head = data.get("sweep")
    if not isinstance(head, dict):
        raise ValueError(f"{path}: needs a [sweep] table with methods and seeds")
    _only(head, ("methods", "seeds", "max_attempts", "name"), f"{path} [sweep]")
    methods = head.get("methods")
    if not isinstance(methods, list) or not methods:
        raise ValueError(f"{path} [sweep]: methods must be a non-empty list")
    for method in methods:
        if method not in ALGORITHMS:
            raise ValueError(f"{path} [sweep]: unknown method {method!r}; known: "
                             f"{sorted(ALGORITHMS)}")
    seeds = head.get("seeds")
    if not isinstance(seeds, list) or not seeds:
        raise ValueError(f"{path} [sweep]: seeds must be a non-empty list of integers")
    seeds = [_int(s, "each seed", f"{path} [sweep]") for s in seeds]
    if len(set(seeds)) != len(seeds) or len(set(methods)) != len(methods):
        raise ValueError(f"{path} [sweep]: a method or a seed is listed twice")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise ValueError(f"{path}: needs at least one [[tasks]] entry")
    parsed = []
    for index, task in enumerate(tasks):
        where = f"{path} [[tasks]] #{index + 1}"
        if not isinstance(task, dict):
            raise ValueError(f"{where}: must be a table")
        _only(task, ("env", "steps", "set", "demos", "expert"), where)
        if not isinstance(task.get("env"), str) or not task["env"]:
            raise ValueError(f"{where}: needs env = \"<gymnasium id>\"")
        expert = task.get("expert")
        if (expert is None) == (task.get("demos") is None):
            raise ValueError(f"{where}: give exactly one of demos = \"DIR | minari:ID\" or an "
                             f"expert = {{ steps = N }} table")
        expert_steps = expert_seed = None
        expert_overrides: dict[str, str] = {}
        if expert is not None:
            if not isinstance(expert, dict):
                raise ValueError(f"{where}: expert must be a table")
            _only(expert, ("steps", "seed", "set"), f"{where} expert")
            expert_steps = expert.get("steps")
            if expert_steps is not None:
                expert_steps = _int(expert_steps, "expert steps", where, 1)
            expert_seed = _int(expert.get("seed", 0), "expert seed", where)
            expert_overrides = _settings(expert.get("set"), f"{where} expert")
        steps = task.get("steps")
        parsed.append(TaskSpec(
            env=task["env"], steps=None if steps is None else _int(steps, "steps", where, 1),
            overrides=_settings(task.get("set"), where), demos=task.get("demos"),
            expert_steps=expert_steps, expert_seed=expert_seed or 0,
            expert_overrides=expert_overrides))
    envs = [t.env for t in parsed]
    if len(set(envs)) != len(envs):
        raise ValueError(f"{path}: a task env is listed twice")
    method_overrides = {}
    for method, table in (data.get("methods") or {}).items():
        if method not in methods:
            raise ValueError(f"{path} [methods.{method}]: {method!r} is not in [sweep] methods")
        _only(table, ("set",), f"{path} [methods.{method}]")
        method_overrides[method] = _settings(table.get("set"), f"{path} [methods.{method}]")
    resources = data.get("resources") or {}
    _only(resources, ("cpus_per_trial", "threads_per_trial", "gpus_per_trial"),
          f"{path} [resources]")
    cpus = resources.get("cpus_per_trial", 1)
    gpus = resources.get("gpus_per_trial", 0)
    for name, value in (("cpus_per_trial", cpus), ("gpus_per_trial", gpus)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{path} [resources]: {name} must be a non-negative number")
    return SweepSpec(
        methods=tuple(methods), seeds=tuple(seeds), tasks=tuple(parsed),
        method_overrides=method_overrides, cpus_per_trial=float(cpus),
        threads_per_trial=_int(resources.get("threads_per_trial", 1), "threads_per_trial",
                               f"{path} [resources]", 1),
        gpus_per_trial=float(gpus),
        max_attempts=_int(head.get("max_attempts", 3), "max_attempts", f"{path} [sweep]", 1))


# ----------------------------------------------------------------------------------------------
# Trials
# ----------------------------------------------------------------------------------------------

def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@dataclass(frozen=True)
class Trial:
    """One command of a sweep, in its own run folder ``OUT/trials/<name>``."""

    name: str
    kind: str  # "expert" or "train"
    env_id: str
    method: str | None
    seed: int
    argv: tuple[str, ...]
    needs: str | None = None  # the expert trial whose folder holds the demonstrations

    def folder(self, out: Path) -> Path:
        return out / "trials" / self.name

    def done_file(self, out: Path) -> Path:
        return self.folder(out) / ("expert.json" if self.kind == "expert" else "summary.json")


def _set_args(overrides: dict[str, str]) -> list[str]:
    args: list[str] = []
    for key, value in overrides.items():
        args += ["--set", f"{key}={value}"]
    return args


def plan_trials(spec: SweepSpec, out: str | os.PathLike[str]) -> list[Trial]:
    """The sweep's trials, experts first, each with the `irlgan` arguments it runs."""
    out = Path(out)
    experts: list[Trial] = []
    trials: list[Trial] = []
    for task in spec.tasks:
        needs = None
        demos = task.demos
        if demos is None:
            name = f"expert-{_slug(task.env)}-s{task.expert_seed}"
            argv = ["expert", "--env", task.env, "--seed", str(task.expert_seed), "--quiet",
                    "--out", str(out / "trials" / name)]
            if task.expert_steps is not None:
                argv += ["--steps", str(task.expert_steps)]
            experts.append(Trial(name, "expert", task.env, None, task.expert_seed,
                                 tuple(argv + _set_args(task.expert_overrides))))
            needs, demos = name, str(out / "trials" / name)
        elif not str(demos).startswith("minari:"):
            demos = str(Path(demos).resolve())
        for method in spec.methods:
            for seed in spec.seeds:
                name = f"{method}-{_slug(task.env)}-s{seed}"
                argv = ["train", method, "--env", task.env, "--demos", demos, "--seed",
                        str(seed), "--quiet", "--out", str(out / "trials" / name)]
                if task.steps is not None:
                    argv += ["--steps", str(task.steps)]
                if spec.gpus_per_trial > 0:  # Ray gives the task its GPU(s) as CUDA_VISIBLE_DEVICES
                    argv += ["--device", "cuda"]
                overrides = {**task.overrides, **spec.method_overrides.get(method, {})}
                trials.append(Trial(name, "train", task.env, method, seed,
                                    tuple(argv + _set_args(overrides)), needs))
    return experts + trials


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the trial's process gets SIGKILL when the Ray worker that started it dies, so a
    retried trial never meets an orphan holding its run folder."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def run_trial(trial: Trial, out: str, threads: int, max_attempts: int,
              dependency: Any = None) -> dict[str, Any]:
    """Runs one trial to its end (in a Ray task, or directly): the `irlgan` command as a child
    process, started again with ``--resume`` after a kill, up to `max_attempts` times.

    Returns:
        A row of the results table (the trial's summary.json numbers and its status).
    """
    del dependency  # only orders the trial after its expert
    out_path = Path(out)
    folder = trial.folder(out_path)
    env = dict(os.environ)
    env["IRLGAN_THREADS"] = str(threads)
    env["OMP_NUM_THREADS"] = str(threads)
    attempts, status, tail = 0, None, ""
    while attempts < max_attempts and not trial.done_file(out_path).is_file():
        attempts += 1
        argv = list(trial.argv)
        if trial.kind == "train" and (folder / "config.json").is_file():
            argv.append("--resume")
        elif trial.kind == "expert" and folder.exists():
            shutil.rmtree(folder)  # `irlgan expert` does not resume: it starts again, seeded
        log = out_path / "logs" / f"{trial.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as handle:
            handle.write(f"# attempt {attempts}: irlgan {' '.join(argv)}\n")
            handle.flush()
            proc = subprocess.run([sys.executable, "-m", "irlgan.cli", *argv], env=env,
                                  stdout=handle, stderr=subprocess.STDOUT,
                                  preexec_fn=_die_with_parent if os.name == "posix" else None)
        status = proc.returncode
        if status == 0 or status in _FINAL_STATUSES:
            break
    done = trial.done_file(out_path).is_file()
    if not done:
        lines = (out_path / "logs" / f"{trial.name}.log").read_text().strip().splitlines()
        tail = lines[-1] if lines else ""
    return _row(trial, out_path, "done" if done else f"failed ({status})", attempts, tail)


def _row(trial: Trial, out: Path, status: str, attempts: int, note: str = "") -> dict[str, Any]:
    row: dict[str, Any] = {"trial": trial.name, "kind": trial.kind, "env_id": trial.env_id,
                           "method": trial.method or "", "seed": trial.seed, "status": status,
                           "attempts": attempts, "note": note}
    path = trial.done_file(out)
    if path.is_file():
        summary = json.loads(path.read_text())
        if trial.kind == "expert":
            row.update(return_mean=summary.get("expert_return"),
                       env_steps=summary.get("env_steps"), wall_s=summary.get("wall_s"),
                       env_steps_per_s=summary.get("steps_per_s"))
        else:
            for key in ("normalized_return", "return_mean", "return_std", "env_steps", "wall_s",
                        "env_steps_per_s"):
                row[key] = summary.get(key)
            if summary.get("normalized_return") is None:
                row["note"] = summary.get("normalized_return_note") or ""
    return row


# ----------------------------------------------------------------------------------------------
# The results table
# ----------------------------------------------------------------------------------------------

_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t_interval(values: list[float]) -> tuple[float, float, float]:
    """(mean, low, high): the 95% Student-t interval of the mean (NaN bounds for one value)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = sum(values) / n
    if n == 1:
        return mean, math.nan, math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    quantile = _T975[n - 2] if n - 1 <= len(_T975) else 1.96
    half = quantile * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def summarise_results(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (task, method) of the train trials: seeds, the mean normalised return and its 95%
    interval, the mean raw return and wall time, and how many trials failed."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["kind"] == "train":
            groups.setdefault((row["env_id"], row["method"]), []).append(row)
    out = []
    for (env_id, method), members in groups.items():
        done = [r for r in members if r["status"] == "done"]
        scores = [r["normalized_return"] for r in done if r.get("normalized_return") is not None]
        mean, low, high = t_interval(scores)
        returns = [r["return_mean"] for r in done if r.get("return_mean") is not None]
        walls = [r["wall_s"] for r in done if r.get("wall_s") is not None]
        out.append({
            "env_id": env_id, "method": method,
            "seeds": " ".join(str(r["seed"]) for r in sorted(done, key=lambda r: r["seed"])),
            "normalized_return_mean": mean, "ci95_low": low, "ci95_high": high,
            "return_mean_mean": sum(returns) / len(returns) if returns else math.nan,
            "wall_s_mean": sum(walls) / len(walls) if walls else math.nan,
            "failed": len(members) - len(done)})
    return out


def _write_csv(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    from irlgan._io import atomic_write

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in fields})
    data = buffer.getvalue().encode()
    atomic_write(path, lambda handle: handle.write(data))


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return "" if value is None else value


def _write_tables(out: Path, trials: list[Trial], rows: dict[str, dict[str, Any]]) -> None:
    ordered = [rows[t.name] for t in trials if t.name in rows]
    _write_csv(out / "results.csv", _RESULT_FIELDS, ordered)
    _write_csv(out / "summary.csv", _SUMMARY_FIELDS, summarise_results(ordered))


# ----------------------------------------------------------------------------------------------
# The driver
# ----------------------------------------------------------------------------------------------

def run_sweep(spec_path: str | os.PathLike[str], out: str | os.PathLike[str], *,
              address: str | None = None, workers: int | None = None,
              quiet: bool = False) -> list[dict[str, Any]]:
    """Runs (or continues) the sweep of `spec_path` in `out` on Ray.

    Args:
        spec_path: the sweep file.
        out: the sweep folder (``trials/``, ``logs/``, ``results.csv``, ``summary.csv``, and a
            copy of the sweep file as ``sweep.toml``; a folder holding another sweep's file is
            refused).
        address: an existing Ray cluster (``ray.init(address=...)``); default: a local cluster
            started in this process with `workers` CPUs (default: all).
        workers: the local cluster's CPUs.
        quiet: no progress lines.

    Returns:
        The rows of ``results.csv``.
    """
    spec = load_spec(spec_path)
    out = Path(out).resolve()
    text = Path(spec_path).read_text(encoding="utf-8")
    copy = out / "sweep.toml"
    if copy.is_file() and copy.read_text(encoding="utf-8") != text:
        raise ValueError(f"{out} holds another sweep (its sweep.toml differs from {spec_path}); "
                         f"choose another --out")
    trials = plan_trials(spec, out)
    out.mkdir(parents=True, exist_ok=True)
    copy.write_text(text, encoding="utf-8")
    rows: dict[str, dict[str, Any]] = {}
    pending = []
    for trial in trials:
        if trial.done_file(out).is_file():
            rows[trial.name] = _row(trial, out, "done", 0, "finished before this start")
        else:
            pending.append(trial)
    _write_tables(out, trials, rows)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    say(f"sweep {out}: {len(trials)} trials, {len(trials) - len(pending)} already finished")
    if pending:
        _run_on_ray(spec, out, trials, pending, rows, address, workers, say)
    return [rows[t.name] for t in trials]


def _run_on_ray(spec: SweepSpec, out: Path, trials: list[Trial], pending: list[Trial],
                rows: dict[str, dict[str, Any]], address: str | None, workers: int | None,
                say: Any) -> None:
    try:
        import ray
    except ImportError:
        raise ValueError('irlgan sweep needs Ray: pip install "irlgan[sweep]"') from None
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "configure_logging": False}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers or os.cpu_count(), **options)
    try:
        remote = ray.remote(run_trial).options(num_cpus=spec.cpus_per_trial,
                                               num_gpus=spec.gpus_per_trial, max_retries=3)
        refs: dict[str, Any] = {}
        names = {}
        for trial in pending:  # experts come first in the plan, so their refs exist
            dependency = refs.get(trial.needs) if trial.needs else None
            ref = remote.remote(trial, str(out), spec.threads_per_trial, spec.max_attempts,
                                dependency)
            refs[trial.name] = ref
            names[ref] = trial.name
        waiting = list(refs.values())
        start = time.perf_counter()
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            row = ray.get(done[0])
            rows[row["trial"]] = row
            _write_tables(out, trials, rows)
            score = row.get("normalized_return")
            shown = f"{score:.3f}" if isinstance(score, float) else row.get("note", "")
            say(f"[{len(rows)}/{len(trials)} {time.perf_counter() - start:6.0f} s] "
                f"{row['trial']}: {row['status']} {shown}")
    finally:
        if started:
            ray.shutdown()


def command(args: Any) -> int:
    """`irlgan sweep SPEC --out DIR [--address A] [--workers N] [--quiet]`."""
    rows = run_sweep(args.spec, args.out, address=args.address, workers=args.workers,
                     quiet=args.quiet)
    failed = [r["trial"] for r in rows if r["status"] != "done"]
    if not args.quiet:
        print(f"results: {Path(args.out) / 'results.csv'}, {Path(args.out) / 'summary.csv'}")
    if failed:
        print(f"irlgan sweep: {len(failed)} trial(s) failed: {', '.join(failed[:5])} (their "
              f"logs are in {Path(args.out) / 'logs'})", file=sys.stderr)
        return 1
    return 0
