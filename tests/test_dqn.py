"""The compact DQN: replay buffer, target, agent and loop (fast, a few seconds)."""

import numpy as np
import pytest
import torch

from mbrl_helpers.agents import dqn

torch.set_num_threads(1)

SMALL = dqn.DQNConfig(hidden=16, batch_size=8, buffer_size=500, learning_starts=50, max_steps=200,
                      eval_every=100, eval_episodes=2, epsilon_decay_steps=100, target_update_every=20)


def transition(i):
    return np.full(3, i, np.float32), i % 2, float(i), np.full(3, i + 1, np.float32), i % 4 == 3


def test_replay_buffer_wraps_around_overwriting_the_oldest():
    buffer = dqn.ReplayBuffer(capacity=3, obs_dim=3)
    for i in range(5):
        buffer.add(*transition(i))
    assert len(buffer) == 3 and buffer.position == 2
    # slots 0 and 1 were overwritten by transitions 3 and 4; slot 2 still holds 2
    np.testing.assert_array_equal(buffer.rewards, [3.0, 4.0, 2.0])
    np.testing.assert_array_equal(buffer.states[:, 0], [3, 4, 2])
    np.testing.assert_array_equal(buffer.next_states[:, 0], [4, 5, 3])
    np.testing.assert_array_equal(buffer.terminated, [True, False, False])


def test_add_batch_wraps_like_single_adds():
    one, many = dqn.ReplayBuffer(4, 3), dqn.ReplayBuffer(4, 3)
    items = [transition(i) for i in range(7)]
    for item in items:
        one.add(*item)
    many.add_batch(*(np.array([item[j] for item in items[:2]]) for j in range(5)))
    many.add_batch(*(np.array([item[j] for item in items[2:]]) for j in range(5)))
    for name in ("states", "actions", "rewards", "next_states", "terminated"):
        np.testing.assert_array_equal(getattr(one, name), getattr(many, name))
    assert (one.position, one.size) == (many.position, many.size) == (3, 4)


def test_sampling_draws_only_stored_transitions_reproducibly():
    buffer = dqn.ReplayBuffer(100, 3)
    for i in range(10):
        buffer.add(*transition(i))
    a = buffer.sample(50, np.random.default_rng(0))
    b = buffer.sample(50, np.random.default_rng(0))
    np.testing.assert_array_equal(a["rewards"], b["rewards"])
    assert set(a["rewards"].tolist()) <= set(range(10)) and len(set(a["rewards"].tolist())) > 5
    assert a["states"].shape == (50, 3) and a["actions"].dtype == np.int64
    np.testing.assert_array_equal(a["next_states"][:, 0], a["rewards"] + 1)  # rows stay together


def test_bad_buffer_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="cannot sample from an empty ReplayBuffer"):
        dqn.ReplayBuffer(5, 3).sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="capacity must be >= 1, got 0"):
        dqn.ReplayBuffer(0, 3)
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        dqn.ReplayBuffer(5, 3).sample(2.5, np.random.default_rng(0))


def test_td_targets_on_a_hand_computed_batch():
    rewards = torch.tensor([1.0, 1.0, 0.5])
    next_q = torch.tensor([[2.0, 3.0], [10.0, -1.0], [4.0, 4.0]])
    terminated = torch.tensor([False, True, False])
    got = dqn.td_targets(rewards, next_q, terminated, gamma=0.9)
    # 1 + 0.9 * 3 = 3.7; terminal: 1; 0.5 + 0.9 * 4 = 4.1
    torch.testing.assert_close(got, torch.tensor([3.7, 1.0, 4.1]))


def test_epsilon_schedule_is_linear_then_flat():
    config = dqn.DQNConfig(epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_steps=100)
    assert dqn.epsilon_at(0, config) == 1.0
    assert dqn.epsilon_at(50, config) == pytest.approx(0.55)
    assert dqn.epsilon_at(1000, config) == pytest.approx(0.1)


def test_update_moves_q_towards_the_target_and_syncs_the_target_net():
    torch.manual_seed(0)
    agent = dqn.DQNAgent(3, 2, dqn.DQNConfig(hidden=8, lr=1e-2, target_update_every=5))
    batch = {"states": np.ones((4, 3), np.float32), "actions": np.zeros(4, np.int64),
             "rewards": np.full(4, 2.0, np.float32), "next_states": np.ones((4, 3), np.float32),
             "terminated": np.ones(4, bool)}
    losses = [agent.update(batch) for _ in range(5)]
    assert losses[-1] < losses[0] and agent.updates == 5
    for p, t in zip(agent.q.parameters(), agent.target.parameters(), strict=True):
        torch.testing.assert_close(p, t)  # copied after the 5th update


def test_training_is_deterministic_given_the_seed():
    a = dqn.train_dqn(SMALL, seed=3)
    b = dqn.train_dqn(SMALL, seed=3)
    np.testing.assert_array_equal(a.eval_returns, b.eval_returns)
    np.testing.assert_array_equal(a.eval_steps, [100, 200])
    assert a.updates == (200 - 50) * 1 and a.real_steps == 200
    assert all(0 < r <= 500 for r in a.eval_returns)


def test_replay_ratio_sets_updates_per_real_step():
    result = dqn.train_dqn(dqn.DQNConfig(**{**SMALL.__dict__, "updates_per_step": 3}), seed=0)
    assert result.updates == 3 * 150 and result.updates_per_real_step == pytest.approx(2.25)


def test_bad_configs_and_envs_raise_clear_errors():
    with pytest.raises(ValueError, match="gamma must be in \\[0, 1\\], got 1.5"):
        dqn.DQNConfig(gamma=1.5)
    with pytest.raises(ValueError, match="updates_per_step must be >= 0, got -1"):
        dqn.DQNConfig(updates_per_step=-1)
    with pytest.raises(TypeError, match="Discrete action space"):
        dqn.train_dqn(SMALL, seed=0, env_id="Pendulum-v1")
    with pytest.raises(ValueError, match="real_fraction must be in"):
        dqn.train_dqn(SMALL, seed=0, real_fraction=2.0)
