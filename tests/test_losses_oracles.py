"""`irlgan.losses` against the oracles that `python -m derivations` computes symbolically.

Each oracle case is a finite support: the demonstrations are its points weighted by p and the
sampler's samples its points weighted by q, so the weighted losses are exact expectations. The
expected values and gradients were computed by SymPy to 40 digits from rational inputs.

Errors are measured relative to the magnitude of the quantity, or, for a quantity that is a sum
of larger terms that cancel (a loss that adds E_p[c] and log Ẑ, a logit that adds c, log Z and
log q), relative to the largest of those terms: that is the precision float arithmetic can give.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from irlgan import losses as L

ORACLE_DIR = Path(__file__).parent / "oracles"
ORACLE_FILES = sorted(p for p in ORACLE_DIR.glob("*.json") if p.name != "proofs.json")
LOSSES = ["discriminator_loss", "generator_loss", "sampler_loss", "importance_log_z", "cost_loss"]
ARGS = ["cost_data", "log_q_data", "cost_gen", "log_q_gen"]
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}


def load_cases() -> list[tuple[str, dict]]:
    cases = []
    for path in ORACLE_FILES:
        data = json.loads(path.read_text())
        assert data["_generated"].startswith("GENERATED"), path
        for case in data["cases"]:
            cases.append((f"{path.stem}:{case['name']}", case))
    return cases


CASES = load_cases()


def test_oracle_files_exist_and_cover_the_families():
    families = {json.loads(p.read_text())["family"] for p in ORACLE_FILES}
    assert {"cost", "energy", "dynamics"} <= families
    assert len(CASES) >= 20


def floats(values, dtype):
    if isinstance(values, list):
        return torch.tensor([float(v) for v in values], dtype=dtype)
    return torch.tensor(float(values), dtype=dtype)


def inputs(case: dict, dtype: torch.dtype, requires_grad: bool = False) -> dict:
    x = {k: floats(case["inputs"][k], dtype) for k in [*ARGS, "log_z"]}
    for k in (*ARGS, "log_z"):
        x[k].requires_grad_(requires_grad)
    x["weight_data"] = floats(case["inputs"]["weight_data"], dtype)
    x["weight_gen"] = floats(case["inputs"]["weight_gen"], dtype)
    return x


def evaluate(name: str, x: dict) -> torch.Tensor:
    w = dict(weight_data=x["weight_data"], weight_gen=x["weight_gen"])
    two_sided = [x[k] for k in ARGS]
    if name == "generator_loss":
        return L.generator_loss(x["cost_gen"], x["log_q_gen"], x["log_z"],
                                weight_gen=x["weight_gen"])
    if name == "sampler_loss":
        return L.sampler_loss(x["cost_gen"], x["log_q_gen"], weight_gen=x["weight_gen"])
    if name == "optimal_log_z":
        return L.optimal_log_z(*two_sided, **w)
    return getattr(L, name)(*two_sided, x["log_z"], **w)


def term_scale(case: dict) -> float:
    """The largest input magnitude: the size of the terms a cancelling sum is made of."""
    values = [abs(float(v)) for k in ARGS for v in case["inputs"][k]]
    return max([1.0, abs(float(case["inputs"]["log_z"])), *values])


def relative_error(got: torch.Tensor, want: torch.Tensor, scale) -> float:
    """max |got - want| / max(|want|, scale), the scale a number or one per entry."""
    err = (got.double() - want).abs()
    scale = torch.as_tensor(scale, dtype=torch.float64)
    return float((err / torch.maximum(want.abs(), torch.clamp(scale, min=1e-300))).max())


ERRORS: dict[torch.dtype, list[float]] = {torch.float64: [], torch.float32: []}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_values(case, dtype):
    x = inputs(case, dtype)
    out = case["outputs"]
    scale = term_scale(case)
    checks = {name: (evaluate(name, x), floats(out[name], torch.float64)) for name in
              [*LOSSES, "optimal_log_z"]}
    checks["discriminator_logit_data"] = (
        L.discriminator_logit(x["cost_data"], x["log_q_data"], x["log_z"]),
        floats(out["discriminator_logit_data"], torch.float64),
    )
    checks["discriminator_logit_gen"] = (
        L.discriminator_logit(x["cost_gen"], x["log_q_gen"], x["log_z"]),
        floats(out["discriminator_logit_gen"], torch.float64),
    )
    for name, (got, want) in checks.items():
        assert got.dtype == dtype, name
        # Sums that cancel are judged against their terms; the rest relative to themselves.
        cancelling = name in ("generator_loss", "sampler_loss", "cost_loss", "optimal_log_z",
                              "importance_log_z") or name.startswith("discriminator_logit")
        err = relative_error(got, want, scale if cancelling else 1e-300)
        ERRORS[dtype].append(err)
        assert err <= TOLERANCE[dtype], f"{name}: got {got.tolist()}, want {want.tolist()}"


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_gradients(case, dtype):
    for name in LOSSES:
        x = inputs(case, dtype, requires_grad=True)
        wrt = [x[k] for k in (*ARGS, "log_z")]
        grads = torch.autograd.grad(evaluate(name, x), wrt, allow_unused=True)
        expected = case["gradients"][name]
        for key, got, tensor in zip((*ARGS, "log_z"), grads, wrt, strict=True):
            want = floats(expected[key], torch.float64)
            if got is None:  # the loss does not depend on this argument
                got = torch.zeros_like(tensor)
            # A cost or log_q gradient entry is w_i (the sample's normalised weight) times a
            # per-sample factor of order one (D, 1 - D, 1, or w - its share of Ẑ in cost_loss,
            # a difference that cancels when D is close to 1; the share is exp of a log-space
            # term as large as the inputs, so it carries a relative error of eps times the
            # inputs' magnitude). It is judged relative to itself, but never more strictly than
            # 8 eps x (1 + input magnitude) x w_i.
            # The log_z gradient is a difference of expectations of probabilities (at most 1),
            # so it is judged on the scale of 1.
            if key == "log_z":
                floor = 1.0
            else:
                side = "weight_data" if key.endswith("_data") else "weight_gen"
                w = x[side].detach().double()
                floor = (8 * torch.finfo(dtype).eps / TOLERANCE[dtype] * (1 + term_scale(case))
                         * w / w.sum())
            err = relative_error(got, want, floor)
            ERRORS[dtype].append(err)
            assert err <= TOLERANCE[dtype], f"d {name} / d {key}: got {got.tolist()}, want " \
                                           f"{want.tolist()}"


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_importance_log_z_scan(case):
    x = inputs(case, torch.float64)
    scale = term_scale(case)
    for entry in case["importance_log_z_scan"]:
        x["log_z"] = floats(entry["log_z"], torch.float64)
        got = evaluate("importance_log_z", x)
        want = floats(entry["importance_log_z"], torch.float64)
        assert relative_error(got, want, scale) <= TOLERANCE[torch.float64], entry
