"""The errors irlgan raises on purpose, and the exit status of each class on the command line.

Every failure the `irlgan` command can meet ends in one line on standard error that names the
file, field or setting at fault, and one of these exit statuses:

* 0: success;
* 1: internal error, a bug (please report it; ``IRLGAN_DEBUG=1`` shows the traceback);
* 2: bad input: arguments, settings, demonstrations, a run folder used the wrong way
  (`ValueError`);
* 3: an incompatible or corrupt checkpoint, model file or run folder (`CheckpointError`);
* 4: input/output: a file that cannot be read or written, such as permissions or a full disk
  (`OSError`);
* 5: divergence: training produced non-finite or exploding numbers (`DivergenceError`);
* 6: the run folder is in use by another irlgan process (`RunFolderBusy`);
* 130: interrupted (Ctrl-C or SIGTERM); the last checkpoint is kept (`KeyboardInterrupt`).

The library raises the same classes, so a script can tell them apart too.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXIT_STATUS",
    "PARAMETER_LIMIT",
    "VALUE_LIMIT",
    "check_divergence",
    "CheckpointError",
    "DivergenceError",
    "RunFolderBusy",
    "exit_status",
]


class CheckpointError(ValueError):
    """A checkpoint, model file or run folder is missing, unreadable, foreign, of another kind
    of run, or written with other settings than the run that reads it."""


class DivergenceError(FloatingPointError):
    """Training produced a non-finite or exploding loss, parameter or reward. The message names
    the quantity, the iteration and the setting most likely at fault."""


class RunFolderBusy(RuntimeError):
    """Another process holds the run folder's lock (the message names its process id)."""


EXIT_STATUS = {
    "success": 0,
    "internal": 1,
    "bad_input": 2,
    "checkpoint": 3,
    "io": 4,
    "divergence": 5,
    "busy": 6,
    "interrupted": 130,
}
"""Exit status of the `irlgan` command per class of failure."""


def exit_status(error: BaseException) -> int:
    """The exit status of the command line for `error` (see the table above)."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_STATUS["interrupted"]
    if isinstance(error, RunFolderBusy):
        return EXIT_STATUS["busy"]
    if isinstance(error, DivergenceError):
        return EXIT_STATUS["divergence"]
    if isinstance(error, CheckpointError):
        return EXIT_STATUS["checkpoint"]
    if isinstance(error, ValueError):
        return EXIT_STATUS["bad_input"]
    if isinstance(error, OSError):
        return EXIT_STATUS["io"]
    return EXIT_STATUS["internal"]


PARAMETER_LIMIT = 1e4
"""A trained weight beyond this magnitude means training has diverged (the networks here start
near 1 and stay within tens when training is healthy)."""
VALUE_LIMIT = 1e8
"""A loss or mean reward beyond this magnitude means training has diverged."""


def check_divergence(iteration: int, checks: list[tuple[str, Any, float, str]]) -> None:
    """Raises `DivergenceError` for the first quantity that is non-finite or beyond its limit.

    Args:
        iteration: the iteration just done (named in the message).
        checks: (quantity, value, limit, likely cause) tuples; a value is a number, a tensor, or
            an iterable of tensors (a module's parameters), judged by its largest magnitude.
    """
    import math

    import torch

    for quantity, value, limit, cause in checks:
        if value is None:
            continue
        if isinstance(value, torch.Tensor):
            tensors = [value]
        elif isinstance(value, int | float):
            tensors = [torch.tensor(float(value))]
        else:
            tensors = list(value)
        worst = 0.0
        for tensor in tensors:
            if tensor.numel() == 0:
                continue
            data = tensor.detach()
            if not bool(torch.isfinite(data).all()):
                worst = math.nan if bool(torch.isnan(data).any()) else math.inf
                break
            worst = max(worst, float(data.abs().max()))
        if math.isfinite(worst) and worst <= limit:
            continue
        state = "not finite" if not math.isfinite(worst) else f"{worst:.3g}, beyond {limit:g}"
        raise DivergenceError(
            f"training diverged at iteration {iteration}: {quantity} is {state}; "
            f"the likely cause is {cause}")
