"""`irlgan demo`: exact MaxEnt IRL, GAN-GCL and GCL on the default grid world, side by side.

Everything the demo prints is measured against an exact answer: the demonstrations'
log-likelihood against the exact (L2-regularised) MaxEnt IRL optimum, the generator against the
exact soft-optimal policy of its learned cost, and the learned log Z against the exact
log-partition function.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import torch

from irlgan._io import atomic_write_text, write_csv, write_json
from irlgan.algorithms import TabularConfig, evaluate_tabular, train_tabular
from irlgan.data import sample_demonstrations, save_demonstrations
from irlgan.envs import GridWorldEnv
from irlgan.runs import LOCK_FILE, RunLock, read_config
from irlgan.tabular import log_partition, maxent_irl, soft_value_iteration

DEMONSTRATIONS = 100
DATA_SEED = 0


def run_demo(out: str | Path = "irlgan-demo", *, seed: int = 0, iterations: int = 600,
             progress: bool = True, plots: bool = True) -> dict:
    """Runs the demo and writes `config.json`, `metrics.csv`, `summary.json`, plots and a report.

    Args:
        out: output folder (created).
        seed: seed of the training runs (the demonstrations use a fixed seed).
        iterations: training iterations of GAN-GCL and GCL.
        progress: show progress bars.
        plots: write the PNG plots.

    Returns:
        The summary: one row per method.
    """
    torch.set_num_threads(1)
    out = Path(out)
    _check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        return _run(out, seed, iterations, progress, plots)


def _check_out(out: Path) -> None:
    """A demo writes into a new or empty folder, or replaces an earlier demo's output; any
    other folder holding files is refused."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file, not a folder")
    if not out.is_dir() or not any(p.name != LOCK_FILE for p in out.iterdir()):
        return
    try:
        task = read_config(out).get("task")
    except ValueError:
        task = None
    if task != "demo":
        raise ValueError(f"{out} holds files that are not an earlier demo's output; choose "
                         "another --out")


def _run(out: Path, seed: int, iterations: int, progress: bool, plots: bool) -> dict:
    (out / "plots").mkdir(parents=True, exist_ok=True)
    env = GridWorldEnv()
    problem = env.to_tabular("irlgan/GridWorld-v0")
    mdp, true_cost = problem.mdp, problem.cost
    _, _, expert = soft_value_iteration(mdp, true_cost)
    demos = sample_demonstrations(mdp, true_cost, DEMONSTRATIONS, DATA_SEED,
                                  env_id="irlgan/GridWorld-v0")
    save_demonstrations(demos, out / "demonstrations")
    states, actions = demos.states, demos.actions
    base = TabularConfig(iterations=iterations, seed=seed)

    t0 = time.perf_counter()
    reference = maxent_irl(mdp, states, actions, l2=base.l2)
    _, _, ref_policy = soft_value_iteration(mdp, reference.cost)
    ref_eval = evaluate_tabular(mdp, states, actions, reference.cost, ref_policy,
                                log_partition(mdp, reference.cost))
    ref_seconds = time.perf_counter() - t0
    truth_eval = evaluate_tabular(mdp, states, actions, true_cost, expert,
                                  log_partition(mdp, true_cost))

    runs = {}
    for algorithm in ("gan-gcl", "gcl"):
        config = TabularConfig(**{**asdict(base), "algorithm": algorithm})
        runs[algorithm] = train_tabular(mdp, states, actions, config, progress=progress)

    rows = [_row("true cost", truth_eval, reference.log_likelihood, float("nan")),
            _row("exact MaxEnt IRL", ref_eval, reference.log_likelihood, ref_seconds)]
    for name, run in runs.items():
        rows.append(_row(name.upper(), run.final, reference.log_likelihood, run.seconds))
    metrics = [{"algorithm": name, **row} for name, run in runs.items() for row in run.history]

    write_json(out / "config.json", {
        "task": "demo", "environment": "irlgan/GridWorld-v0", "states": mdp.num_states,
        "actions": mdp.num_actions, "horizon": mdp.horizon, "demonstrations": DEMONSTRATIONS,
        "data_seed": DATA_SEED, "training": asdict(base),
    }, schema="irlgan.demo-config")
    write_csv(out / "metrics.csv", metrics)
    write_json(out / "summary.json", {"methods": rows, "reference_iterations":
                                      reference.iterations,
                                      "reference_gradient_norm": reference.gradient_norm},
               schema="irlgan.demo-summary")
    table = _table(rows)
    print(table)
    if plots:
        from irlgan.plots import plot_cost_maps, plot_learning_curves, plot_log_z

        plot_cost_maps(env, {"true cost": true_cost, "exact MaxEnt IRL": reference.cost,
                             **{k.upper(): r.cost for k, r in runs.items()}},
                       out / "plots" / "cost_maps.png")
        plot_learning_curves(runs, reference.log_likelihood, out / "plots" / "learning_curves.png")
        plot_log_z(runs, out / "plots" / "log_z.png")
    atomic_write_text(out / "report.md", _report(table, mdp, plots))
    print(f"\nwrote {out}/report.md, summary.json, metrics.csv" + (" and plots/" if plots else ""))
    return {"methods": rows}


def _row(name: str, ev: dict, ll_opt: float, seconds: float) -> dict:
    return {"method": name, "log_likelihood": ev["log_likelihood"],
            "gap_to_optimum": ll_opt - ev["log_likelihood"], "kl_generator": ev.get("kl"),
            "log_z_learned": ev["log_z_learned"], "log_z_exact": ev["log_z_exact"],
            "seconds": seconds}


def _table(rows: list[dict]) -> str:
    head = (f"{'method':<18}{'log-lik':>10}{'gap':>9}{'KL(q||p)':>10}{'log Z':>10}"
            f"{'exact':>10}{'seconds':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        seconds = "" if r["seconds"] != r["seconds"] else f"{r['seconds']:.1f}"
        lines.append(f"{r['method']:<18}{r['log_likelihood']:>10.4f}{r['gap_to_optimum']:>9.4f}"
                     f"{r['kl_generator']:>10.4f}{r['log_z_learned']:>10.4f}"
                     f"{r['log_z_exact']:>10.4f}{seconds:>9}")
    return "\n".join(lines)


def _report(table: str, mdp, plots: bool) -> str:
    text = f"""# irlgan demo: GAN-GCL and GCL against exact MaxEnt IRL

Grid world `irlgan/GridWorld-v0`: {mdp.num_states} states, {mdp.num_actions} actions, horizon
{mdp.horizon}, {DEMONSTRATIONS} demonstrations sampled from the exact soft-optimal policy of the
true cost.

```
{table}
```

* **log-lik**: mean exact log-likelihood of the demonstrations under the learned cost,
  log p(τ | x0) = -c(τ) - log Z(x0), in nats per trajectory.
* **gap**: exact MaxEnt IRL optimum minus that (the supremum of the tabular likelihood, reached
  to float64 precision by Newton's method).
* **KL(q||p)**: the generator's KL to the exact soft-optimal policy of its learned cost, per
  trajectory (for the exact rows, the soft-optimal policy itself, so 0).
* **log Z**: the learned log Z (GAN-GCL: a trained parameter; GCL: the self-consistent
  importance-sampling estimate), and **exact** the exact log-partition of the learned cost.
  Tabular costs are identified only up to a constant per step (and shaping), so log Z values of
  different methods are not comparable with each other, only with their own exact value.
"""
    if plots:
        text += """
![cost maps](plots/cost_maps.png)

![learning curves](plots/learning_curves.png)

![log Z](plots/log_z.png)
"""
    return text
