"""Helpers of the tests that check benchmark scripts: loading one by path, and a policy whose mode
is one fixed action."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(stem: str) -> ModuleType:
    """benchmarks/<stem>.py as a module (with benchmarks/ on the path while it loads, for the
    scripts that import control.py beside them)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{stem}", BENCHMARKS / f"{stem}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


class FixedActionPolicy(torch.nn.Module):
    """A policy whose mode is one fixed action."""

    def __init__(self, action: np.ndarray) -> None:
        super().__init__()
        self.action = torch.as_tensor(action, dtype=torch.float32)

    def mode(self, obs: torch.Tensor) -> torch.Tensor:
        return self.action.expand(obs.shape[0], -1)
