"""Independent random streams for every component of a run, from one seed.

`seed_streams(seed)` spawns one child of `numpy.random.SeedSequence(seed)` per component (the
names in `STREAMS`) and turns each into a 63-bit seed for a `torch.Generator` or a
`numpy.random.Generator`. Children of one `SeedSequence` are independent of each other and of the
children of every other seed, so the streams of run s never repeat those of run s + 1 (as
``seed + 1``-style offsets did) nor each other within a run.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STREAMS", "seed_streams"]

STREAMS = ("policy_init", "discriminator_init", "collector", "generator", "discriminator", "bc")
"""The independent random streams of a run, in the order `SeedSequence.spawn` makes them."""


def seed_streams(seed: int) -> dict[str, int]:
    """One independent 63-bit seed per component of a run, from `SeedSequence(seed).spawn`.

    Args:
        seed: the run's seed (a non-negative integer).

    Returns:
        {stream name: seed} for the names in `STREAMS`.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(len(STREAMS))
    return {name: int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
            for name, child in zip(STREAMS, children, strict=True)}
