"""Search on a learned CartPole model: the disagreement guard and the episode runner."""

import numpy as np
import pytest

from mbrl_helpers.agents import learned_mcts
from mbrl_helpers.learning import models
from mbrl_helpers.worlds import simulators

SMALL = models.ModelConfig(ensemble_size=3, hidden=16, termination="cartpole", max_epochs=3)


@pytest.fixture(scope="module")
def ensemble() -> models.Ensemble:
    return learned_mcts.fit_cartpole_model(300, seed=0, config=SMALL)


def some_states(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(scale=[1.0, 0.5, 0.05, 0.5], size=(n, 4)), rng.integers(2, size=n)


def test_guard_with_a_huge_threshold_is_the_mean_model(ensemble):
    states, actions = some_states()
    guarded = learned_mcts.guarded_step_fn(ensemble, 1e9)(states, actions)
    mean = ensemble.as_step_fn("mean")(states, actions)
    for got, want in zip(guarded, mean, strict=True):
        np.testing.assert_allclose(got, want)


def test_guard_ends_exactly_the_transitions_the_members_disagree_on(ensemble):
    states, actions = some_states()
    spread = ensemble.disagreement(states, actions)
    threshold = float(np.median(spread))
    _, _, terminated = learned_mcts.guarded_step_fn(ensemble, threshold)(states, actions)
    _, _, by_rule = ensemble.as_step_fn("mean")(states, actions)
    np.testing.assert_array_equal(terminated, by_rule | (spread > threshold))
    assert 0 < (terminated & ~by_rule).sum() < len(states)


def test_guard_rejects_bad_input(ensemble):
    with pytest.raises(ValueError, match="threshold"):
        learned_mcts.guarded_step_fn(ensemble, -0.1)
    never = learned_mcts.fit_cartpole_model(50, config=models.ModelConfig(termination="never", max_epochs=1))
    with pytest.raises(ValueError, match="termination='cartpole'"):
        learned_mcts.guarded_step_fn(never, 0.5)


def test_search_episode_balances_far_longer_than_random_play_and_is_seeded():
    kwargs = dict(depth=10, n_simulations=16, batch_size=8, max_steps=100, seed=3)
    first = learned_mcts.run_search_episode(simulators.cartpole_step, **kwargs)
    again = learned_mcts.run_search_episode(simulators.cartpole_step, **kwargs)
    assert first.total_reward == 100 == first.steps      # random play lasts about 20 steps
    assert first.total_reward == again.total_reward and first.model_steps == again.model_steps
    # each decision: 16 expansions, plus at most 10 rollout steps from each new leaf and the root
    assert 16 * first.steps < first.model_steps <= (16 + 17 * 10) * first.steps
    assert first.model_calls < first.model_steps        # batched: many transitions per call


def test_depth_sweep_shape_and_bad_depth():
    out = learned_mcts.depth_sweep({"true": simulators.cartpole_step}, [2, 4], [0, 1, 2],
                                   n_simulations=4, batch_size=2, max_steps=5)
    assert out["true"].shape == (2, 3)
    assert np.all((out["true"] >= 1) & (out["true"] <= 5))
    with pytest.raises(ValueError, match="depth"):
        learned_mcts.run_search_episode(simulators.cartpole_step, depth=0)
