"""Public compiled kernels that take raw tables check them when called from Python.

A wrong-shaped table or an index out of range must give a ValueError that names the
parameter, never a crash or a silent read of memory the arrays do not own.
"""

import numpy as np
import pytest

from mbrl_helpers.agents import dyna_q_plus, sweeping, tabular
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze

MAZE = GridMaze(DYNA_MAZE_LAYOUT)
TABLES = MAZE.tables()
N = MAZE.n_states


def agent_arrays():
    """q, m_next, m_reward, m_term, visits, updates_at of an agent that has not acted."""
    return {"q": np.zeros((N, 4)), "m_next": np.full((N, 4), -1, dtype=np.int64),
            "m_reward": np.zeros((N, 4)), "m_term": np.zeros((N, 4), dtype=np.bool_),
            "visits": np.zeros(N, dtype=np.int64), "updates_at": np.zeros(N, dtype=np.int64)}


def sweeping_args(**change):
    a = agent_arrays()
    heap, prio, pos, size = sweeping.new_queue(4 * N)
    args = {"next_state": TABLES.next_state, "reward": TABLES.reward, "terminated": TABLES.terminated,
            "start": TABLES.start, "q": a["q"], "m_next": a["m_next"], "m_reward": a["m_reward"],
            "m_term": a["m_term"], "pred": np.zeros((N, sweeping.MAX_PREDECESSORS), dtype=np.int64),
            "n_pred": np.zeros(N, dtype=np.int64), "heap": heap, "prio": prio, "pos": pos,
            "size": size, "planning_steps": 5, "alpha": 0.5, "epsilon": 0.1, "gamma": 0.95,
            "theta": 1e-4, "visits": a["visits"], "updates_at": a["updates_at"]}
    return {**args, **change}


def dyna_args(**change):
    a = agent_arrays()
    args = {"next_state": TABLES.next_state, "reward": TABLES.reward, "terminated": TABLES.terminated,
            "start": TABLES.start, "q": a["q"], "m_next": a["m_next"], "m_reward": a["m_reward"],
            "m_term": a["m_term"], "seen_states": np.zeros(N, dtype=np.int64),
            "n_seen": np.zeros(1, dtype=np.int64), "planning_steps": 5, "alpha": 0.5, "epsilon": 0.1,
            "gamma": 0.95, "visits": a["visits"], "updates_at": a["updates_at"]}
    return {**args, **change}


def test_the_unchanged_arguments_run():
    tabular.seed_numba(0)
    steps, _ = sweeping.prioritized_sweeping_episode(**sweeping_args())
    assert steps > 0
    steps, updates = sweeping.dyna_q_episode(**dyna_args())
    assert updates == 6 * steps


@pytest.mark.parametrize("change, name", [
    ({"start": N}, "start"),
    ({"q": np.zeros((N + 1, 4))}, "q"),
    ({"m_next": np.full((N, 3), -1, dtype=np.int64)}, "m_next"),
    ({"m_next": np.full((N, 4), N, dtype=np.int64)}, "m_next"),
    ({"pred": np.zeros((N, 2), dtype=np.int64)}, "pred"),
    ({"n_pred": np.full(N, 9, dtype=np.int64)}, "n_pred"),
    ({"heap": np.zeros(3, dtype=np.int64)}, "prio"),
    ({"visits": np.zeros(N - 1, dtype=np.int64)}, "visits"),
    ({"next_state": TABLES.next_state + N}, "next_state"),
    ({"reward": TABLES.reward[:, :2]}, "reward"),
])
def test_prioritized_sweeping_episode_names_the_bad_table(change, name):
    with pytest.raises(ValueError, match=name):
        sweeping.prioritized_sweeping_episode(**sweeping_args(**change))


@pytest.mark.parametrize("change, name", [
    ({"start": -1}, "start"),
    ({"q": np.zeros((N, 5))}, "q"),
    ({"m_reward": np.zeros((N, 4), dtype=np.float32)}, "m_reward"),
    ({"seen_states": np.zeros(N - 1, dtype=np.int64)}, "seen_states"),
    ({"seen_states": np.full(N, N, dtype=np.int64), "n_seen": np.ones(1, dtype=np.int64)}, "seen_states"),
    ({"n_seen": np.full(1, N + 1, dtype=np.int64)}, "n_seen"),
    ({"updates_at": np.zeros(N, dtype=np.int32)}, "updates_at"),
])
def test_dyna_q_episode_names_the_bad_table(change, name):
    with pytest.raises(ValueError, match=name):
        sweeping.dyna_q_episode(**dyna_args(**change))


def test_queue_and_greedy_path_name_the_bad_argument():
    heap, prio, pos, size = sweeping.new_queue(4)
    with pytest.raises(ValueError, match="pair"):
        sweeping.pq_push(heap, prio, pos, size, 4, 1.0)
    with pytest.raises(ValueError, match="prio"):
        sweeping.pq_push(heap, prio[:3], pos, size, 0, 1.0)
    with pytest.raises(ValueError, match="empty"):
        sweeping.pq_pop(heap, prio, pos, size)
    with pytest.raises(ValueError, match="size"):
        sweeping.pq_pop(heap, prio, pos, np.array([9]))
    with pytest.raises(ValueError, match="q"):
        sweeping.greedy_within(TABLES.next_state, TABLES.terminated, 0, np.zeros((N, 3)), 10)
    with pytest.raises(ValueError, match="start"):
        sweeping.greedy_within(TABLES.next_state, TABLES.terminated, N, np.zeros((N, 4)), 10)


def plus_args(**change):
    m_next = np.full((N, 4), -1, dtype=np.int64)
    m_next[TABLES.start] = TABLES.start  # one seen state, every action modelled as "stay"
    seen = np.zeros(N, dtype=np.int64)
    seen[0] = TABLES.start
    args = {"q": np.zeros((N, 4)), "m_next": m_next, "m_reward": np.zeros((N, 4)),
            "m_term": np.zeros((N, 4), dtype=np.bool_), "last_tried": np.zeros((N, 4), dtype=np.int64),
            "seen_states": seen, "n_seen": 1, "n": 10, "now": 3, "kappa": 1e-3, "alpha": 0.5,
            "gamma": 0.95}
    return {**args, **change}


@pytest.mark.parametrize("change, name", [
    ({"m_next": np.zeros((N, 2), dtype=np.int64)}, "m_next"),
    ({"q": np.zeros((N, 4), dtype=np.float32)}, "q"),
    ({"seen_states": np.full(N, N + 3, dtype=np.int64)}, "seen_states"),
    ({"n_seen": N + 1}, "n_seen"),
    ({"n_seen": 0}, "n_seen"),
    ({"m_next": np.full((N, 4), -1, dtype=np.int64)}, "m_next"),
    ({"last_tried": np.full((N, 4), 99, dtype=np.int64)}, "now"),
])
def test_plus_planning_names_the_bad_table(change, name):
    dyna_q_plus.plus_planning(**plus_args())  # the unchanged arguments run
    with pytest.raises(ValueError, match=name):
        dyna_q_plus.plus_planning(**plus_args(**change))


def test_tabular_planning_refuses_a_model_pointing_outside_its_tables():
    model = tabular.new_tabular_model(N)
    tabular.model_update(model, 0, 1, 0.0, 2, False)
    model.seen_states[0] = N + 5
    with pytest.raises(ValueError, match="model.seen_states"):
        tabular.planning(np.zeros((N, 4)), model, 3, 0.5, 0.9)
    model.seen_states[0] = 0
    model.next_state[0, 1] = N
    with pytest.raises(ValueError, match="model.next_state"):
        tabular.planning(np.zeros((N, 4)), model, 3, 0.5, 0.9)
