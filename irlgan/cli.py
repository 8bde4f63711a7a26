"""The `irlgan` command line."""

from __future__ import annotations

import argparse
import sys


def _demo(args: argparse.Namespace) -> int:
    from irlgan.demo import run_demo

    run_demo(args.out, seed=args.seed, iterations=args.iterations, progress=not args.quiet)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="irlgan",
        description="GANs, maximum-entropy IRL and energy-based models, checked against exact "
                    "answers.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="exact MaxEnt IRL, GAN-GCL and GCL on the default grid world",
        description="Runs exact MaxEnt IRL, GAN-GCL and GCL on irlgan/GridWorld-v0, prints a "
                    "table against the exact answers and writes plots and a report.")
    demo.add_argument("--out", default="irlgan-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, help="training seed (default: %(default)s)")
    demo.add_argument("--iterations", type=int, default=600,
                      help="GAN-GCL and GCL iterations (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `irlgan` console script."""
    args = build_parser().parse_args(argv)
    if getattr(args, "iterations", 1) < 1:
        print("irlgan: --iterations must be at least 1", file=sys.stderr)
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
