import math

import numpy as np
import pytest

from mbrl_helpers.planners import puct
from mbrl_helpers.worlds import simulators as sim


class CountingModel:
    """A step function that counts its calls and the transitions it was asked for."""

    def __init__(self, step_fn):
        self.step_fn, self.calls, self.rows = step_fn, 0, 0

    def __call__(self, states, actions):
        self.calls += 1
        self.rows += len(states)
        return self.step_fn(states, actions)


def counter_step(states, actions):
    """A one-dimensional toy: the state counts the times action 1 was taken; reward 0."""
    nxt = states.copy()
    nxt[:, 0] += actions
    return nxt, np.zeros(len(states)), np.zeros(len(states), dtype=bool)


def value_of_counter(states):
    """Hand-made value network: uniform prior, value = the count (so action 1 is better)."""
    return np.full((len(states), 2), 0.5), states[:, 0].copy()


def upright_evaluator(states):
    """Hand-made CartPole value: high when the pole is upright and not falling."""
    lean = np.abs(states[:, 2] + 0.5 * states[:, 3])
    return np.full((len(states), 2), 0.5), 10.0 - 100.0 * lean


# -- PUCT by hand ------------------------------------------------------------------------------
def test_puct_score_on_hand_values():
    assert puct.puct_score(0.5, 0.25, 16, 1, 2.0) == pytest.approx(0.5 + 2.0 * 0.25 * 4 / 2)
    assert puct.puct_score(0.3, 0.9, 0, 0, 1.0) == pytest.approx(0.3)        # root not visited: no bonus
    assert puct.puct_score(0.7, 0.5, 100, 3, 0.0) == pytest.approx(0.7)      # c = 0: greedy
    assert puct.puct_score(0.0, 0.5, 9, 0, 1.0) == pytest.approx(1.5)        # unvisited: finite, by prior
    # the prior scales exploration; more child visits shrink it
    assert puct.puct_score(0.2, 0.8, 100, 1, 1.0) > puct.puct_score(0.2, 0.1, 100, 1, 1.0)
    assert puct.puct_score(0.2, 0.5, 100, 1, 1.0) > puct.puct_score(0.2, 0.5, 100, 50, 1.0)


# -- the search with hand-made evaluators ------------------------------------------------------
@pytest.mark.parametrize("batch_size", [1, 4, 16])
def test_value_evaluator_preferring_an_action_decides(batch_size):
    result = puct.batched_search(counter_step, np.zeros(1), value_of_counter, n_actions=2,
                                 n_simulations=40, batch_size=batch_size, gamma=0.9)
    assert result.action == 1
    assert result.visit_counts[1] > result.visit_counts[0]
    assert result.q_values[1] > result.q_values[0]


def test_prior_decides_between_equal_values():
    def lopsided(states):
        return np.tile([0.1, 0.9], (len(states), 1)), np.zeros(len(states))

    result = puct.batched_search(counter_step, np.zeros(1), lopsided, n_actions=2, n_simulations=30,
                                 batch_size=1)
    assert result.action == 1
    assert result.visit_counts[1] > 3 * result.visit_counts[0]
    np.testing.assert_allclose(result.root_prior, [0.1, 0.9])


def test_value_network_replaces_rollouts_no_rollout_model_calls():
    model = CountingModel(counter_step)
    result = puct.batched_search(model, np.zeros(1), value_of_counter, n_actions=2, n_simulations=48,
                                 batch_size=8, check_model=False)
    # every model transition built a tree node: none went into rollouts
    assert model.rows == result.tree.size - 1 == result.simulated_steps
    assert model.calls == result.model_calls <= result.rounds
    assert result.evaluator_calls == result.rounds + 1           # + the root's evaluation
    rollouts = CountingModel(counter_step)
    evaluator = puct.rollout_evaluator(rollouts, 2, depth=5, gamma=0.9, seed=0)
    with_rollouts = puct.batched_search(CountingModel(counter_step), np.zeros(1), evaluator,
                                        n_actions=2, n_simulations=48, batch_size=8, check_model=False)
    assert rollouts.rows == evaluator.model_steps > 0
    assert with_rollouts.simulated_steps == with_rollouts.tree.size - 1 + evaluator.model_steps


def test_batching_cuts_calls_and_keeps_the_tree_consistent():
    costs = {}
    for batch_size in (1, 16):
        model = CountingModel(sim.cartpole_step)
        result = puct.batched_search(model, np.array([0.0, 0.0, 0.02, 0.0]), upright_evaluator,
                                     n_actions=2, n_simulations=64, batch_size=batch_size,
                                     check_model=False)
        tree = result.tree
        assert result.simulations == 64 == result.visit_counts.sum()
        assert tree.visits[0] == 1 + result.visit_counts.sum()     # root's own evaluation + one per sim
        inner = np.flatnonzero(~tree.terminal[:tree.size])
        for node in inner:                                         # N(s) = 1 + sum of children's N
            kids = tree.children[node][tree.children[node] >= 0]
            assert tree.visits[node] == 1 + tree.visits[kids].sum()
        costs[batch_size] = model.calls
    assert costs[1] == 64
    assert costs[16] <= 64 // 16 * 3                               # a few rounds, not one call per node


@pytest.mark.parametrize("normalise", ["tree", "siblings"])
@pytest.mark.parametrize("theta, expected", [(0.08, 1), (-0.08, 0)])
def test_batch_1_and_16_agree_on_an_easy_cartpole_decision(theta, expected, normalise):
    state = np.array([0.0, 0.0, theta, 0.0])
    for batch_size in (1, 16):
        result = puct.batched_search(sim.cartpole_step, state, upright_evaluator, n_actions=2,
                                     n_simulations=64, batch_size=batch_size, normalise=normalise)
        assert result.action == expected, batch_size


def test_terminal_transitions_have_no_value_beyond_them():
    def cliff(states, actions):
        """Action 0 ends the episode (reward 1); action 1 goes on (reward 1)."""
        return states.copy(), np.ones(len(states)), actions == 0

    def generous(states):
        return np.full((len(states), 2), 0.5), np.full(len(states), 10.0)

    result = puct.batched_search(cliff, np.zeros(1), generous, n_actions=2, n_simulations=20,
                                 batch_size=4, gamma=0.5)
    assert result.q_values[0] == pytest.approx(1.0)                 # r + gamma * 0
    assert result.q_values[1] > 2.0                                 # 1 + 0.5 * (more than 1)
    assert result.action == 1


def test_seeded_search_is_reproducible():
    state = np.array([0.01, 0.0, 0.03, -0.02])
    runs = []
    for _ in range(2):
        evaluator = puct.rollout_evaluator(sim.cartpole_step, 2, depth=10, gamma=0.99, seed=3)
        runs.append(puct.batched_search(sim.cartpole_step, state, evaluator, n_actions=2,
                                        n_simulations=50, batch_size=8, seed=5, dirichlet_alpha=0.3))
    a, b = runs
    np.testing.assert_array_equal(a.visit_counts, b.visit_counts)
    np.testing.assert_array_equal(a.root_prior, b.root_prior)
    np.testing.assert_array_equal(a.tree.value_sum, b.tree.value_sum)
    assert not np.allclose(a.root_prior, 0.5)                       # the noise was mixed in


def test_rollout_evaluator_runs_in_lockstep_and_stops_at_termination():
    model = CountingModel(sim.cartpole_step)
    evaluator = puct.rollout_evaluator(model, 2, depth=30, gamma=1.0, seed=0)
    states = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.2, 2.0]])   # the second falls at once
    priors, values = evaluator(states)
    np.testing.assert_allclose(priors, 0.5)
    assert model.calls <= 30 and evaluator.model_calls == model.calls
    assert values[1] == pytest.approx(1.0)                          # one step, then terminated
    assert values[0] > values[1]
    assert model.rows < 2 * 30                                      # the fallen state stopped early


def test_search_result_gives_plain_search_result_and_policy():
    result = puct.batched_search(counter_step, np.zeros(1), value_of_counter, n_actions=2,
                                 n_simulations=10, batch_size=2)
    plain = result.search
    assert plain.action == result.action and plain.simulated_steps == result.simulated_steps
    np.testing.assert_allclose(result.policy(), result.visit_counts / 10)


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_simulations": 0}, ValueError, "n_simulations"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"gamma": 1.5}, ValueError, "gamma"),
    ({"c": -1.0}, ValueError, "c must"),
    ({"seed": -1}, ValueError, "seed"),
    ({"dirichlet_alpha": -0.1}, ValueError, "dirichlet_alpha"),
    ({"normalise": "global"}, ValueError, "normalise"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    args = {"n_actions": 2, "n_simulations": 8} | kwargs
    with pytest.raises(error, match=match):
        puct.batched_search(counter_step, np.zeros(1), value_of_counter, **args)


def test_bad_evaluators_and_states_are_caught():
    def wrong_shape(states):
        return np.full((len(states), 3), 1 / 3), np.zeros(len(states))

    def not_a_distribution(states):
        return np.ones((len(states), 2)), np.zeros(len(states))

    for evaluator, match in ((wrong_shape, "priors must have shape"),
                             (not_a_distribution, "sum to 1")):
        with pytest.raises(ValueError, match=match):
            puct.batched_search(counter_step, np.zeros(1), evaluator, n_actions=2, n_simulations=4)
    with pytest.raises(TypeError, match="evaluate"):
        puct.batched_search(counter_step, np.zeros(1), None, n_actions=2, n_simulations=4)
    with pytest.raises(ValueError, match="root_state"):
        puct.batched_search(counter_step, np.zeros((2, 1)), value_of_counter, n_actions=2,
                            n_simulations=4)
    with pytest.raises(TypeError, match="step_fn"):
        puct.batched_search("model", np.zeros(1), value_of_counter, n_actions=2, n_simulations=4)
    with pytest.raises(ValueError, match="depth"):
        puct.rollout_evaluator(counter_step, 2, depth=0, gamma=0.9, seed=0)
    assert math.isfinite(puct.puct_score(0.0, 0.0, 0, 0, 0.0))


def test_run_episode_acts_by_search_until_the_env_ends_and_counts_the_model():
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    episode = puct.run_episode(env, sim.cartpole_step, upright_evaluator, seed=0, max_steps=60,
                               n_simulations=16, batch_size=4, gamma=0.99)
    assert episode.total_reward == episode.steps == 60          # stopped by max_steps, pole up
    assert episode.model_calls < episode.model_steps <= 16 * 60  # batched; no rollouts: expansions only
    def five_steps() -> puct.SearchEpisode:
        rollouts = puct.rollout_evaluator(sim.cartpole_step, 2, 5, 1.0, seed=1)
        return puct.run_episode(env, sim.cartpole_step, rollouts, seed=3, max_steps=5, n_simulations=8,
                                batch_size=4, gamma=1.0)

    short, again = five_steps(), five_steps()
    assert short[:4] == again[:4]                                 # same seeds, same episode
    assert short.model_steps > 8 * short.steps                    # rollout steps are counted too
    with pytest.raises(ValueError, match="max_steps"):
        puct.run_episode(env, sim.cartpole_step, upright_evaluator, seed=0, max_steps=0)
