"""One schedule for every training loop: the iteration loop and the learning-rate shapes.

The tabular trainer (`irlgan.algorithms.train_tabular`), the control algorithms
(`irlgan.AdversarialTrainer.learn`, and the run folders of `irlgan train`) and the density trainers
(`irlgan.density.train_run`) all run their iterations through `run_iterations` and scale their
learning rates with `lr_fraction`: one place for the progress bar, the per-iteration callback
(which writes metrics and checkpoints in run folders, or stops a run) and the schedule shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["lr_fraction", "run_iterations"]


def lr_fraction(shape: Literal["constant", "linear", "cosine"], step: int, total: int,
                final_fraction: float = 0.0) -> float:
    r"""The learning-rate multiplier at `step` of `total` (progress $p = $ step / total,
    clamped to [0, 1]).

    * ``"constant"``: 1;
    * ``"linear"``: $1 - p$ (to 0 at the end);
    * ``"cosine"``: $f + (1 - f)\,\tfrac12(1 + \cos \pi p)$, from 1 to `final_fraction` $f$.

    A function of the step alone, so a resumed run continues on the same schedule.
    """
    progress = min(max(step / max(total, 1), 0.0), 1.0)
    if shape == "constant":
        return 1.0
    if shape == "linear":
        return 1.0 - progress
    if shape == "cosine":
        return final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * progress))
    raise ValueError(f"shape must be 'constant', 'linear' or 'cosine', got {shape!r}")


def run_iterations(step: Callable[[], dict[str, Any]], *, start: int, total: int,
                   callback: Callable[[dict[str, Any]], Any] | None = None,
                   progress: bool = False, desc: str = "",
                   postfix: Callable[[dict[str, Any]], dict[str, str]] | None = None) -> int:
    """Calls `step()` for the iterations start+1 .. total, then `callback(row)` with its row.

    Args:
        step: runs one iteration and returns its metrics row.
        start: iterations already done (a resumed run's count).
        total: the iteration to stop after.
        callback: called after every iteration with the row; returning False stops the loop.
        progress: show a progress bar (tqdm) from `start` to `total`.
        desc: the bar's label.
        postfix: the bar's postfix from a row.

    Returns:
        The iterations done when the loop ended (`total`, or fewer if the callback stopped it).
    """
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=start, desc=desc, unit="it", leave=False)
    done = start
    try:
        while done < total:
            row = step()
            done += 1
            stop = callback is not None and callback(row) is False
            if bar is not None:
                bar.update(1)
                if postfix is not None:
                    bar.set_postfix(postfix(row))
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
    return done
