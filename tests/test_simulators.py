import gymnasium as gym
import numpy as np
import pytest

from mbrl_helpers.worlds import simulators as sim
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze

SMALL = GridMaze(["S.#.", "..#G", "...."])


def random_cartpole_states(n, seed):
    """States spread over (and a little beyond) CartPole's non-terminal region."""
    rng = np.random.default_rng(seed)
    scale = np.array([2.5, 2.0, 0.22, 2.5])
    return rng.uniform(-scale, scale, size=(n, 4))


def test_cartpole_step_equals_gymnasium_env_step_for_step():
    env = gym.make("CartPole-v1").unwrapped
    env.reset(seed=0)
    states = random_cartpole_states(300, seed=1)
    actions = np.random.default_rng(2).integers(0, 2, size=300)
    next_states, rewards, terminated = sim.cartpole_step(states, actions)
    n_terminated = 0
    for i in range(300):
        env.state = states[i].copy()
        env.steps_beyond_terminated = None
        _, reward, done, truncated, _ = env.step(int(actions[i]))
        np.testing.assert_allclose(next_states[i], env.state, rtol=1e-13, atol=1e-15)
        assert rewards[i] == reward == 1.0
        assert terminated[i] == done and not truncated
        n_terminated += done
    assert 20 < n_terminated < 280  # both outcomes were exercised


def test_cartpole_follows_a_gymnasium_episode():
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=3)
    state = env.unwrapped.state.astype(np.float64)
    rng = np.random.default_rng(3)
    for _ in range(200):
        action = int(rng.integers(2))
        _, _, done, _, _ = env.step(action)
        state, _, model_done = sim.cartpole_step(state[None], np.array([action]))
        state = state[0]
        np.testing.assert_allclose(state, env.unwrapped.state, rtol=1e-12, atol=1e-14)
        assert bool(model_done[0]) == done
        if done:
            break


def test_compiled_cartpole_twin_equals_vectorised():
    states = random_cartpole_states(200, seed=4)
    actions = np.random.default_rng(5).integers(0, 2, size=200)
    expected, _, expected_done = sim.cartpole_step(states, actions)
    out = np.empty(4)
    for i in range(200):
        reward, done = sim.cartpole_step_one(states[i], int(actions[i]), out)
        np.testing.assert_allclose(out, expected[i], rtol=1e-14, atol=1e-15)
        assert reward == 1.0 and done == expected_done[i]


@pytest.mark.parametrize("layout", [DYNA_MAZE_LAYOUT, SMALL.layout])
def test_maze_step_fn_equals_env_moves(layout):
    maze = GridMaze(layout)
    step = sim.maze_step_fn(maze)
    cells = np.repeat(maze.open_states(), 4)
    actions = np.tile(np.arange(4), maze.open_states().size)
    next_states, rewards, terminated = step(cells, actions)
    assert next_states.dtype == np.int64 and rewards.dtype == np.float64
    assert terminated.dtype == np.bool_
    for s, a, s2, r, t in zip(cells, actions, next_states, rewards, terminated, strict=True):
        assert s2 == maze.move(s, a)
        assert t == maze.is_goal(s2) and r == float(t)


def test_maze_step_fn_accepts_a_registered_id():
    step = sim.maze_step_fn("mbrl/DynaMaze-v0")
    assert step(np.array([18]), np.array([0]))[0][0] == 9


def test_maze_model_rejects_states_it_cannot_take():
    step = sim.maze_step_fn(SMALL)
    with pytest.raises(ValueError, match="open cells"):
        step(np.array([2]), np.array([0]))          # a wall
    with pytest.raises(ValueError, match="open cells"):
        step(np.array([12]), np.array([0]))         # off the grid
    with pytest.raises(TypeError, match="int64"):
        step(np.array([0.0]), np.array([0]))
    with pytest.raises(ValueError, match="actions must be in 0..3"):
        step(np.array([0]), np.array([4]))
    with pytest.raises(TypeError, match="shape"):
        step(np.array([0, 1]), np.array([0]))


def test_cartpole_rejects_bad_states_and_actions():
    with pytest.raises(ValueError, match=r"\(B, 4\)"):
        sim.cartpole_step(np.zeros(4), np.array([0]))
    with pytest.raises(ValueError, match="finite"):
        sim.cartpole_step(np.full((1, 4), np.nan), np.array([0]))
    with pytest.raises(ValueError, match="0..1"):
        sim.cartpole_step(np.zeros((1, 4)), np.array([2]))


def test_compiled_model_only_for_known_simulators():
    assert sim.compiled_model(sim.cartpole_step).kind == sim.CARTPOLE_KIND
    assert sim.compiled_model(sim.maze_step_fn(SMALL)).kind == sim.MAZE_KIND
    assert sim.compiled_model(lambda s, a: sim.cartpole_step(s, a)) is None


def test_check_step_output_catches_interface_breaks():
    with pytest.raises(TypeError, match="return"):
        sim.check_step_output(lambda s, a: s, np.zeros((1, 4)), np.zeros(1, np.int64))
    with pytest.raises(ValueError, match="shape"):
        sim.check_step_output(lambda s, a: (s[:, :2], np.ones(1), np.zeros(1, bool)),
                              np.zeros((1, 4)), np.zeros(1, np.int64))
    with pytest.raises(TypeError, match="bool"):
        sim.check_step_output(lambda s, a: (s, np.ones(1), np.zeros(1)),
                              np.zeros((1, 4)), np.zeros(1, np.int64))
