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

A task is a control task (``env``, with demonstrations) or a density (``data = "rings"``,
``"8gaussians-x8"``, ``"digits"``: `irlgan train ebm|nce|flow --data`); a method is an algorithm,
or a name of your own for an algorithm with its own settings::

    [methods.nce-flow]
    algorithm = "nce"
    set = { noise = "flow" }

Every method runs on every task, so control tasks and densities go in separate sweep files.

Every trial is the command a user would type, `irlgan expert ...` or `irlgan train ...`, run as
a child process of a Ray task in ``OUT/trials/<name>/``; a trial in a sweep is therefore the
same computation as the same command run by hand, bit for bit. Experts are trials too: the
trials that need one get it as a Ray dependency and start when it is written.

Fault tolerance: a child killed mid-trial is started again with ``--resume`` (it continues from
its last checkpoint, which is exact for classic control and MuJoCo); a Ray worker that dies is
retried by Ray, and its trial resumes the same way. A sweep started again skips the trials that
finished (their ``summary.json`` or ``expert.json`` is there) and resumes the others.

Results: each finished trial's summary comes back through Ray (not through a shared file), and
the driver rewrites ``OUT/results.csv`` (one row per trial), ``OUT/summary.csv`` (per task and
method: the seeds, the metric's mean with its 95% t-interval, the mean wall time), the same as
Markdown in ``OUT/summary.md`` and as a bar chart in ``OUT/summary.png`` as trials finish (and
copies them to ``--tables DIR``, such as a folder the documentation includes). The metric is
the normalised return for control tasks, the KL gap for densities of known entropy and the test
NLL for real data. With ``--address`` on a cluster, OUT must be a path that every node sees for a
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

__all__ = ["METRICS", "SweepSpec", "TaskSpec", "Trial", "load_spec", "plan_trials",
           "plot_summary", "run_sweep", "run_trial", "summarise_results", "summary_markdown",
           "t_interval", "write_report"]

_RESULT_FIELDS = ["trial", "kind", "task", "method", "algorithm", "seed", "status", "metric",
                  "score", "normalized_return", "return_mean", "return_std", "env_steps",
                  "env_steps_per_s", "nll", "kl_gap", "bits_per_dim", "log_z_ais", "wall_s",
                  "attempts", "note"]
_SUMMARY_FIELDS = ["task", "method", "metric", "seeds", "mean", "ci95_low", "ci95_high",
                   "return_mean_mean", "wall_s_mean", "failed"]
# What a trial is scored by: control runs by their normalised return (higher is better), density
# runs by the KL gap to the data (lower is better), or by the test NLL where the data's entropy is
# unknown (real data).
METRICS = {"normalized_return": "higher", "kl_gap": "lower", "nll": "lower"}
# Exit statuses of `irlgan` that another attempt cannot change (bad input, an incompatible
# checkpoint, a divergence): the trial fails at once. Killed children are retried.
_FINAL_STATUSES = {1, 2, 3, 5}


# ----------------------------------------------------------------------------------------------
# The sweep file
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskSpec:
    """One task of a sweep: a control task (`env`, with demonstrations) or a density (`data`)."""

    env: str | None = None
    data: str | None = None
    steps: int | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    demos: str | None = None
    expert_steps: int | None = None
    expert_seed: int = 0
    expert_overrides: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The environment id or the dataset name."""
        return self.env if self.env is not None else str(self.data)


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file."""

    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    tasks: tuple[TaskSpec, ...]
    method_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    # the algorithm each method runs (a method is an algorithm, or a name given to an algorithm
    # with its own settings in [methods.NAME])
    algorithms: dict[str, str] = field(default_factory=dict)
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
    from irlgan.cli import DENSITY_ALGORITHMS

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
    if not isinstance(methods, list) or not methods or not all(
            isinstance(m, str) and m for m in methods):
        raise ValueError(f"{path} [sweep]: methods must be a non-empty list of names")
    seeds = head.get("seeds")
    if not isinstance(seeds, list) or not seeds:
        raise ValueError(f"{path} [sweep]: seeds must be a non-empty list of integers")
    seeds = [_int(s, "each seed", f"{path} [sweep]") for s in seeds]
    if len(set(seeds)) != len(seeds) or len(set(methods)) != len(methods):
        raise ValueError(f"{path} [sweep]: a method or a seed is listed twice")
    method_tables = data.get("methods") or {}
    if not isinstance(method_tables, dict):
        raise ValueError(f"{path}: [methods.NAME] entries must be tables")
    method_overrides, algorithms = {}, {}
    for method, table in method_tables.items():
        where = f"{path} [methods.{method}]"
        if method not in methods:
            raise ValueError(f"{where}: {method!r} is not in [sweep] methods")
        if not isinstance(table, dict):
            raise ValueError(f"{where}: must be a table")
        _only(table, ("set", "algorithm"), where)
        method_overrides[method] = _settings(table.get("set"), where)
        if "algorithm" in table:
            algorithms[method] = table["algorithm"]
    known = sorted(ALGORITHMS) + list(DENSITY_ALGORITHMS)
    for method in methods:
        algorithm = algorithms.setdefault(method, method)
        if algorithm not in known:
            where = (f"{path} [methods.{method}] algorithm" if method in method_tables
                     and "algorithm" in method_tables[method] else f"{path} [sweep]")
            raise ValueError(f"{where}: unknown method {algorithm!r}; known: {known} (or a name "
                             f"of your own with [methods.NAME] algorithm = \"...\")")
    tasks = data.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise ValueError(f"{path}: needs at least one [[tasks]] entry")
    parsed = []
    for index, task in enumerate(tasks):
        where = f"{path} [[tasks]] #{index + 1}"
        if not isinstance(task, dict):
            raise ValueError(f"{where}: must be a table")
        steps = task.get("steps")
        steps = None if steps is None else _int(steps, "steps", where, 1)
        if "data" in task:  # a density: no demonstrations
            _only(task, ("data", "steps", "set"), where + " (a density task)")
            if not isinstance(task["data"], str) or not task["data"]:
                raise ValueError(f"{where}: needs data = \"<dataset name>\"")
            parsed.append(TaskSpec(data=task["data"], steps=steps,
                                   overrides=_settings(task.get("set"), where)))
            continue
        _only(task, ("env", "steps", "set", "demos", "expert"), where)
        if not isinstance(task.get("env"), str) or not task["env"]:
            raise ValueError(f"{where}: needs env = \"<gymnasium id>\" (a control task) or "
                             f"data = \"<dataset name>\" (a density)")
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
        parsed.append(TaskSpec(
            env=task["env"], steps=steps, overrides=_settings(task.get("set"), where),
            demos=task.get("demos"), expert_steps=expert_steps, expert_seed=expert_seed or 0,
            expert_overrides=expert_overrides))
    names = [t.name for t in parsed]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: a task (env or data) is listed twice")
    for method in methods:  # every method runs on every task: their kinds must agree
        density = algorithms[method] in DENSITY_ALGORITHMS
        for task in parsed:
            if density != (task.data is not None):
                kind = "a density" if density else "a control"
                raise ValueError(
                    f"{path}: method {method!r} is {kind} algorithm and cannot run on task "
                    f"{task.name!r}; a sweep's methods run on every task, so put control tasks "
                    f"(env) and densities (data) in separate sweep files")
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
        method_overrides=method_overrides, algorithms=algorithms, cpus_per_trial=float(cpus),
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
    task: str  # the environment id or the dataset name
    method: str | None
    seed: int
    argv: tuple[str, ...]
    needs: str | None = None  # the expert trial whose folder holds the demonstrations
    algorithm: str | None = None  # what `method` runs (the method's own name unless renamed)

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
        if task.data is not None:
            source = ["--data", task.data]
        else:
            demos = task.demos
            if demos is None:
                name = f"expert-{_slug(task.name)}-s{task.expert_seed}"
                argv = ["expert", "--env", task.name, "--seed", str(task.expert_seed),
                        "--quiet", "--out", str(out / "trials" / name)]
                if task.expert_steps is not None:
                    argv += ["--steps", str(task.expert_steps)]
                experts.append(Trial(name, "expert", task.name, None, task.expert_seed,
                                     tuple(argv + _set_args(task.expert_overrides))))
                needs, demos = name, str(out / "trials" / name)
            elif not str(demos).startswith("minari:"):
                demos = str(Path(demos).resolve())
            source = ["--env", task.name, "--demos", demos]
        for method in spec.methods:
            algorithm = spec.algorithms.get(method, method)
            for seed in spec.seeds:
                name = f"{method}-{_slug(task.name)}-s{seed}"
                argv = ["train", algorithm, *source, "--seed", str(seed), "--quiet", "--out",
                        str(out / "trials" / name)]
                if task.steps is not None:
                    argv += ["--steps", str(task.steps)]
                if spec.gpus_per_trial > 0:  # Ray gives the task its GPU(s) as CUDA_VISIBLE_DEVICES
                    argv += ["--device", "cuda"]
                overrides = {**task.overrides, **spec.method_overrides.get(method, {})}
                trials.append(Trial(name, "train", task.name, method, seed,
                                    tuple(argv + _set_args(overrides)), needs, algorithm))
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
    row: dict[str, Any] = {"trial": trial.name, "kind": trial.kind, "task": trial.task,
                           "method": trial.method or "", "algorithm": trial.algorithm or "",
                           "seed": trial.seed, "status": status, "attempts": attempts,
                           "note": note}
    path = trial.done_file(out)
    if not path.is_file():
        return row
    summary = json.loads(path.read_text())
    if trial.kind == "expert":
        row.update(return_mean=summary.get("expert_return"), env_steps=summary.get("env_steps"),
                   wall_s=summary.get("wall_s"), env_steps_per_s=summary.get("steps_per_s"))
        return row
    if "nll" in summary:  # a density run
        for key in ("nll", "kl_gap", "bits_per_dim", "log_z_ais", "wall_s"):
            row[key] = summary.get(key)
        row["metric"] = "kl_gap" if summary.get("kl_gap") is not None else "nll"
    else:
        for key in ("normalized_return", "return_mean", "return_std", "env_steps", "wall_s",
                    "env_steps_per_s"):
            row[key] = summary.get(key)
        row["metric"] = "normalized_return"
        if summary.get("normalized_return") is None:
            row["note"] = summary.get("normalized_return_note") or ""
    row["score"] = row.get(row["metric"])
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
    """Per (task, method) of the train trials: the seeds, the metric (``normalized_return`` for
    control tasks, ``kl_gap`` or ``nll`` for densities) with its mean and 95% t-interval over
    the seeds, the mean raw return (control) and wall time, and how many trials failed (a
    trial still pending counts as neither finished nor failed)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["kind"] == "train":
            groups.setdefault((row["task"], row["method"]), []).append(row)
    out = []
    for (task, method), members in groups.items():
        done = sorted((r for r in members if r["status"] == "done"), key=lambda r: r["seed"])
        metrics = {r.get("metric") for r in done if r.get("metric")}
        # a dataset of unknown entropy scores by NLL; mixed within a group, the NLL is common
        metric = metrics.pop() if len(metrics) == 1 else ("nll" if metrics else "")
        scored = [r for r in done if metric and r.get(metric) is not None]
        scores = [r[metric] for r in scored]
        mean, low, high = t_interval(scores)
        returns = [r["return_mean"] for r in done if r.get("return_mean") is not None]
        walls = [r["wall_s"] for r in done if r.get("wall_s") is not None]
        out.append({
            "task": task, "method": method, "metric": metric,
            "seeds": " ".join(str(r["seed"]) for r in done),
            "mean": mean, "ci95_low": low, "ci95_high": high,
            "return_mean_mean": sum(returns) / len(returns) if returns else math.nan,
            "wall_s_mean": sum(walls) / len(walls) if walls else math.nan,
            "failed": sum(str(r["status"]).startswith("failed") for r in members),
            "scores": scores, "scored_seeds": [r["seed"] for r in scored]})
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


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def summary_markdown(rows: list[dict[str, Any]], planned: int | None = None,
                     title: str = "Sweep results") -> str:
    """The per-(task, method) table as Markdown: the metric's mean with its 95% interval, then
    every seed's value, the mean wall time and the failed trials."""
    summary = summarise_results(rows)
    train = [r for r in rows if r["kind"] == "train"]
    finished = sum(r["status"] == "done" for r in train)
    lines = [f"## {title}", ""]
    counted = f"{finished} of {planned if planned is not None else len(train)} training trials"
    lines += [f"{counted} finished. `normalized_return`: the expert 1, a random policy 0 (higher "
              "is better); `kl_gap`: test NLL minus the data's entropy, in nats (lower is "
              "better); `nll`: test NLL in nats (data of unknown entropy). Intervals: 95% "
              "Student-t over the seeds.", ""]
    control = any(r["return_mean_mean"] == r["return_mean_mean"] for r in summary)  # not NaN
    lines += ["| task | method | metric | mean | 95% interval | per seed | "
              + ("raw return | " if control else "") + "wall s | failed |",
              "| --- " * (8 + control) + "|"]
    for row in summary:
        interval = ("-" if math.isnan(row["ci95_low"])
                    else f"[{_number(row['ci95_low'])}, {_number(row['ci95_high'])}]")
        per_seed = ", ".join(f"{s}: {_number(v)}" for s, v in zip(row["scored_seeds"],
                                                                  row["scores"], strict=True))
        lines.append(f"| {row['task']} | {row['method']} | {row['metric'] or '-'} | "
                     f"{_number(row['mean'])} | {interval} | {per_seed or '-'} | "
                     + (f"{_number(row['return_mean_mean'], 1)} | " if control else "")
                     + f"{_number(row['wall_s_mean'], 0)} | {row['failed']} |")
    notes = {}  # why a finished trial has no score (one line per task and reason)
    for r in train:
        if r["status"] == "done" and r.get("score") is None and r.get("note"):
            notes.setdefault((r["task"], r["note"]), []).append(r.get("trial", ""))
        elif str(r["status"]).startswith("failed"):
            notes.setdefault((r["task"], f"{r['status']}: {r.get('note') or ''}".strip()),
                             []).append(r.get("trial", ""))
    if notes:
        lines.append("")
        lines += [f"- {task}, {len(names)} trial(s): {note}" for (task, note), names in
                  notes.items()]
    return "\n".join(lines) + "\n"


def plot_summary(rows: list[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """One panel per task: each method's mean (bar) with its 95% interval and every seed (dots)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from irlgan.plots import _save

    summary = [r for r in summarise_results(rows) if r["scores"]]
    if not summary:
        return
    tasks = list(dict.fromkeys(r["task"] for r in summary))
    fig, axes = plt.subplots(1, len(tasks), figsize=(max(3.6, 1.1 * len(summary) / len(tasks)
                                                         + 1.6) * len(tasks), 3.4),
                             squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        members = [r for r in summary if r["task"] == task]
        for x, row in enumerate(members):
            mean = row["mean"]
            ax.bar(x, mean, color=f"C{x % 10}", alpha=0.6, width=0.7)
            if not math.isnan(row["ci95_low"]):
                ax.errorbar(x, mean, yerr=[[mean - row["ci95_low"]], [row["ci95_high"] - mean]],
                            color="black", capsize=4, lw=1)
            ax.scatter([x] * len(row["scores"]), row["scores"], color="black", s=10, zorder=3)
        ax.set_xticks(range(len(members)), [r["method"] for r in members], rotation=30,
                      ha="right")
        metric = members[0]["metric"]
        better = METRICS.get(metric, "")
        ax.set_ylabel(f"{metric} ({better} is better)" if better else metric)
        if metric == "normalized_return":  # the expert and a random policy
            for level in (0.0, 1.0):
                ax.axhline(level, color="grey", ls="--", lw=0.8)
        if metric in ("kl_gap", "nll") and min(min(r["scores"]) for r in members) > 0:
            ax.set_yscale("log")
        ax.set_title(task, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    _save(fig, path)


def write_report(out: str | os.PathLike[str], rows: list[dict[str, Any]] | None = None,
                 planned: int | None = None, copy_to: str | os.PathLike[str] | None = None,
                 plot: bool = True) -> None:
    """Writes ``summary.md`` (and ``summary.png``) in the sweep folder `out` from its rows (by
    default those of ``results.csv``), and copies the four tables to `copy_to` if given."""
    from irlgan._io import atomic_write_text

    out = Path(out)
    if rows is None:
        rows = _read_results(out / "results.csv")
    name = out.name
    spec = out / "sweep.toml"
    if spec.is_file():
        try:
            import tomllib

            name = tomllib.loads(spec.read_text(encoding="utf-8")).get("sweep", {}).get(
                "name", name)
        except (OSError, ValueError):
            pass
    atomic_write_text(out / "summary.md", summary_markdown(rows, planned, f"Sweep `{name}`"))
    if plot:
        plot_summary(rows, out / "summary.png")
    if copy_to is not None:
        dest = Path(copy_to)
        dest.mkdir(parents=True, exist_ok=True)
        for file in ("results.csv", "summary.csv", "summary.md", "summary.png", "sweep.toml"):
            if (out / file).is_file():
                shutil.copyfile(out / file, dest / file)


def _read_results(path: Path) -> list[dict[str, Any]]:
    """The rows of a results.csv, numbers as numbers."""
    if not path.is_file():
        raise ValueError(f"{path} not found: run the sweep first")
    rows = []
    with path.open(newline="") as handle:
        for raw in csv.DictReader(handle):
            row: dict[str, Any] = {}
            for key, value in raw.items():
                if value == "":
                    row[key] = None
                elif key in ("seed", "attempts"):
                    row[key] = int(value)
                elif key == "env_steps":
                    row[key] = int(float(value))
                elif key in ("normalized_return", "return_mean", "return_std", "env_steps",
                             "env_steps_per_s", "nll", "kl_gap", "bits_per_dim", "log_z_ais",
                             "wall_s", "score"):
                    row[key] = float(value)
                else:
                    row[key] = value
            rows.append(row)
    return rows


def _attempts(out: Path, trial: Trial) -> int:
    """How many times the trial's command was started (its log has a line for each)."""
    log = out / "logs" / f"{trial.name}.log"
    if not log.is_file():
        return 0
    return sum(line.startswith("# attempt ") for line in log.read_text().splitlines())


def _write_tables(out: Path, trials: list[Trial], rows: dict[str, dict[str, Any]],
                  copy_to: Path | None = None, plot: bool = False) -> None:
    ordered = [rows[t.name] for t in trials if t.name in rows]
    _write_csv(out / "results.csv", _RESULT_FIELDS, ordered)
    _write_csv(out / "summary.csv", _SUMMARY_FIELDS, summarise_results(ordered))
    write_report(out, ordered, sum(t.kind == "train" for t in trials), copy_to, plot)


# ----------------------------------------------------------------------------------------------
# The driver
# ----------------------------------------------------------------------------------------------

def run_sweep(spec_path: str | os.PathLike[str], out: str | os.PathLike[str], *,
              address: str | None = None, workers: int | None = None,
              quiet: bool = False, tables: str | os.PathLike[str] | None = None,
              tables_only: bool = False) -> list[dict[str, Any]]:
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
        tables: a folder that also receives ``results.csv``, ``summary.csv``, ``summary.md``,
            ``summary.png`` and ``sweep.toml`` each time they change (for example one under
            ``benchmarks/results/`` that a documentation page includes).
        tables_only: write the tables from the trials that finished, and run nothing (no Ray).

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
            rows[trial.name] = _row(trial, out, "done", _attempts(out, trial),
                                    "" if tables_only else "finished before this start")
        else:
            rows[trial.name] = _row(trial, out, "pending", 0)
            pending.append(trial)
    copy_to = None if tables is None else Path(tables)
    _write_tables(out, trials, rows, copy_to, plot=True)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    say(f"sweep {out}: {len(trials)} trials, {len(trials) - len(pending)} already finished")
    if tables_only:
        return [rows[t.name] for t in trials]
    if pending:
        _run_on_ray(spec, out, trials, pending, rows, address, workers, say, copy_to)
    return [rows[t.name] for t in trials]


def _run_on_ray(spec: SweepSpec, out: Path, trials: list[Trial], pending: list[Trial],
                rows: dict[str, dict[str, Any]], address: str | None, workers: int | None,
                say: Any, copy_to: Path | None = None) -> None:
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
            # Ray starts its workers at niceness 15, so on a machine doing anything else the
            # trials would wait; a local sweep's trials run at the priority of the same commands
            # typed by hand (set RAY_worker_niceness yourself to choose otherwise).
            os.environ.setdefault("RAY_worker_niceness", "0")
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
            _write_tables(out, trials, rows, copy_to, plot=True)
            score = row.get("score")
            shown = (f"{row['metric']} {score:.3f}" if isinstance(score, float)
                     else row.get("note", ""))
            finished = sum(r["status"] != "pending" for r in rows.values())
            say(f"[{finished}/{len(trials)} {time.perf_counter() - start:6.0f} s] "
                f"{row['trial']}: {row['status']} {shown}")
    finally:
        if started:
            ray.shutdown()


def command(args: Any) -> int:
    """`irlgan sweep SPEC --out DIR [--address A] [--workers N] [--tables DIR] [--tables-only]
    [--quiet]`."""
    rows = run_sweep(args.spec, args.out, address=args.address, workers=args.workers,
                     quiet=args.quiet, tables=args.tables, tables_only=args.tables_only)
    if not args.quiet:
        print(f"results: {Path(args.out) / 'results.csv'}, {Path(args.out) / 'summary.csv'}, "
              f"{Path(args.out) / 'summary.md'}")
    if args.tables_only:
        return 0
    failed = [r["trial"] for r in rows if r["status"] != "done"]
    if failed:
        print(f"irlgan sweep: {len(failed)} trial(s) failed: {', '.join(failed[:5])} (their "
              f"logs are in {Path(args.out) / 'logs'})", file=sys.stderr)
        return 1
    return 0
