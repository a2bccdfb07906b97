"""Prioritized sweeping: the priority queue, the agent, and Example 8.4's experiment."""

import numpy as np
import pytest

from mbrl_helpers.agents import sweeping, tabular
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze, make_scaled_dyna_maze


def test_queue_pops_in_order_of_priority():
    heap, prio, pos, size = sweeping.new_queue(50)
    rng = np.random.default_rng(0)
    priorities = rng.random(50)
    for pair in rng.permutation(50):
        sweeping.pq_push(heap, prio, pos, size, int(pair), float(priorities[pair]))
    assert size[0] == 50
    popped = [sweeping.pq_pop(heap, prio, pos, size) for _ in range(50)]
    assert [pair for pair, _ in popped] == np.argsort(-priorities).tolist()
    assert size[0] == 0 and (pos == -1).all()


def test_a_queued_pair_keeps_its_larger_priority():
    heap, prio, pos, size = sweeping.new_queue(10)
    for pair, priority in [(3, 0.5), (4, 0.2), (7, 0.4)]:
        sweeping.pq_push(heap, prio, pos, size, pair, priority)
    sweeping.pq_push(heap, prio, pos, size, 3, 0.1)  # lower: ignored
    sweeping.pq_push(heap, prio, pos, size, 4, 0.9)  # higher: raised, now first
    assert size[0] == 3
    assert [sweeping.pq_pop(heap, prio, pos, size) for _ in range(3)] == [(4, 0.9), (3, 0.5), (7, 0.4)]


def test_interleaved_pushes_and_pops_match_a_sorted_list():
    heap, prio, pos, size = sweeping.new_queue(30)
    rng = np.random.default_rng(1)
    queued: dict[int, float] = {}
    for _ in range(400):
        if queued and rng.random() < 0.4:
            pair, priority = sweeping.pq_pop(heap, prio, pos, size)
            assert priority == max(queued.values()) and queued.pop(pair) == priority
        else:
            pair, priority = int(rng.integers(30)), float(rng.random())
            sweeping.pq_push(heap, prio, pos, size, pair, priority)
            queued[pair] = max(priority, queued.get(pair, 0.0))
        assert size[0] == len(queued)


@pytest.mark.parametrize("resolution", [1, 2])
def test_prioritized_sweeping_reaches_the_optimal_path(resolution):
    """factor 1.0: done only when the greedy path is a shortest path."""
    result = sweeping.run_updates_until_near_optimal((resolution,), runs=4, seed=0, factor=1.0)
    assert (result.episodes["prioritized sweeping"] > 0).all()
    maze = make_scaled_dyna_maze(resolution)
    assert result.shortest.tolist() == [maze.shortest_path_length()]


def test_greedy_within_on_a_corridor():
    maze = GridMaze(["S...G"])
    tables = maze.tables()
    q = np.zeros((5, 4))
    q[:4, 3] = 1.0  # always right
    assert sweeping.greedy_within(tables.next_state, tables.terminated, 0, q, 4)
    assert not sweeping.greedy_within(tables.next_state, tables.terminated, 0, q, 3)
    assert not sweeping.greedy_within(tables.next_state, tables.terminated, 0, np.zeros((5, 4)), 100)


def test_prioritized_sweeping_needs_fewer_updates_than_dyna_q_in_the_dyna_maze():
    result = sweeping.run_updates_until_near_optimal((1,), runs=10, seed=0)
    assert result.speedup()[0] > 3
    assert (result.updates["Dyna-Q"] == result.steps["Dyna-Q"] * 6).all()  # 1 real + 5 planned per step
    assert (result.updates["prioritized sweeping"] <= 5 * result.steps["prioritized sweeping"]).all()


def test_same_seed_same_counts():
    a = sweeping.run_updates_until_near_optimal((1, 2), runs=3, seed=5)
    b = sweeping.run_updates_until_near_optimal((1, 2), runs=3, seed=5)
    for name in a.updates:
        np.testing.assert_array_equal(a.updates[name], b.updates[name])


def test_where_updates_go_counts_every_update():
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    for method in (sweeping.PRIORITIZED_SWEEPING, sweeping.DYNA_Q):
        visits, updates_at, total = sweeping.where_updates_go(maze, method, seed=0)
        assert visits.shape == updates_at.shape == (6, 9)
        assert updates_at.sum() == total > 0
        assert visits[maze.walls].sum() == 0 and updates_at[maze.walls].sum() == 0
    # the same seed gives the same picture
    again = sweeping.where_updates_go(maze, sweeping.DYNA_Q, seed=0)
    np.testing.assert_array_equal(again[1], updates_at)


def test_dyna_q_episode_counts_match_tabular_dyna_q():
    """The counting Dyna-Q is notebook 01's Dyna-Q: same draws, same Q after an episode."""
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    tables = maze.tables()
    (run_seed,) = tabular.run_seeds_from(2, 1)
    tabular.seed_numba(run_seed)
    q_ref = np.zeros((maze.n_states, 4))
    steps_ref = tabular.dyna_q_episodes(tables.next_state, tables.reward, tables.terminated, tables.start,
                                        q_ref, tabular.new_tabular_model(maze.n_states), 5, 1,
                                        0.5, 0.1, 0.95, 1_000_000, -1)
    tabular.seed_numba(run_seed)
    q = np.zeros((maze.n_states, 4))
    n = maze.n_states
    steps, updates = sweeping.dyna_q_episode(
        tables.next_state, tables.reward, tables.terminated, tables.start, q,
        np.full((n, 4), -1, dtype=np.int64), np.zeros((n, 4)), np.zeros((n, 4), dtype=np.bool_),
        np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64), 5, 0.5, 0.1, 0.95,
        np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
    )
    assert steps == steps_ref[0] and updates == 6 * steps
    np.testing.assert_allclose(q, q_ref)


@pytest.mark.parametrize("kwargs, message", [
    ({"theta": -1e-4}, "theta"),
    ({"factor": 0.9}, "factor"),
    ({"planning_steps": -1}, "planning_steps"),
    ({"alpha": 1.5}, "alpha"),
    ({"runs": 0}, "runs"),
    ({"resolutions": (0,)}, "resolution"),
    ({"resolutions": ()}, "resolutions"),
])
def test_bad_inputs_are_named(kwargs, message):
    args = {"resolutions": (1,), "runs": 1, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        sweeping.run_updates_until_near_optimal(**args)


def test_where_updates_go_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="method"):
        sweeping.where_updates_go(GridMaze(DYNA_MAZE_LAYOUT), 7, seed=0)


def plain_prioritized_sweeping_episode(maze, q, model, pred, queue, n, alpha, gamma, epsilon, theta):
    """The book's box in plain Python, with the package's queue functions and random draws."""
    tables = maze.tables()
    heap, prio, pos, size = queue
    s, updates = maze.start, 0
    while True:
        a = tabular.epsilon_greedy(q[s], epsilon)
        s_next, r, done = int(tables.next_state[s, a]), tables.reward[s, a], bool(tables.terminated[s, a])
        model[(s, a)] = (r, s_next, done)
        pred.setdefault(s_next, [])
        if (s, a) not in pred[s_next]:
            pred[s_next].append((s, a))
        p = abs((r if done else r + gamma * q[s_next].max()) - q[s, a])
        if p > theta:
            sweeping.pq_push(heap, prio, pos, size, s * 4 + a, p)
        for _ in range(n):
            if size[0] == 0:
                break
            pair, _ = sweeping.pq_pop(heap, prio, pos, size)
            ps, pa = divmod(int(pair), 4)
            pr, pn, pd = model[(ps, pa)]
            tabular.q_learning_update(q, ps, pa, pr, pn, pd, alpha, gamma)
            updates += 1
            for bs, ba in pred.get(ps, []):
                br, _, bd = model[(bs, ba)]
                p = abs((br if bd else br + gamma * q[ps].max()) - q[bs, ba])
                if p > theta:
                    sweeping.pq_push(heap, prio, pos, size, bs * 4 + ba, p)
        s = s_next
        if done:
            return updates


def test_compiled_episode_matches_the_plain_book_version():
    """The compiled episode writes the queue operations out; it must do exactly what
    pq_push / pq_pop do, draw for draw, over several episodes."""
    maze = make_scaled_dyna_maze(2)
    tables, n = maze.tables(), maze.n_states
    args = dict(planning_steps=5, alpha=0.5, epsilon=0.1, gamma=0.95, theta=1e-4)
    tabular.seed_numba(11)
    q = np.zeros((n, 4))
    state = (np.full((n, 4), -1, dtype=np.int64), np.zeros((n, 4)), np.zeros((n, 4), dtype=np.bool_),
             np.zeros((n, sweeping.MAX_PREDECESSORS), dtype=np.int64), np.zeros(n, dtype=np.int64),
             *sweeping.new_queue(4 * n))
    compiled = [
        sweeping.prioritized_sweeping_episode(
            tables.next_state, tables.reward, tables.terminated, tables.start, q, *state,
            args["planning_steps"], args["alpha"], args["epsilon"], args["gamma"], args["theta"],
            np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64),
        )[1]
        for _ in range(4)
    ]
    tabular.seed_numba(11)
    q_plain, model, pred, queue = np.zeros((n, 4)), {}, {}, sweeping.new_queue(4 * n)
    plain = [plain_prioritized_sweeping_episode(maze, q_plain, model, pred, queue, 5, 0.5, 0.95, 0.1, 1e-4)
             for _ in range(4)]
    assert compiled == plain and sum(plain) > 0
    np.testing.assert_allclose(q, q_plain)


def test_no_cell_has_more_predecessors_than_there_is_room_for():
    for resolution in (1, 3):
        tables = make_scaled_dyna_maze(resolution).tables()
        maze = make_scaled_dyna_maze(resolution)
        into = np.bincount(tables.next_state[maze.open_states()].ravel(), minlength=maze.n_states)
        assert into.max() <= 4 < sweeping.MAX_PREDECESSORS


def test_slices_do_not_change_a_single_draw(monkeypatch):
    """The runs return to Python between whole episodes (so Ctrl-C works), each run keeping
    its generator state: one episode per slice gives the same counts."""
    whole = sweeping.run_updates_until_near_optimal((1, 2), runs=3, seed=1)
    maps = sweeping.where_updates_go(GridMaze(DYNA_MAZE_LAYOUT), sweeping.DYNA_Q, seed=1)
    monkeypatch.setattr(sweeping, "SLICE_WORK", 1)
    sliced = sweeping.run_updates_until_near_optimal((1, 2), runs=3, seed=1)
    for name in whole.updates:
        np.testing.assert_array_equal(sliced.updates[name], whole.updates[name])
        np.testing.assert_array_equal(sliced.steps[name], whole.steps[name])
        np.testing.assert_array_equal(sliced.episodes[name], whole.episodes[name])
    again = sweeping.where_updates_go(GridMaze(DYNA_MAZE_LAYOUT), sweeping.DYNA_Q, seed=1)
    for got, expected in zip(again, maps, strict=True):
        np.testing.assert_array_equal(got, expected)
