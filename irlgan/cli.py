"""The `irlgan` command line.

```
irlgan demo [--out DIR]
irlgan train ALGO (--env ID | --data NAME) [--steps N] [--seed S] [--out DIR] [--resume] ...
irlgan expert --env ID [--steps N] [--out DIR]
irlgan eval RUN_DIR [--episodes N | --seeds S] [--output FILE] [--demos DIR] [--video]
irlgan sweep SPEC --out DIR [--address A] [--workers N] [--tables DIR] [--tables-only]
irlgan --version
```

Every failure ends in one line on standard error and an exit status per class of failure
(`irlgan.errors`: 2 bad input, 3 incompatible checkpoint, 4 input/output, 5 divergence, 6 run
folder in use, 130 interrupted, 1 internal error), never in a traceback.

The parser lives here; the work is done by the module of each task family: `irlgan.control`
(GAN-GCL, GCL and AIRL on control tasks), `irlgan.density` (EBMs, NCE and flows on 2-D data)
and `irlgan.rl` (experts). They are imported only when their command runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from irlgan.config import parse_overrides

DENSITY_ALGORITHMS = ("ebm", "nce", "flow")


def control_algorithms() -> tuple[str, ...]:
    """The registered control algorithms (`irlgan.algorithms.ALGORITHMS`), by name."""
    from irlgan.algorithms import ALGORITHMS

    return tuple(sorted(ALGORITHMS))


def _demo(args: argparse.Namespace) -> int:
    from irlgan.demo import run_demo

    run_demo(args.out, seed=args.seed, iterations=args.iterations, progress=not args.quiet)
    return 0


def _call(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        function = getattr(importlib.import_module(module), name)
        return int(function(args) or 0)

    return run


def _train(args: argparse.Namespace) -> int:
    if args.algo in control_algorithms():
        if args.env is None or args.data is not None:
            raise ValueError(f"irlgan train {args.algo} needs --env ID (and not --data)")
        return _call("irlgan.control.commands", "train")(args)
    if args.data is None or args.env is not None:
        raise ValueError(f"irlgan train {args.algo} needs --data NAME (and not --env)")
    return _call("irlgan.density.commands", "train")(args)


def _eval(args: argparse.Namespace) -> int:
    from irlgan.runs import read_config

    if not Path(args.run_dir).is_dir():
        raise ValueError(f"{args.run_dir} is not a folder")
    task = read_config(args.run_dir).get("task")
    modules = {"control": "irlgan.control.commands", "density": "irlgan.density.commands"}
    if task not in modules:
        raise ValueError(
            f"{args.run_dir}/config.json names task {task!r}; expected one of {sorted(modules)}"
        )
    return _call(modules[task], "evaluate")(args)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=_positive, default=None,
                        help="training budget: environment steps (control) or iterations "
                             "(densities); default: the task's built-in setting")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--out", default=None,
                        help="run folder (default: runs/<algo>-<name>-s<seed>)")
    parser.add_argument("--set", dest="set_items", action="append", default=[],
                        metavar="KEY=VALUE", help="override a configuration field (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


EXIT_HELP = """exit status: 0 success, 1 internal error (IRLGAN_DEBUG=1 shows the traceback),
2 bad input, 3 incompatible or corrupt checkpoint or run folder, 4 input/output error,
5 training diverged, 6 run folder in use by another process, 130 interrupted."""


def _wrap(names: list[str], indent: str = "  ") -> str:
    import textwrap

    return textwrap.fill(", ".join(names), width=96, initial_indent=indent,
                         subsequent_indent=indent)


def _train_epilog() -> str:
    """What `irlgan train --help` lists: environments, datasets and every --set key."""
    import dataclasses

    from irlgan.algorithms import AdversarialConfig
    from irlgan.config import config_to_dict, flatten_overrides
    from irlgan.control._config import RUN_FIELDS
    from irlgan.density._datasets import DATASETS
    from irlgan.density._train import DensityConfig
    from irlgan.presets import preset_keys

    envs = sorted({key.split("/", 1)[1] for key in preset_keys("control")})
    from irlgan.rl import SACConfig

    nested = flatten_overrides(config_to_dict(AdversarialConfig()))
    sac = flatten_overrides(config_to_dict(SACConfig()))
    nested.update({f"sac.{k}": v for k, v in sac.items()})
    refused = {"sac", "ppo.entropy_weight"}  # sac is set field by field; the entropy weight once
    control_keys = (sorted(k if k != "train_env_kwargs" else "train_env_kwargs.NAME"
                           for k in RUN_FIELDS)
                    + sorted(k for k in nested if k not in refused))
    density_keys = sorted(f.name for f in dataclasses.fields(DensityConfig)
                          if f.name not in ("algorithm", "dataset"))
    return "\n".join([
        "environments (--env) with tuned presets:", _wrap(envs),
        "  any other registered gymnasium id with Box observation and action spaces trains on "
        "defaults.",
        "datasets (--data):", _wrap(list(DATASETS)),
        "--set keys of control tasks (nested fields dotted, tuples comma-separated):",
        _wrap(control_keys),
        "--set keys of density tasks:", _wrap(density_keys),
        "", EXIT_HELP])


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `irlgan` command."""
    from irlgan import __version__

    parser = argparse.ArgumentParser(
        prog="irlgan",
        description="GANs, maximum-entropy IRL and energy-based models, checked against exact "
                    "answers.",
        epilog=EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"irlgan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", help="exact MaxEnt IRL, GAN-GCL and GCL on the default grid world",
        description="Runs exact MaxEnt IRL, GAN-GCL and GCL on irlgan/GridWorld-v0, prints a "
                    "table against the exact answers and writes plots and a report.")
    demo.add_argument("--out", default="irlgan-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, help="training seed (default: %(default)s)")
    demo.add_argument("--iterations", type=_positive, default=600,
                      help="GAN-GCL and GCL iterations (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo)

    train = sub.add_parser(
        "train", help="train a cost (control tasks) or an energy (2-D densities)",
        description="GAN-GCL, GCL, AIRL or GAIL on a control task from demonstrations (--env, "
                    "--demos), "
                    "or an EBM, NCE or flow baseline on a 2-D dataset (--data).",
        epilog=_train_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    names = control_algorithms() + DENSITY_ALGORITHMS
    train.add_argument("algo", choices=names, metavar="ALGO", help="one of: " + ", ".join(names))
    where = train.add_mutually_exclusive_group(required=True)
    where.add_argument("--env", default=None, help="gymnasium id of a control task")
    where.add_argument("--data", default=None, help="name of a 2-D dataset")
    train.add_argument("--demos", default=None, metavar="DIR | minari:ID",
                       help="demonstrations folder (written by `irlgan expert`, "
                            "irlgan.data.record or Demonstrations.save), or a local Minari "
                            "dataset as minari:DATASET_ID (control tasks)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its last checkpoint")
    train.add_argument("--device", default=None, metavar="DEV",
                       help="where the networks train: cpu (the default; fastest for the "
                            "small models here) or cuda[:N]; a run resumes on the device type "
                            "it started on")
    train.add_argument("--tensorboard", action="store_true",
                       help="also write TensorBoard event files to OUT/tensorboard/ (control "
                            "tasks; needs the extra irlgan[tensorboard])")
    _add_common(train)
    train.set_defaults(func=_train)

    expert = sub.add_parser(
        "expert", help="train an expert on the true reward and write demonstrations",
        description="Trains a MaxEnt-RL expert on the environment's own reward and writes "
                    "demonstrations with the expert's and a random policy's returns.")
    expert.add_argument("--env", required=True, help="gymnasium id of a control task")
    _add_common(expert)
    expert.set_defaults(func=_call("irlgan.rl.commands", "expert"))

    evaluate = sub.add_parser(
        "eval", help="evaluate a finished or interrupted run",
        description="Evaluates the run folder's newest checkpoint and writes the result to "
                    "RUN_DIR/evals/ (never over the training's summary.json).")
    evaluate.add_argument("run_dir", help="a run folder written by `irlgan train`")
    evaluate.add_argument("--episodes", type=_positive, default=None,
                          help="evaluate on reset seeds 1000000, 1000001, ...: at least 20 "
                               "episodes (control tasks; default: the seeds of the reference "
                               "returns, or the run's eval_episodes)")
    evaluate.add_argument("--seeds", default=None, metavar="S",
                          help="evaluate on these reset seeds: A-B ranges and commas, such as "
                               "100000-100049 (at least 20). A normalised score is printed only "
                               "when they are the seeds the reference returns were measured on")
    evaluate.add_argument("--video", action="store_true",
                          help="also write an animated GIF of the learned policy beside the "
                               "expert's to RUN_DIR/videos/ (control tasks; rendered headless)")
    evaluate.add_argument("--output", default=None, metavar="FILE",
                          help="write the result here instead of RUN_DIR/evals/ (for run "
                               "folders that cannot be written)")
    evaluate.add_argument("--demos", default=None, metavar="DIR | minari:ID",
                          help="the run's demonstrations, if they moved (control tasks; checked "
                               "by content hash)")
    evaluate.add_argument("--device", default=None, metavar="DEV",
                          help="where to evaluate: cpu (the default) or cuda[:N]")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate.set_defaults(func=_eval)

    sweep = sub.add_parser(
        "sweep", help="run tasks x methods x seeds as resumable trials on Ray",
        description="Runs the trials of a sweep file (TOML: methods, seeds, tasks with budgets, "
                    "overrides and demonstrations or an expert to train; or densities with "
                    "data = NAME) as `irlgan expert` / `irlgan train` commands in OUT/trials/, "
                    "on a local Ray cluster or an existing one, and writes OUT/results.csv, "
                    "OUT/summary.csv, OUT/summary.md and OUT/summary.png as trials finish. "
                    "Started again, it skips finished trials and resumes the others. Needs the "
                    "extra irlgan[sweep].")
    sweep.add_argument("spec", help="the sweep file, such as benchmarks/sweeps/smoke.toml")
    sweep.add_argument("--out", required=True, help="the sweep folder")
    sweep.add_argument("--address", default=None,
                       help="an existing Ray cluster (default: start a local one)")
    sweep.add_argument("--workers", type=_positive, default=None,
                       help="CPUs of the local cluster (default: all of this machine's)")
    sweep.add_argument("--tables", default=None, metavar="DIR",
                       help="also copy the tables and the plot to DIR each time they change "
                            "(for example benchmarks/results/sweep-NAME)")
    sweep.add_argument("--tables-only", action="store_true",
                       help="only write the tables from the trials that finished; run nothing")
    sweep.add_argument("--quiet", action="store_true", help="no progress lines")
    sweep.set_defaults(func=_call("irlgan.sweep", "command"))
    return parser


def _set_threads() -> None:
    """One torch thread unless IRLGAN_THREADS says otherwise: the models here are small, and on a
    few shared cores one thread is several times faster than many."""
    import os

    import torch

    text = os.environ.get("IRLGAN_THREADS", "1")
    try:
        threads = int(text)
    except ValueError:
        raise SystemExit(f"irlgan: IRLGAN_THREADS must be a positive integer, got {text!r}") \
            from None
    if threads < 1:
        raise SystemExit(f"irlgan: IRLGAN_THREADS must be a positive integer, got {text!r}")
    torch.set_num_threads(threads)


_LABELS = {1: "internal error", 2: "error", 3: "checkpoint error", 4: "I/O error",
           5: "stopped", 6: "busy", 130: "interrupted"}


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if isinstance(error, KeyboardInterrupt):
        return "stopped; the run's last checkpoint is kept (continue with --resume)"
    if not text:
        return type(error).__name__
    if not isinstance(error, ValueError | OSError | FloatingPointError | RuntimeError):
        return f"{type(error).__name__}: {text}"
    return text


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _warning_line(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    return f"irlgan: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `irlgan` console script; returns the exit status (`irlgan.errors`)."""
    import json
    import os
    import signal
    import warnings

    from irlgan.errors import exit_status

    parser = build_parser()
    args = parser.parse_args(argv)
    _set_threads()
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)
    format_warning = warnings.formatwarning
    warnings.formatwarning = _warning_line
    try:
        args.overrides = parse_overrides(getattr(args, "set_items", None))
        return int(args.func(args) or 0)
    except Exception as error:  # every failure: one line and its class's exit status
        status = exit_status(error)
        if status == 1 and os.environ.get("IRLGAN_DEBUG"):
            raise
        result = getattr(error, "result", None)
        message = _one_line(error)
        if result is not None:  # computed, but not written: never lose it
            print(json.dumps(result, indent=2))
            message += "; the result is printed above (write it elsewhere with --output)"
        if status == 1:
            message += " (a bug in irlgan: IRLGAN_DEBUG=1 shows the traceback)"
        print(f"irlgan {args.command}: {_LABELS[status]}: {message}", file=sys.stderr)
        return status
    except KeyboardInterrupt as error:
        print(f"irlgan {args.command}: interrupted: {_one_line(error)}", file=sys.stderr)
        return exit_status(error)
    finally:
        signal.signal(signal.SIGTERM, previous)
        warnings.formatwarning = format_warning


if __name__ == "__main__":
    sys.exit(main())
