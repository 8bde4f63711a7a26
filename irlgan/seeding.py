"""Independent random streams for every component of a run, from one seed.

`seed_streams(seed)` spawns one child of `numpy.random.SeedSequence(seed)` per component (the
names in `STREAMS`) and turns each into a 63-bit seed for a `torch.Generator` or a
`numpy.random.Generator`. Children of one `SeedSequence` are independent of each other and of the
children of every other seed, so the streams of run s never repeat those of run s + 1 (as
``seed + 1``-style offsets did) nor each other within a run.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DENSITY_STREAMS", "STREAMS", "seed_streams", "spawn_seeds"]

STREAMS = ("policy_init", "discriminator_init", "collector", "generator", "discriminator", "bc")
"""The independent random streams of a run, in the order `SeedSequence.spawn` makes them."""


DENSITY_STREAMS = ("training", "energy_init", "flow_init", "noise_fit", "validation", "test",
                   "importance", "mmd", "plots", "ais")
"""The streams of a density run (`irlgan.density`): the training batches and noise draws, the
initialisations, the sample the Gaussian noise is fitted to, the validation and test sets, the
importance-sampling proposal, the MMD samples, the plots' samples and the annealed importance
sampling of log Z (appended last, so the earlier streams are those of older runs)."""


def spawn_seeds(seed: int, names: tuple[str, ...]) -> dict[str, int]:
    """One independent 63-bit seed per name, from `SeedSequence(seed).spawn(len(names))`.

    Args:
        seed: the run's seed (a non-negative integer).
        names: the components, in a fixed order (the order decides which child each gets).

    Returns:
        {name: seed}.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(len(names))
    return {name: int(child.generate_state(1, np.uint64)[0] >> np.uint64(1))
            for name, child in zip(names, children, strict=True)}


def seed_streams(seed: int) -> dict[str, int]:
    """The streams of an adversarial control run: `spawn_seeds(seed, STREAMS)`.

    Args:
        seed: the run's seed (a non-negative integer).

    Returns:
        {stream name: seed} for the names in `STREAMS`.
    """
    return spawn_seeds(seed, STREAMS)
