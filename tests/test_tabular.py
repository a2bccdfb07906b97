import ast
import contextlib
import inspect
from pathlib import Path

import numpy as np
import pytest

from mbrl_helpers.agents import tabular
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze

DYNA = GridMaze(DYNA_MAZE_LAYOUT)
CORRIDOR = GridMaze(["S...G"])


def plain_q_learning(maze, episodes, seed, alpha=0.1, epsilon=0.1, gamma=0.95):
    """Q-learning written out in plain Python, drawing from the same numba generator."""
    (run_seed,) = tabular.run_seeds_from(seed, 1)
    tabular.seed_numba(run_seed)
    q = np.zeros((maze.n_states, 4))
    steps = []
    for _ in range(episodes):
        s, t, done = maze.start, 0, False
        while not done:
            a = tabular.epsilon_greedy(q[s], epsilon)
            s_next = maze.move(s, a)
            done = maze.is_goal(s_next)
            target = float(done) + (0.0 if done else gamma * q[s_next].max())
            q[s, a] += alpha * (target - q[s, a])
            s, t = s_next, t + 1
        steps.append(t)
    return np.array(steps), q


def test_zero_planning_steps_is_q_learning():
    result = tabular.run_dyna_q(DYNA, planning_steps=0, episodes=5, runs=1, seed=3)
    steps, q = plain_q_learning(DYNA, episodes=5, seed=3)
    np.testing.assert_array_equal(result.steps[0], steps)
    np.testing.assert_allclose(result.q[0], q)


def test_q_learning_update_by_hand():
    q = np.zeros((3, 4))
    q[1] = [0.0, 2.0, 1.0, -1.0]
    td = tabular.q_learning_update(q, 0, 3, 0.5, 1, False, 0.1, 0.9)
    assert td == pytest.approx(0.5 + 0.9 * 2.0)
    assert q[0, 3] == pytest.approx(0.1 * (0.5 + 1.8))
    q2 = np.zeros((3, 4))
    q2[1] = 5.0
    tabular.q_learning_update(q2, 0, 0, 1.0, 1, True, 0.5, 0.9)  # terminal: no bootstrap
    assert q2[0, 0] == pytest.approx(0.5)


def test_planning_update_on_a_hand_computed_case():
    """Corridor S . . G: after one real episode and plenty of planning the values
    along the corridor are gamma ** (steps to go - 1)."""
    model = tabular.new_tabular_model(5)
    for s in range(4):
        tabular.model_update(model, s, 3, float(s == 3), s + 1, s == 3)
    q = np.zeros((5, 4))
    tabular.seed_numba(0)
    tabular.planning(q, model, 5000, 1.0, 0.5)  # alpha 1: each update sets the target exactly
    np.testing.assert_allclose(q[:4, 3], [0.125, 0.25, 0.5, 1.0])
    assert np.all(q[:, :3] == 0)  # untried actions are never planned on


def test_one_planning_step_by_hand():
    model = tabular.new_tabular_model(4)
    tabular.model_update(model, 2, 1, 0.0, 3, False)  # the only pair the model knows
    q = np.zeros((4, 4))
    q[3] = [0.0, 0.4, 0.2, 0.0]
    tabular.seed_numba(0)
    tabular.planning(q, model, 1, 0.5, 0.9)
    assert q[2, 1] == pytest.approx(0.5 * 0.9 * 0.4)


def test_planning_samples_like_model_sample():
    rng = np.random.default_rng(0)
    model = tabular.new_tabular_model(20)
    for _ in range(40):
        tabular.model_update(model, int(rng.integers(20)), int(rng.integers(4)),
                             float(rng.normal()), int(rng.integers(20)), bool(rng.random() < 0.1))
    q_fast, q_plain = np.zeros((20, 4)), np.zeros((20, 4))
    tabular.seed_numba(7)
    tabular.planning(q_fast, model, 500, 0.3, 0.9)
    tabular.seed_numba(7)
    for _ in range(500):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(q_plain, s, a, model.reward[s, a], model.next_state[s, a],
                                  model.terminated[s, a], 0.3, 0.9)
    np.testing.assert_array_equal(q_fast, q_plain)


def test_model_sample_only_returns_tried_pairs():
    model = tabular.new_tabular_model(10)
    tried = {(3, 1), (3, 2), (7, 0)}
    for s, a in tried:
        tabular.model_update(model, s, a, 0.0, 0, False)
    tabular.seed_numba(1)
    drawn = {tabular.model_sample(model) for _ in range(300)}
    assert drawn == tried
    assert sorted(model.seen_states[: model.n_seen[0]]) == [3, 7]


def test_epsilon_greedy_breaks_ties_at_random_and_explores():
    tabular.seed_numba(0)
    greedy = [tabular.epsilon_greedy(np.array([1.0, 3.0, 3.0, 0.0]), 0.0) for _ in range(400)]
    assert set(greedy) == {1, 2}
    assert 150 < greedy.count(1) < 250
    explore = [tabular.epsilon_greedy(np.array([0.0, 9.0, 0.0, 0.0]), 1.0) for _ in range(400)]
    assert set(explore) == {0, 1, 2, 3}


def test_same_seed_same_result_and_different_seed_differs():
    a = tabular.run_dyna_q(DYNA, planning_steps=5, episodes=10, runs=4, seed=11)
    b = tabular.run_dyna_q("mbrl/DynaMaze-v0", planning_steps=5, episodes=10, runs=4, seed=11)
    c = tabular.run_dyna_q(DYNA, planning_steps=5, episodes=10, runs=4, seed=12)
    np.testing.assert_array_equal(a.steps, b.steps)
    np.testing.assert_array_equal(a.q, b.q)
    assert not np.array_equal(a.steps, c.steps)
    assert a.steps.shape == (4, 10) and a.steps.dtype == np.int64
    assert a.q.shape == (4, 54, 4)


def test_runs_do_not_depend_on_how_many_are_run_together():
    many = tabular.run_dyna_q(DYNA, planning_steps=5, episodes=5, runs=6, seed=2)
    for run, run_seed in enumerate(many.run_seeds):
        tabular.seed_numba(run_seed)
        q = np.zeros((DYNA.n_states, 4))
        tables = DYNA.tables()
        steps = tabular.dyna_q_episodes(
            tables.next_state, tables.reward, tables.terminated, tables.start, q,
            tabular.new_tabular_model(DYNA.n_states), 5, 5, 0.1, 0.1, 0.95, 1_000_000, -1)
        np.testing.assert_array_equal(steps, many.steps[run])


def test_dyna_q_greedy_path_reaches_the_14_step_optimum():
    result = tabular.run_dyna_q(DYNA, planning_steps=50, episodes=50, runs=30, seed=0)
    lengths = [len(tabular.greedy_path(DYNA, q)) - 1 for q in result.q]
    paths_reach_goal = [tabular.reaches_goal(DYNA, tabular.greedy_path(DYNA, q)) for q in result.q]
    assert all(paths_reach_goal)
    assert min(lengths) == 14
    # Dyna-Q only knows the pairs it tried: a few runs settle on a 16-step detour.
    assert sum(length == 14 for length in lengths) >= 20


def test_planning_speeds_up_learning_in_the_dyna_maze():
    mean = {
        n: tabular.run_dyna_q(DYNA, planning_steps=n, episodes=10, runs=30, seed=0).mean_steps
        for n in (0, 50)
    }
    assert mean[50][2] < 25 < mean[0][2]


def test_q_snapshot_stops_midway_through_episode_2():
    q0 = tabular.q_snapshot(DYNA, planning_steps=0, seed=0)
    q50 = tabular.q_snapshot(DYNA, planning_steps=50, seed=0)
    # Q-learning has learned only the last step of episode 1 (Figure 8.3, left)
    assert int((q0.max(axis=1) > 0).sum()) == 1
    assert q0.max() == pytest.approx(0.1)
    assert int((q50.max(axis=1) > 0).sum()) > 20


def test_greedy_path_on_a_corridor():
    q = np.zeros((5, 4))
    q[:4, 3] = 1.0
    assert tabular.greedy_path(CORRIDOR, q) == [0, 1, 2, 3, 4]
    assert tabular.greedy_path(CORRIDOR, np.zeros((5, 4)), max_steps=3) == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="q must have shape"):
        tabular.greedy_path(CORRIDOR, np.zeros((4, 4)))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"planning_steps": -1}, ValueError, r"planning_steps must be in \[0, \d+\], got -1"),
        ({"planning_steps": 2.5}, TypeError, "planning_steps must be an integer"),
        ({"episodes": 0}, ValueError, "episodes must be >= 1, got 0"),
        ({"runs": 0}, ValueError, "runs must be >= 1, got 0"),
        ({"alpha": 0.0}, ValueError, r"alpha must be in \(0, 1\], got 0.0"),
        ({"alpha": 1.5}, ValueError, r"alpha must be in \(0, 1\], got 1.5"),
        ({"epsilon": -0.1}, ValueError, r"epsilon must be in \[0, 1\], got -0.1"),
        ({"epsilon": 1.1}, ValueError, r"epsilon must be in \[0, 1\], got 1.1"),
        ({"gamma": 1.01}, ValueError, r"gamma must be in \[0, 1\], got 1.01"),
        ({"gamma": float("nan")}, ValueError, "gamma must be a number, got NaN"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
    ],
)
def test_bad_inputs_are_named(kwargs, error, message):
    settings = {"planning_steps": 0, "episodes": 1, "runs": 1, "seed": 0, **kwargs}
    with pytest.raises(error, match=message):
        tabular.run_dyna_q(DYNA, **settings)


def test_bad_maze_type():
    with pytest.raises(TypeError, match="maze must be a GridMaze"):
        tabular.run_dyna_q(object(), planning_steps=0, episodes=1, runs=1, seed=0)


def test_slices_do_not_change_a_single_draw(monkeypatch):
    """run_dyna_q and q_snapshot stop every SLICE_UPDATES updates (so Ctrl-C works) and go on
    from each run's saved generator state: tiny slices, cut inside planning, give the same bits."""
    whole = tabular.run_dyna_q(DYNA, planning_steps=7, episodes=4, runs=3, seed=5)
    snapshot = tabular.q_snapshot(DYNA, planning_steps=7, seed=5)
    monkeypatch.setattr(tabular, "SLICE_UPDATES", 5)
    sliced = tabular.run_dyna_q(DYNA, planning_steps=7, episodes=4, runs=3, seed=5)
    np.testing.assert_array_equal(sliced.steps, whole.steps)
    np.testing.assert_array_equal(sliced.q, whole.q)
    np.testing.assert_array_equal(tabular.q_snapshot(DYNA, planning_steps=7, seed=5), snapshot)


def test_the_slice_runner_is_dyna_q_episodes_cut_anywhere(monkeypatch):
    """run_dyna_q runs _dyna_q_slice, notebook 01 shows dyna_q_episodes: the same agent, bit for
    bit, even cut every 3 updates (inside planning), with episodes stopped by the step cap and
    a run stopped in mid-episode (q_snapshot's stop_after_steps)."""
    monkeypatch.setattr(tabular, "SLICE_UPDATES", 3)
    tables = DYNA.tables()

    def shown(run_seed, planning_steps, episodes, cap, stop):
        tabular.seed_numba(run_seed)
        q = np.zeros((DYNA.n_states, 4))
        steps = tabular.dyna_q_episodes(
            tables.next_state, tables.reward, tables.terminated, tables.start, q,
            tabular.new_tabular_model(DYNA.n_states), planning_steps, episodes, 0.1, 0.1, 0.95, cap,
            stop)
        return steps, q

    for planning_steps, cap in ((0, 1_000_000), (4, 1_000_000), (4, 30)):
        with pytest.warns(RuntimeWarning) if cap == 30 else contextlib.nullcontext():
            run = tabular.run_dyna_q(DYNA, planning_steps=planning_steps, episodes=6, runs=2, seed=9,
                                     max_steps_per_episode=cap)
        for i, run_seed in enumerate(run.run_seeds):
            steps, q = shown(run_seed, planning_steps, 6, cap, -1)
            np.testing.assert_array_equal(run.steps[i], steps)
            np.testing.assert_array_equal(run.q[i], q)
    (run_seed,) = tabular.run_seeds_from(9, 1)
    first, _ = shown(run_seed, 4, 2, 1_000_000, -1)
    stop = int(first[0]) + max(1, round(0.5 * first[1]))  # as q_snapshot stops (Figure 8.3)
    _, q = shown(run_seed, 4, 2, 1_000_000, stop)
    np.testing.assert_array_equal(tabular.q_snapshot(DYNA, planning_steps=4, seed=9), q)


def test_dyna_q_real_step_is_written_once():
    """The real step (take the action, direct RL, model learning) is tabular.real_step; the
    loop notebook 01 shows and every runner call it rather than repeat its statements."""
    package = Path(tabular.__file__).parent
    for module in ("tabular", "dyna_q_plus", "dyna_mcts", "sweeping"):
        tree = ast.parse((package / f"{module}.py").read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef) or function.name == "real_step":
                continue
            called = {node.func.id for node in ast.walk(function)
                      if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
            assert "model_update" not in called, f"{module}.{function.name} repeats real_step"
    for function in (tabular.dyna_q_episodes, tabular._dyna_q_slice):
        assert "real_step(" in inspect.getsource(function.py_func)
