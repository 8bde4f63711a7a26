"""Bad input to `irlgan.losses` raises ValueError naming the argument."""

from __future__ import annotations

import math

import pytest
import torch

from irlgan import losses as L

F64 = torch.float64


def good():
    return dict(
        cost_data=torch.tensor([0.1, 0.2], dtype=F64),
        log_q_data=torch.tensor([-1.0, -2.0], dtype=F64),
        cost_gen=torch.tensor([0.3, 0.4, 0.5], dtype=F64),
        log_q_gen=torch.tensor([-0.5, -0.6, -0.7], dtype=F64),
    )


TWO_SIDED = [L.discriminator_loss, L.importance_log_z, L.cost_loss]


def call(fn, kwargs, log_z=0.0):
    args = [kwargs.pop(k) for k in ("cost_data", "log_q_data", "cost_gen", "log_q_gen")]
    if fn is L.optimal_log_z:
        return fn(*args, **kwargs)
    return fn(*args, log_z, **kwargs)


BAD_TENSORS = [
    ("cost_data", torch.tensor([0.1, 0.2, 0.3], dtype=F64), "cost_data|log_q_data"),
    ("log_q_gen", torch.tensor([-0.5], dtype=F64), "log_q_gen"),
    ("cost_data", torch.tensor([0.1, math.nan], dtype=F64), "cost_data.*NaN"),
    ("log_q_data", torch.tensor([0.1, math.inf], dtype=F64), "log_q_data.*inf"),
    ("cost_gen", torch.tensor([-math.inf, 0.0, 1.0], dtype=F64), "cost_gen.*inf"),
    ("cost_gen", torch.zeros(0, dtype=F64), "cost_gen.*empty"),
    ("log_q_data", torch.zeros(2, 1, dtype=F64), "log_q_data.*1-D"),
    ("cost_data", [0.1, 0.2], "cost_data.*torch.Tensor"),
    ("cost_data", torch.tensor([1, 2]), "cost_data.*floating"),
]


@pytest.mark.parametrize("fn", [*TWO_SIDED, L.optimal_log_z], ids=lambda f: f.__name__)
@pytest.mark.parametrize("name,value,match", BAD_TENSORS)
def test_bad_tensors_name_the_argument(fn, name, value, match):
    kwargs = good()
    kwargs[name] = value
    with pytest.raises(ValueError, match=match):
        call(fn, kwargs)


BAD_WEIGHTS = [
    ("weight_data", torch.tensor([1.0, -0.5], dtype=F64), "weight_data.*negative"),
    ("weight_gen", torch.zeros(3, dtype=F64), "weight_gen.*zero"),
    ("weight_gen", torch.ones(2, dtype=F64), "weight_gen.*shape"),
    ("weight_data", torch.tensor([1.0, math.nan], dtype=F64), "weight_data.*NaN"),
    ("weight_data", torch.zeros(0, dtype=F64), "weight_data.*empty"),
]


@pytest.mark.parametrize("fn", [*TWO_SIDED, L.optimal_log_z], ids=lambda f: f.__name__)
@pytest.mark.parametrize("name,value,match", BAD_WEIGHTS)
def test_bad_weights_name_the_argument(fn, name, value, match):
    kwargs = good()
    kwargs[name] = value
    with pytest.raises(ValueError, match=match):
        call(fn, kwargs)


@pytest.mark.parametrize("fn", TWO_SIDED, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "log_z,match",
    [
        (math.nan, "log_z.*finite"),
        (torch.tensor(math.inf), "log_z.*finite"),
        (torch.zeros(2, 2), "log_z.*scalar"),
        ("0.0", "log_z"),
        ((torch.zeros(2, dtype=F64), torch.zeros(2, dtype=F64)), "log_z_gen.*3"),
        ((torch.zeros(1, dtype=F64), torch.zeros(3, dtype=F64)), "log_z_data.*2"),
        ((torch.zeros(2, dtype=F64),), "pair"),
    ],
)
def test_bad_log_z(fn, log_z, match):
    with pytest.raises(ValueError, match=match):
        call(fn, good(), log_z)


def test_one_sided_functions_validate_too():
    with pytest.raises(ValueError, match="weight_gen.*negative"):
        L.sampler_loss(torch.ones(2), torch.ones(2), weight_gen=torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="log_q_gen"):
        L.generator_loss(torch.ones(2), torch.ones(3), 0.0)
    with pytest.raises(ValueError, match="cost.*NaN"):
        L.discriminator_logit(torch.tensor([math.nan]), torch.ones(1), 0.0)
    with pytest.raises(ValueError, match="log_z"):
        L.discriminator_logit(torch.ones(3), torch.ones(3), torch.ones(2))
