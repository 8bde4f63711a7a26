"""Shared pytest configuration: float64 by default for oracle-grade checks, one torch thread."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
