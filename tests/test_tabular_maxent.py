"""Exact maximum-entropy IRL: the maximum-likelihood fit must beat the true cost."""

from __future__ import annotations

import pytest
import torch

from irlgan.data import sample_demonstrations
from irlgan.envs import default_grid_problem
from irlgan.tabular import (
    maxent_irl,
    mean_log_likelihood,
    sample_trajectories,
    soft_value_iteration,
    state_action_visitation,
    trajectory_log_likelihood,
)


@pytest.fixture(scope="module")
def grid():
    problem = default_grid_problem()
    demos = sample_demonstrations(problem.mdp, problem.cost, 100, seed=0, env_id=problem.name)
    return problem, demos


def test_gradient_is_model_visitation_minus_empirical_counts(grid) -> None:
    problem, demos = grid
    mdp = problem.mdp
    cost = torch.randn(mdp.num_states, mdp.num_actions, dtype=torch.float64).requires_grad_(True)
    (gradient,) = torch.autograd.grad(
        mean_log_likelihood(mdp, cost, demos.states, demos.actions), cost
    )
    start = torch.bincount(demos.states[:, 0], minlength=mdp.num_states).double() / demos.count
    _, _, policy = soft_value_iteration(mdp, cost.detach())
    model = state_action_visitation(mdp, policy, start).sum(0)
    empirical = torch.zeros_like(model)
    empirical.index_put_(
        (demos.states[:, :-1], demos.actions), torch.ones((), dtype=torch.float64), accumulate=True
    )
    torch.testing.assert_close(gradient, model - empirical / demos.count, rtol=0, atol=1e-12)
    mean = trajectory_log_likelihood(mdp, cost.detach(), demos.states, demos.actions).mean()
    torch.testing.assert_close(
        mean_log_likelihood(mdp, cost.detach(), demos.states, demos.actions), mean
    )


@pytest.mark.parametrize("use_features", [False, True], ids=["tabular", "features"])
def test_maxent_irl_beats_the_true_cost(grid, use_features: bool) -> None:
    problem, demos = grid
    mdp, true_cost = problem
    truth = float(mean_log_likelihood(mdp, true_cost, demos.states, demos.actions))
    features = problem.features if use_features else None
    result = maxent_irl(mdp, demos.states, demos.actions, features, tolerance=1e-9)
    assert result.converged and result.gradient_norm < 1e-8
    assert result.log_likelihood >= truth
    fitted = float(mean_log_likelihood(mdp, result.cost, demos.states, demos.actions))
    assert fitted == pytest.approx(result.log_likelihood, abs=1e-12)
    assert result.cost.shape == (mdp.num_states, mdp.num_actions)
    if use_features:
        # Only cost differences are identified; these are close to the truth (3, 0, 8).
        free, goal, hazard = result.weights.tolist()
        assert goal - free == pytest.approx(-3.0, abs=1.0)
        assert hazard - free > 2.0


def test_likelihood_is_invariant_to_constant_offsets(grid) -> None:
    problem, demos = grid
    mdp, cost = problem
    base = mean_log_likelihood(mdp, cost, demos.states, demos.actions)
    shifted = mean_log_likelihood(mdp, cost + 17.0, demos.states, demos.actions)
    assert abs(float(base - shifted)) < 1e-10


def test_lbfgs_path_improves_on_the_truth(grid) -> None:
    problem, demos = grid
    mdp, true_cost = problem
    truth = float(mean_log_likelihood(mdp, true_cost, demos.states, demos.actions))
    result = maxent_irl(
        mdp, demos.states, demos.actions, problem.features, method="lbfgs", steps=50
    )
    assert result.log_likelihood >= truth
    assert result.gradient_norm < 1e-6


def test_maxent_irl_validates_arguments(grid) -> None:
    problem, demos = grid
    mdp = problem.mdp
    with pytest.raises(ValueError, match="deterministic"):
        maxent_irl(mdp.to_stochastic(), demos.states, demos.actions)
    with pytest.raises(ValueError, match="features"):
        maxent_irl(mdp, demos.states, demos.actions, torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match="method"):
        maxent_irl(mdp, demos.states, demos.actions, method="adam")
    with pytest.raises(ValueError, match="steps"):
        maxent_irl(mdp, demos.states, demos.actions, steps=0)
    with pytest.raises(ValueError, match="initial_weights"):
        maxent_irl(mdp, demos.states, demos.actions, initial_weights=torch.zeros(3))
    states, actions = sample_trajectories(
        mdp, soft_value_iteration(mdp, problem.cost)[2], 2, torch.Generator().manual_seed(0)
    )
    states[0, 1] = (states[0, 1] + 1) % mdp.num_states
    with pytest.raises(ValueError, match="dynamics"):
        maxent_irl(mdp, states, actions)


def test_l2_penalty_gives_a_finite_maximiser(grid) -> None:
    problem, demos = grid
    mdp = problem.mdp
    l2 = 1e-3
    result = maxent_irl(mdp, demos.states, demos.actions, l2=l2, tolerance=1e-9)
    assert result.converged
    penalty = 0.5 * l2 * float((result.weights**2).sum())
    assert result.objective == pytest.approx(result.log_likelihood - penalty, abs=1e-12)
    unpenalised = maxent_irl(mdp, demos.states, demos.actions, tolerance=1e-9)
    assert result.log_likelihood <= unpenalised.log_likelihood + 1e-9
    assert float(result.cost.abs().max()) < float(unpenalised.cost.abs().max())
    # Stationarity of the penalised objective: visitation - counts + l2 * weights = 0.
    cost = result.cost.clone().requires_grad_(True)
    objective = mean_log_likelihood(mdp, cost, demos.states, demos.actions)
    (gradient,) = torch.autograd.grad(objective, cost)
    assert float((gradient - l2 * result.weights).norm()) < 1e-8
    with pytest.raises(ValueError, match="l2"):
        maxent_irl(mdp, demos.states, demos.actions, l2=-1.0)
