"""Where tensors live: the one place that turns a user's ``device`` into a `torch.device`.

Every model, optimiser state and random generator of a run lives on its device; random numbers
are drawn from a `torch.Generator` on that same device (a CPU generator cannot fill a CUDA
tensor, and a CUDA generator's stream differs from the CPU's, so a run on another device is a
different, equally valid, draw). Data that arrive from outside (environments, demonstrations,
datasets written to disk) are converted on the CPU and moved once.

The CPU is the default everywhere: the models of this toolkit are small, and on them a GPU
spends more time launching kernels than computing (the scaling page gives figures where a GPU
was measured).
"""

from __future__ import annotations

import torch

__all__ = ["generator_on", "resolve_device"]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The `torch.device` for ``device`` ("cpu", "cuda", "cuda:1", a `torch.device`, or None for
    the CPU), refused with one line when this machine cannot use it."""
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device {device!r} is not a torch device (use cpu or cuda[:N]): "
                         f"{str(err).splitlines()[0]}") from None
    if dev.type == "cpu":
        return torch.device("cpu")
    if dev.type != "cuda":
        raise ValueError(f"device {device!r}: irlgan runs on cpu or cuda, not {dev.type}")
    if not torch.cuda.is_available():
        raise ValueError(f"device {device!r} is not available here: torch "
                         f"{torch.__version__} sees no CUDA device "
                         f"(torch.cuda.is_available() is False)")
    index = torch.cuda.current_device() if dev.index is None else dev.index
    if not 0 <= index < torch.cuda.device_count():
        raise ValueError(f"device {device!r} is not available here: "
                         f"{torch.cuda.device_count()} CUDA device(s)")
    return torch.device("cuda", index)


def generator_on(device: torch.device, seed: int) -> torch.Generator:
    """A `torch.Generator` on ``device`` seeded with ``seed`` (on the CPU, the same stream as
    ``torch.Generator().manual_seed(seed)``)."""
    return torch.Generator(device=device).manual_seed(int(seed))
