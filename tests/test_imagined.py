"""Imagined experience: branched rollouts, Dyna-DQN, simple MBRL and the runner (fast)."""

import numpy as np
import pytest
import torch

from mbrl_helpers.agents import dqn, imagined
from mbrl_helpers.worlds.simulators import cartpole_step

torch.set_num_threads(1)

SMALL = dqn.DQNConfig(hidden=16, batch_size=8, buffer_size=500, learning_starts=50, max_steps=150,
                      eval_every=50, eval_episodes=1, epsilon_decay_steps=100, target_update_every=20,
                      updates_per_step=2)


def push_right(states):
    return np.ones(len(states), np.int64)


def perfect(states, actions):
    return cartpole_step(np.asarray(states, np.float64), actions)


def test_branched_rollout_follows_the_model_for_h_steps():
    starts = np.zeros((3, 4), np.float32)
    out = imagined.branched_rollout(perfect, push_right, starts, horizon=4)
    assert out["states"].shape == (12, 4) and out["actions"].tolist() == [1] * 12
    # step t's next states are step t+1's states (3 rollouts side by side)
    np.testing.assert_array_equal(out["next_states"][:9], out["states"][3:])
    expected, _, _ = cartpole_step(np.zeros((3, 4)), np.ones(3, np.int64))
    np.testing.assert_allclose(out["next_states"][:3], expected, rtol=1e-6)


def test_branched_rollouts_stop_at_termination():
    # a pole already at 11.9 degrees falling right: terminates after one step
    falling = np.array([[0.0, 0.0, 0.2077, 2.0]], np.float32)
    upright = np.zeros((1, 4), np.float32)
    out = imagined.branched_rollout(perfect, push_right, np.concatenate([falling, upright]), horizon=5)
    assert out["terminated"].sum() == 1 and out["terminated"][0]
    assert len(out["actions"]) == 1 + 5   # the falling rollout made 1 step, the upright one 5
    assert not (np.abs(out["states"][:, 2]) > 0.2095).any()   # nothing imagined beyond the end


def test_disagreement_guard_stops_untrusted_steps():
    def spread(states, actions):
        return np.abs(states[:, 0]) * 100   # "unsure" once the cart has moved

    out = imagined.branched_rollout(perfect, push_right, np.zeros((2, 4), np.float32), horizon=5,
                                    disagreement=spread, max_disagreement=0.01)
    # x moves from the second step on (x_{t+1} = x_t + tau * x_dot_t): 2 steps per rollout survive
    assert len(out["actions"]) == 4


def test_zero_horizon_and_bad_inputs():
    out = imagined.branched_rollout(perfect, push_right, np.zeros((2, 4), np.float32), horizon=0)
    assert out["states"].shape == (0, 4)
    with pytest.raises(ValueError, match="horizon must be >= 0, got -1"):
        imagined.branched_rollout(perfect, push_right, np.zeros((2, 4)), horizon=-1)
    with pytest.raises(ValueError, match="start_states must have shape"):
        imagined.branched_rollout(perfect, push_right, np.zeros(4), horizon=1)
    with pytest.raises(ValueError, match="imagined_per_step must be >= 0, got -3"):
        imagined.DynaConfig(imagined_per_step=-3)
    with pytest.raises(ValueError, match="real_fraction must be in \\[0, 1\\], got 1.5"):
        imagined.DynaConfig(real_fraction=1.5)
    with pytest.raises(ValueError, match="seeds must name at least one seed"):
        imagined.run_experiment(lambda s: None, [])


@pytest.mark.parametrize("k, h", [(0, 3), (16, 0)])
def test_dyna_without_imagination_is_plain_dqn(k, h):
    plain = dqn.train_dqn(SMALL, seed=4)
    dyna = imagined.run_dyna_dqn(SMALL, imagined.DynaConfig(imagined_per_step=k, rollout_length=h), seed=4,
                                 fitter=imagined.perfect_model_fitter)
    np.testing.assert_array_equal(plain.eval_returns, dyna.eval_returns)
    assert plain.updates == dyna.updates


def test_dyna_adds_k_imagined_transitions_per_real_step():
    config = imagined.DynaConfig(imagined_per_step=4, rollout_length=2, rollout_every=10, model_every=50)
    result = imagined.run_dyna_dqn(SMALL, config, seed=0, fitter=imagined.perfect_model_fitter)
    # rollouts every 10 real steps from step 50 to 150: 11 batches of 4 * 10 / 2 = 20 rollouts x <= 2 steps
    assert 11 * 20 < result.extra["imagined"] <= 11 * 40
    assert result.extra["model_fits"] == 3   # at steps 50, 100, 150
    again = imagined.run_dyna_dqn(SMALL, config, seed=0, fitter=imagined.perfect_model_fitter)
    np.testing.assert_array_equal(result.eval_returns, again.eval_returns)


def test_simple_mbrl_counts_only_real_steps():
    config = imagined.SimpleMBRLConfig(initial_random_steps=100, steps_per_round=50, rounds=3,
                                       updates_per_round=30, rollout_length=5, rollouts_per_refresh=8,
                                       refresh_every=10)
    result = imagined.run_simple_mbrl(config, seed=1, dqn_config=SMALL, fitter=imagined.perfect_model_fitter)
    assert result.eval_steps.tolist() == [100, 150, 200]
    assert result.real_steps == 200 and result.updates == 90
    assert result.extra["imagined"] > 0


def test_curves_on_grid_hold_the_last_evaluation():
    grid = np.array([0, 1000, 1500, 2000, 5000])
    curve = imagined.curve_on_grid(np.array([1000, 2000]), np.array([20.0, 480.0]), grid)
    np.testing.assert_array_equal(curve, [np.nan, 20.0, 20.0, 480.0, 480.0])


def test_steps_to_solve_summary_counts_failures_as_infinite():
    summary = imagined.steps_to_solve_summary([3000, 5000, None, 4000, None], budget=10_000)
    assert summary["median"] == 5000 and summary["solved"] == 3 and summary["runs"] == 5
    assert imagined.steps_to_solve_summary([None, None, 1], budget=5)["median"] == np.inf


def test_model_error_along_trajectory_is_zero_for_the_perfect_model():
    out = imagined.model_error_along_trajectory(perfect, push_right, seed=0)
    assert len(out["error"]) < 100   # always pushing right fails quickly
    assert out["error"].max() < 1e-5


# The exercise checks of notebook 04 are tested in tests/test_checks_lesson04.py.

# -- notebook 04's figures and slider callback (drawn from precomputed curves) --

def fake_grid():
    def run(seed, solved):
        steps = np.arange(1000, 6001, 1000)
        return {"seed": seed, "eval_steps": steps.tolist(),
                "eval_returns": np.minimum(500, steps / solved * 475).tolist()}
    return {"budget": 6000, "runs": {"k=0 h=1": [run(0, 6000), run(1, 5000)],
                                     "k=16 h=3": [run(0, 3000), run(1, 4000)]}}


def test_grid_figure_draws_k_beside_the_baseline_quickly():
    import time

    import matplotlib.pyplot as plt

    from mbrl_helpers.course import widgets

    start = time.perf_counter()
    fig = widgets.imagined_grid_figure(16, 3, grid=fake_grid())
    assert time.perf_counter() - start < 2.0   # generous: the benchmark measures the real latency
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["k = 0 (DQN, 4 updates/step) (2 seeds)", "k = 16, h = 3 (2 seeds)"]
    assert "k = 16" in fig.axes[0].get_title()
    assert fig.axes[0].get_xlabel().startswith("real environment steps")
    only_baseline = widgets.imagined_grid_figure(0, 3, grid=fake_grid())
    assert len(only_baseline.legends[0].get_texts()) == 1
    plt.close("all")


def test_grid_figure_rejects_values_outside_the_grid():
    from mbrl_helpers.course import widgets

    with pytest.raises(ValueError, match="not in the precomputed grid; k must be one of \\[0, 16\\]"):
        widgets.imagined_grid_figure(8, 3, grid=fake_grid())
    grid = fake_grid()
    grid["runs"]["k=0 h=5"] = grid["runs"]["k=0 h=1"]
    fig = widgets.imagined_grid_figure(16, 5, grid=grid)   # in the grid's range, not measured: says so
    assert "not measured" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="k must be >= 0, got -1"):
        widgets.imagined_grid_figure(-1, 3, grid=fake_grid())
