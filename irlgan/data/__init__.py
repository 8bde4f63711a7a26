"""Demonstrations: exact sampling from soft-optimal policies, the on-disk format and its checks.

See `irlgan.data._demonstrations` for the format (`arrays.npz` + `metadata.json`, version 1).
"""

from irlgan.data._demonstrations import (
    ARRAYS_FILE,
    FORMAT_NAME,
    FORMAT_VERSION,
    METADATA_FILE,
    Demonstrations,
    load_demonstrations,
    sample_demonstrations,
    save_demonstrations,
)

__all__ = [
    "ARRAYS_FILE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METADATA_FILE",
    "Demonstrations",
    "load_demonstrations",
    "sample_demonstrations",
    "save_demonstrations",
]
