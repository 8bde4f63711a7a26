"""benchmarks/control.py's point-mass diagnostics: where a cost is lowest on the arena, checked
on costs whose minimum is known."""

from __future__ import annotations

import pytest
import torch
from _benchmarks import load_benchmark

from irlgan.envs import PointMassEnv, point_mass_true_cost


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("control")


def test_the_true_costs_lowest_grid_point_is_next_to_the_goal(bench):
    env = PointMassEnv()
    out = bench.point_mass_cost_landscape(lambda o, a: point_mass_true_cost(o, a))
    step = 2 * env.arena / 80
    # the goal (1, 1) is not a grid point; the nearest ones are within half a step on each axis
    assert out["cost_argmin_to_goal"] <= step * 0.5 * 2**0.5 + 1e-6
    assert out["cost_at_goal"] == 0.0
    assert out["cost_grid_min"] == pytest.approx(
        float(point_mass_true_cost(torch.tensor([out["cost_grid_argmin"]]),
                                   torch.zeros(1, 2))[0]))
    # the farthest corner from the goal, (-3, -3): 4^2 + 4^2
    assert out["cost_grid_max"] == pytest.approx(32.0)


def test_a_minimum_off_the_starts_is_found_where_it_is(bench):
    # a cost lowest at the arena's corner (3, -3), outside the starts' square [-2, 2]^2
    corner = torch.tensor([3.0, -3.0])
    out = bench.point_mass_cost_landscape(lambda o, a: (o - corner).square().sum(-1) - 5.0)
    assert out["cost_grid_argmin"] == pytest.approx([3.0, -3.0])
    assert out["cost_grid_min"] == pytest.approx(-5.0)
    assert out["cost_at_goal"] == pytest.approx(4.0 + 16.0 - 5.0)
    assert out["cost_argmin_to_goal"] == pytest.approx((4.0 + 16.0) ** 0.5)


def _point_mass_row(bench, **fields) -> str:
    run = {"env_id": "irlgan/PointMass-v0", "algorithm": "gan-gcl", "seed": 0,
           "normalized_return": 0.99, "return_mean": -20.0, "return_std": 2.0, "env_steps": 100,
           "wall_s": 1.0, "env_steps_per_s": 100.0, "load_avg_1min_before": 0.5,
           "time_split_s": {"rollout": 1.0, "gen": 1.0, "disc": 1.0}, "cost_correlation": 0.5}
    return bench._row({**run, **fields})


def test_the_row_shows_the_fresh_policys_weight_and_the_costs_minimum(bench):
    row = _point_mass_row(
        bench, fresh_policy_normalized_return=-1.5, fresh_policy_entropy_weight=0.3,
        cost_grid_min=-0.48, cost_grid_argmin=[-3.0, 1.05], cost_at_goal=-0.29)
    assert "fresh policy -1.500 (alpha 0.3)" in row
    assert "cost min -0.48 at (-3.00, 1.05), at the goal -0.29" in row


def test_the_row_shows_every_restart_and_the_one_the_learned_reward_picks(bench):
    row = _point_mass_row(
        bench, fresh_policy_normalized_return=0.5,
        fresh_restarts=[{"seed": 100, "learned_reward": -2.0, "normalized_return": 0.5},
                        {"seed": 200, "learned_reward": -1.0, "normalized_return": 0.9}],
        fresh_restart_normalized_return=0.9)
    assert "restarts 0.500 / 0.900, the one the learned reward picks 0.900" in row
