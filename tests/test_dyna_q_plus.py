"""Dyna-Q+ and the changing-maze experiments (Figures 8.4 and 8.5)."""

import numpy as np
import pytest

from mbrl_helpers.agents import dyna_q_plus as dqp
from mbrl_helpers.agents import tabular
from mbrl_helpers.worlds.envs import (
    DYNA_MAZE_LAYOUT,
    ChangingMaze,
    GridMaze,
    make_blocking_maze,
    make_shortcut_maze,
)


def test_bonus_reward_by_hand():
    assert dqp.bonus_reward(0.0, 0.01, 16.0) == pytest.approx(0.04)
    assert dqp.bonus_reward(1.0, 1e-3, 0.0) == 1.0


def test_plus_planning_adds_the_bonus_on_a_hand_computed_case():
    """One seen state, four actions tried 9, 6, 2 and 0 steps ago; gamma 0 and alpha 1 make each
    planned update set Q(s, a) = r + kappa * sqrt(tau) exactly."""
    n_states = 2
    m_next = np.zeros((n_states, 4), dtype=np.int64)  # state 0: every action stays
    m_reward = np.zeros((n_states, 4))
    m_reward[0, 3] = 1.0
    m_term = np.zeros((n_states, 4), dtype=np.bool_)
    m_term[0, 3] = True
    last_tried = np.array([[0, 3, 7, 9], [0, 0, 0, 0]], dtype=np.int64)
    seen = np.array([0, 0], dtype=np.int64)
    q = np.zeros((n_states, 4))
    tabular.seed_numba(0)
    dqp.plus_planning(q, m_next, m_reward, m_term, last_tried, seen, 1, 400, 9, 0.1, 1.0, 0.0)
    np.testing.assert_allclose(q[0], [0.1 * 3, 0.1 * np.sqrt(6), 0.1 * np.sqrt(2), 1.0])
    assert np.all(q[1] == 0)
    # with gamma > 0 the bonus is bootstrapped like any reward: Q(0, 0) -> 0.3 + 0.5 max Q(0, .)
    q = np.zeros((n_states, 4))
    dqp.plus_planning(q, m_next, m_reward, m_term, last_tried, seen, 1, 4000, 9, 0.1, 1.0, 0.5)
    assert q[0, 0] == pytest.approx(0.3 + 0.5 * 1.0)


def test_dyna_q_in_a_world_that_never_changes_is_tabular_dyna_q():
    """Same random draws as notebook 01's Dyna-Q: same Q, a goal at the end of every episode."""
    result = tabular.run_dyna_q(GridMaze(DYNA_MAZE_LAYOUT), planning_steps=5, episodes=4, runs=1, seed=7)
    total = int(result.steps.sum())
    maze = ChangingMaze((DYNA_MAZE_LAYOUT, DYNA_MAZE_LAYOUT), switch_step=10)
    plain = dqp.run_changing_maze(maze, agent=dqp.DYNA_Q, steps=total, runs=1, seed=7,
                                  planning_steps=5, alpha=0.1)
    np.testing.assert_allclose(plain.q[0], result.q[0])
    goal_steps = np.flatnonzero(np.diff(plain.cumulative_reward[0], prepend=0)) + 1
    np.testing.assert_array_equal(goal_steps, np.cumsum(result.steps[0]))


def test_same_seed_same_result_whatever_the_number_of_runs():
    maze = make_blocking_maze()
    a = dqp.run_changing_maze(maze, agent=dqp.DYNA_Q_PLUS, steps=1500, runs=4, seed=3, kappa=1e-3)
    b = dqp.run_changing_maze(maze, agent=dqp.DYNA_Q_PLUS, steps=1500, runs=2, seed=3, kappa=1e-3)
    np.testing.assert_array_equal(a.cumulative_reward[:2], b.cumulative_reward)
    c = dqp.run_changing_maze(maze, agent=dqp.DYNA_Q_PLUS, steps=1500, runs=2, seed=4, kappa=1e-3)
    assert not np.array_equal(b.cumulative_reward, c.cumulative_reward)


def test_cumulative_reward_counts_goals_and_never_decreases():
    result = dqp.run_changing_maze(make_shortcut_maze(), agent=dqp.DYNA_Q, steps=800, runs=3, seed=0)
    steps = np.diff(result.cumulative_reward, axis=1)
    assert set(np.unique(steps)) <= {0, 1}
    assert result.cumulative_reward[:, -1].min() > 10  # the 16-step path is found within 800 steps
    assert result.reward_between(0, 800).tolist() == result.cumulative_reward[:, -1].tolist()


def test_dyna_q_plus_recovers_faster_in_the_blocking_maze():
    maze = make_blocking_maze()
    kwargs = {"steps": 3000, "runs": 10, "seed": 0, "kappa": 1e-3}
    plain = dqp.run_changing_maze(maze, agent=dqp.DYNA_Q, **kwargs)
    plus = dqp.run_changing_maze(maze, agent=dqp.DYNA_Q_PLUS, **kwargs)
    assert plus.reward_between(1000, 3000).mean() > 1.5 * plain.reward_between(1000, 3000).mean()
    assert (plus.steps_to_first_goal_after_switch() > 0).all()


def test_only_dyna_q_plus_finds_the_shortcut():
    maze = make_shortcut_maze()
    after = GridMaze(maze.layouts[1])
    kwargs = {"steps": 6000, "runs": 6, "seed": 0, "kappa": 1e-3}
    lengths = {}
    for agent in (dqp.DYNA_Q, dqp.DYNA_Q_PLUS):
        q = dqp.run_changing_maze(maze, agent=agent, **kwargs).q
        lengths[agent] = [len(tabular.greedy_path(after, q_run)) - 1 for q_run in q]
    assert min(lengths[dqp.DYNA_Q]) == 16
    assert sum(length == 10 for length in lengths[dqp.DYNA_Q_PLUS]) >= 4


def test_steps_to_first_goal_after_switch():
    result = dqp.ChangingMazeResult(
        cumulative_reward=np.array([[0, 1, 1, 1, 2, 2], [0, 0, 1, 1, 1, 1]]), q=np.zeros((2, 1, 4)),
        run_seeds=np.zeros(2, dtype=np.int64), agent=0, kappa=0.0, planning_steps=0, switch_step=3,
    )
    assert result.steps_to_first_goal_after_switch().tolist() == [2, -1]
    assert result.reward_between(3, 6).tolist() == [1, 0]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"kappa": -0.1}, ValueError, "kappa"),
    ({"agent": 3}, ValueError, "agent"),
    ({"steps": 0}, ValueError, "steps"),
    ({"runs": 0}, ValueError, "runs"),
    ({"planning_steps": -1}, ValueError, "planning_steps"),
    ({"alpha": 0.0}, ValueError, "alpha"),
    ({"epsilon": 1.5}, ValueError, "epsilon"),
])
def test_bad_inputs_are_named(kwargs, error, message):
    args = {"agent": dqp.DYNA_Q_PLUS, "steps": 10, "runs": 1, "seed": 0, **kwargs}
    with pytest.raises(error, match=message):
        dqp.run_changing_maze(make_blocking_maze(), **args)


def test_a_maze_that_does_not_change_is_refused():
    with pytest.raises(TypeError, match="ChangingMaze"):
        dqp.run_changing_maze(GridMaze(DYNA_MAZE_LAYOUT), agent=0, steps=10, runs=1, seed=0)


def test_slices_do_not_change_a_single_draw(monkeypatch):
    """The changing-maze runs stop every SLICE_UPDATES updates (so Ctrl-C works): tiny
    slices, cut inside planning, give the same bits as long ones."""
    from mbrl_helpers.agents import dyna_q_plus as module
    from mbrl_helpers.worlds.envs import make_blocking_maze

    def run(agent):
        return module.run_changing_maze(make_blocking_maze(switch_step=30), agent=agent, steps=80,
                                        runs=3, seed=2, planning_steps=6)

    whole = [run(agent) for agent in module.AGENT_NAMES]
    monkeypatch.setattr(module, "SLICE_UPDATES", 4)
    for agent, expected in zip(module.AGENT_NAMES, whole, strict=True):
        got = run(agent)
        np.testing.assert_array_equal(got.cumulative_reward, expected.cumulative_reward)
        np.testing.assert_array_equal(got.q, expected.q)
