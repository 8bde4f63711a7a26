"""Demonstrations: exact sampling from soft-optimal policies, the on-disk format and its checks.

See `irlgan.data._demonstrations` for the format (`arrays.npz` + `metadata.json`, version 1), and
`irlgan.data._continuous` for its continuous-control variant (float observations and actions,
trajectories of unequal length); `irlgan.data.record` records demonstrations from any policy,
and `irlgan.Demonstrations.from_minari` / `to_minari` read and write Minari datasets.
"""

from irlgan.data._continuous import (
    CONTINUOUS_FORMAT_NAME,
    CONTINUOUS_FORMAT_VERSION,
    ContinuousDemonstrations,
    load_continuous_demonstrations,
    save_continuous_demonstrations,
)
from irlgan.data._demonstrations import (
    ARRAYS_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    METADATA_FILE,
    TabularDemonstrations,
    load_demonstrations,
    sample_demonstrations,
    save_demonstrations,
)
from irlgan.data._record import record
from irlgan.data._trajectories import Demonstrations, describe_seeds

__all__ = [
    "ARRAYS_FILE",
    "CONTINUOUS_FORMAT_NAME",
    "CONTINUOUS_FORMAT_VERSION",
    "ContinuousDemonstrations",
    "load_continuous_demonstrations",
    "save_continuous_demonstrations",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METADATA_FILE",
    "Demonstrations",
    "describe_seeds",
    "record",
    "TabularDemonstrations",
    "load_demonstrations",
    "sample_demonstrations",
    "save_demonstrations",
]
