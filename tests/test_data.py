"""Real transition collection (mbrl_helpers.learning.data)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from mbrl_helpers.learning import data


def test_cartpole_transitions_shapes_dtypes_and_consistency():
    t = data.collect_transitions("CartPole-v1", 300, seed=0)
    assert len(t) == 300 and t.states.shape == (300, 4) and t.next_states.shape == (300, 4)
    assert t.states.dtype == np.float64 and t.actions.dtype == np.int64 and t.terminated.dtype == bool
    assert set(np.unique(t.actions)) == {0, 1}
    assert t.terminated.sum() >= 5   # random play falls every ~20 steps
    # inside an episode the next state is the following state; after a terminal one, a fresh reset
    inside = ~t.terminated[:-1]
    assert np.array_equal(t.next_states[:-1][inside], t.states[1:][inside])
    assert np.all(np.abs(t.states[1:][t.terminated[:-1]]) <= 0.05)


def test_collection_is_seeded():
    a, b = (data.collect_transitions("CartPole-v1", 100, seed=3) for _ in range(2))
    c = data.collect_transitions("CartPole-v1", 100, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a.as_dict().values(), b.as_dict().values(), strict=True))
    assert not np.array_equal(a.states, c.states)


def test_continuous_actions_and_a_given_policy():
    t = data.collect_transitions("Pendulum-v1", 50, seed=0)
    assert t.actions.shape == (50, 1) and t.actions.dtype == np.float64
    assert np.all(np.abs(t.actions) <= 2) and not t.terminated.any()
    always_left = data.collect_transitions(gym.make("CartPole-v1"), 30, policy=lambda s, rng: 0, seed=0)
    assert np.all(always_left.actions == 0)


def test_split_is_disjoint_and_complete():
    t = data.collect_transitions("CartPole-v1", 100, seed=0)
    train, held = t.split(0.2, seed=1)
    assert len(train) == 80 and len(held) == 20
    rows = {tuple(r) for part in (train, held) for r in np.c_[part.states, part.actions]}
    assert len(rows) == 100


def test_round_trip_through_a_dict():
    t = data.collect_transitions("CartPole-v1", 20, seed=0)
    back = data.Transitions.from_dict({k: v.astype(np.float32) if v.dtype == np.float64 else v
                                       for k, v in t.as_dict().items()})
    assert np.allclose(back.states, t.states) and back.actions.dtype == np.int64


def test_trajectories_mark_steps_after_the_end():
    traj = data.collect_trajectories("CartPole-v1", 3, 60, seed=0)   # random play falls before 60 steps
    assert traj.states.shape == (3, 61, 4) and traj.actions.shape == (3, 60) and traj.alive.shape == (3, 61)
    assert not traj.alive[:, -1].any() and traj.alive[:, 0].all()
    last = traj.alive.sum(axis=1) - 1
    assert np.array_equal(traj.states[0, -1], traj.states[0, last[0]])
    balanced = data.collect_trajectories("CartPole-v1", 3, 50, data.cartpole_balancing_policy(), seed=0)
    assert balanced.alive.sum(axis=1).mean() > traj.alive.sum(axis=1).mean()


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        data.collect_transitions("CartPole-v1", 0)
    with pytest.raises(TypeError, match="env must be a gymnasium env id"):
        data.collect_transitions(42, 10)
    with pytest.raises(ValueError, match="holdout must be"):
        data.collect_transitions("CartPole-v1", 10).split(1.5)
    with pytest.raises(ValueError, match="states and next_states must both have shape"):
        data.Transitions(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3, bool))
    with pytest.raises(ValueError, match="actions must have 3 rows"):
        data.Transitions(np.zeros((3, 2)), np.zeros(2), np.zeros(3), np.zeros((3, 2)), np.zeros(3, bool))


def test_episode_returns_of_the_random_policy():
    returns = data.episode_returns("CartPole-v1", 20, seed=3)
    assert returns.shape == (20,) and np.all(returns >= 8) and 15 < returns.mean() < 30   # about 22
    assert np.array_equal(returns, data.episode_returns("CartPole-v1", 20, seed=3))
    pendulum = data.episode_returns("Pendulum-v1", 3, seed=0)
    assert np.all(pendulum < -100)   # 200 steps of random torque, never upright for long
    with pytest.raises(ValueError, match="n_episodes"):
        data.episode_returns("CartPole-v1", 0)
