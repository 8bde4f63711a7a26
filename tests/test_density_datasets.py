"""Datasets: determinism, shapes, exact densities that integrate to one, reference entropies."""

from __future__ import annotations

import math

import pytest
import torch

from irlgan.density import (
    DATASETS,
    REFERENCE_NLL,
    data_log_prob,
    dataset_dim,
    gaussian_mixture,
    grid,
    parse_dataset,
    reference_nll,
    sample_data,
)


@pytest.mark.parametrize("name", DATASETS)
def test_sampling_is_deterministic_given_the_generator(name):
    a = sample_data(name, 500, torch.Generator().manual_seed(3))
    b = sample_data(name, 500, torch.Generator().manual_seed(3))
    c = sample_data(name, 500, torch.Generator().manual_seed(4))
    assert a.shape == (500, 2) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert sample_data(name, 7, torch.Generator(), dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize("name", DATASETS)
def test_sampling_leaves_the_global_generator_alone(name):
    state = torch.get_rng_state()
    sample_data(name, 100, torch.Generator().manual_seed(0))
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("name", ["8gaussians", "checkerboard", "rings", "moons"])
def test_exact_density_integrates_to_one(name):
    points, area = grid(6.0, 180, dtype=torch.float64)  # cell edges on the checkers
    mass = float(data_log_prob(name, points).exp().sum() * area)
    assert mass == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize(
    "name", [pytest.param("2spirals", marks=pytest.mark.slow), "pinwheel"]
)
def test_exact_density_integrates_to_one_coarse(name):
    # These densities are integrals over a latent variable; a coarser grid keeps the test fast.
    points, area = grid(5.5, 90, dtype=torch.float64)
    mass = float(data_log_prob(name, points).exp().sum() * area)
    assert mass == pytest.approx(1.0, abs=1e-2)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n == "2spirals" else n for n in DATASETS]
)
def test_density_matches_a_histogram_of_samples(name):
    # The fraction of samples in a few boxes equals the integral of the density over each box.
    g = torch.Generator().manual_seed(11)
    x = sample_data(name, 40_000, g, dtype=torch.float64)
    n = 30 if name == "pinwheel" else 60
    boxes = [((-1.0, -1.0), (1.0, 1.0)), ((0.0, 0.0), (3.0, 3.0)), ((-3.0, -1.0), (0.0, 2.0))]
    for lo, hi in boxes:
        inside = ((x[:, 0] >= lo[0]) & (x[:, 0] < hi[0]) & (x[:, 1] >= lo[1])
                  & (x[:, 1] < hi[1])).double().mean()
        hx = (hi[0] - lo[0]) / n
        hy = (hi[1] - lo[1]) / n
        ax = lo[0] + (torch.arange(n, dtype=torch.float64) + 0.5) * hx
        ay = lo[1] + (torch.arange(n, dtype=torch.float64) + 0.5) * hy
        pts = torch.stack(torch.meshgrid(ax, ay, indexing="ij"), -1).reshape(-1, 2)
        integral = float(data_log_prob(name, pts).exp().sum() * hx * hy)
        se = math.sqrt(max(integral * (1 - integral), 1e-4) / x.shape[0])
        # checkerboard's density jumps at cell edges, which the midpoint rule resolves exactly
        # on these aligned boxes; allow 5 standard errors plus a little quadrature error.
        assert float(inside) == pytest.approx(integral, abs=5 * se + 3e-3), (name, lo, hi)


def test_closed_form_references():
    assert REFERENCE_NLL["checkerboard"][0] == pytest.approx(math.log(32.0), abs=1e-12)
    # 8 well-separated Gaussians: slightly below ln 8 + the entropy of one component.
    std = 0.5 / 1.414
    separated = math.log(8) + 1 + math.log(2 * math.pi * std**2)
    assert separated - 0.02 < REFERENCE_NLL["8gaussians"][0] < separated


@pytest.mark.parametrize("name", ["8gaussians", "rings", "moons", "pinwheel", "2spirals"])
def test_reference_table_agrees_with_monte_carlo(name):
    n = {"2spirals": 1_000, "pinwheel": 4_000}.get(name, 20_000)
    value, se = reference_nll(name, n_samples=n, generator=torch.Generator().manual_seed(5))
    assert se > 0
    assert value == pytest.approx(REFERENCE_NLL[name][0], abs=4 * se)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown dataset"):
        sample_data("swissroll", 3, torch.Generator())
    with pytest.raises(ValueError, match="n must be"):
        sample_data("moons", 0, torch.Generator())
    with pytest.raises(ValueError, match="generator"):
        sample_data("moons", 3, 0)
    with pytest.raises(ValueError, match="Tensor\\[N, 2\\]"):
        data_log_prob("moons", torch.zeros(3))


# ----------------------------------------------------------------------------------------------
# Gaussian mixtures in d dimensions
# ----------------------------------------------------------------------------------------------

def test_gaussian_mixture_names_and_dimensions():
    assert "gmm-d16" in DATASETS and dataset_dim("gmm-d16") == 16 and dataset_dim("gmm-d3") == 3
    for bad in ("gmm-d1", "gmm-d016", "gmm-d", "gmm-x2", "gmm"):
        assert bad not in DATASETS, bad
    with pytest.raises(ValueError, match="not a product"):
        parse_dataset("gmm-d4")
    with pytest.raises(ValueError, match="gmm-d<d>"):
        sample_data("gmm-d0", 5, torch.Generator())


def test_gaussian_mixture_log_density_is_the_mixture_of_its_components():
    # an independent implementation: torch.distributions' mixture of diagonal normals
    means, stds = gaussian_mixture(16)
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.ones(8, dtype=torch.float64)),
        torch.distributions.Independent(torch.distributions.Normal(means, stds), 1))
    x = sample_data("gmm-d16", 2000, torch.Generator().manual_seed(3), dtype=torch.float64)
    assert torch.allclose(data_log_prob("gmm-d16", x), mixture.log_prob(x), atol=1e-10)
    far = 30.0 * torch.ones(3, 16, dtype=torch.float64)  # log-sum-exp: no underflow to -inf
    assert torch.allclose(data_log_prob("gmm-d16", far), mixture.log_prob(far), rtol=1e-12)


def test_gaussian_mixture_samples_have_the_mixture_moments():
    means, stds = gaussian_mixture(8)
    x = sample_data("gmm-d8", 200_000, torch.Generator().manual_seed(1), dtype=torch.float64)
    mean = means.mean(0)
    var = (stds**2 + means**2).mean(0) - mean**2
    se = (var / x.shape[0]).sqrt()
    assert ((x.mean(0) - mean).abs() <= 4 * se).all()
    assert torch.allclose(x.var(0), var, rtol=0.02)


def test_gaussian_mixture_entropy_matches_quadrature_in_2d_and_a_fresh_estimate_in_8d():
    entropy, error = REFERENCE_NLL["gmm-d2"]
    points, cell = grid(12.0, 1200, dtype=torch.float64)
    log_p = data_log_prob("gmm-d2", points)
    assert float(log_p.exp().sum()) * cell == pytest.approx(1.0, abs=1e-9)
    exact = -float((log_p.exp() * log_p).sum()) * cell
    assert abs(entropy - exact) <= 3 * error and error < 0.001
    entropy, error = REFERENCE_NLL["gmm-d8"]
    fresh, fresh_error = reference_nll("gmm-d8", n_samples=200_000,
                                       generator=torch.Generator().manual_seed(11))
    assert abs(entropy - fresh) <= 4 * math.hypot(error, fresh_error)
    assert error < 0.003


# ----------------------------------------------------------------------------------------------
# digits: real data, dequantised
# ----------------------------------------------------------------------------------------------


def _pixels(y: torch.Tensor) -> torch.Tensor:
    """The integer pixel values under dequantised, scaled points y = 4(v + u)/17 - 2."""
    return torch.floor((y.double() + 2.0) * 17.0 / 4.0)


def test_digits_are_64_dimensional_in_three_disjoint_splits() -> None:
    from irlgan.density._datasets import _digits_split

    assert "digits" in DATASETS and dataset_dim("digits") == 64
    sizes = {s: _digits_split(s).shape for s in ("train", "validation", "test")}
    assert sizes == {"train": (1257, 64), "validation": (270, 64), "test": (270, 64)}
    keys = {s: {tuple(r.tolist()) for r in _digits_split(s)}
            for s in ("train", "validation", "test")}
    from sklearn.datasets import load_digits

    everything = {tuple(r) for r in load_digits().data.tolist()}
    # the three splits partition the 1797 images (which are all distinct)
    assert len(everything) == 1797
    assert keys["train"] | keys["validation"] | keys["test"] == everything
    assert sum(len(k) for k in keys.values()) == 1797


def test_digits_draws_come_from_their_split_with_uniform_noise() -> None:
    from irlgan.density._datasets import _digits_split

    for split in ("train", "test"):
        y = sample_data("digits", 4000, torch.Generator().manual_seed(1), split=split,
                        dtype=torch.float64)
        assert y.shape == (4000, 64) and float(y.min()) >= -2.0 and float(y.max()) < 2.0
        rows = {tuple(r.tolist()) for r in _digits_split(split)}
        assert all(tuple(r.tolist()) in rows for r in _pixels(y))
        noise = (y + 2.0) * 17.0 / 4.0 - _pixels(y)  # uniform on [0, 1) in every pixel
        assert abs(float(noise.mean()) - 0.5) < 0.01 and abs(float(noise.var()) - 1 / 12) < 0.002
    a = sample_data("digits", 10, torch.Generator().manual_seed(3))
    b = sample_data("digits", 10, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="split must be one of"):
        sample_data("digits", 10, torch.Generator(), split="val")


def test_digits_bits_per_dim_is_exact_for_a_pixel_histogram_model() -> None:
    """A model that is uniform within each pixel bin has a continuous NLL whose bits per
    dimension equal the discrete log-loss of its histogram: the scaling's Jacobian, exactly."""
    from irlgan.density._datasets import _digits_split, digits_bits_per_dim

    train = _digits_split("train").long()
    counts = torch.stack([torch.bincount(train[:, j], minlength=17) for j in range(64)])
    probs = (counts.double() + 0.5) / (counts.double() + 0.5).sum(1, keepdim=True)  # [64, 17]
    y = sample_data("digits", 3000, torch.Generator().manual_seed(2), split="test",
                    dtype=torch.float64)
    pixels = _pixels(y).long()
    log_p_pixels = torch.log(probs[torch.arange(64), pixels]).sum(1)  # discrete, per image
    nll_y = -(log_p_pixels + 64 * math.log(17.0 / 4.0))  # the density in y: one bin is 4/17 wide
    discrete_bits = float(-log_p_pixels.mean()) / (64 * math.log(2.0))
    assert abs(digits_bits_per_dim(float(nll_y.mean())) - discrete_bits) < 1e-12
    assert 2.3 < discrete_bits < 2.6  # independent pixels: about 2.44 bits of log2(17) = 4.09


def test_digits_has_no_exact_density_or_entropy() -> None:
    assert REFERENCE_NLL.get("digits") is None and "digits" not in REFERENCE_NLL
    with pytest.raises(ValueError, match="real data, not a product"):
        parse_dataset("digits")
    with pytest.raises(ValueError, match="no exact density"):
        data_log_prob("digits", torch.zeros(2, 64))
    with pytest.raises(ValueError, match="no known entropy"):
        reference_nll("digits")


def test_digits_without_scikit_learn_is_one_line_naming_the_extra(monkeypatch) -> None:
    import sys

    from irlgan.density import _datasets

    monkeypatch.setattr(_datasets, "_DIGITS_CACHE", {})
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ValueError, match=r"irlgan\[digits\]") as info:
        sample_data("digits", 3, torch.Generator())
    assert "\n" not in str(info.value)
