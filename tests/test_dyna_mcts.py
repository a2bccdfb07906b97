"""MCTS as Dyna's planning component: the tabular-model adapter, the search's Q targets, the agent."""

import numpy as np
import pytest

from mbrl_helpers.agents import dyna_mcts as dm
from mbrl_helpers.agents import dyna_q_plus as dqp
from mbrl_helpers.agents import tabular
from mbrl_helpers.planners import mcts
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze, make_shortcut_maze

TINY = ("S...", "....", "...G")  # 3 x 4, open; shortest path 5 steps
UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


def settings(**changes):
    """The agent's settings dict (run_dyna_mcts' defaults), with changes."""
    return dm.check_agent_settings(dict(planner="mcts", budget=5, searches=1, roots="current", c=1.0,
                                   unseen="stay", rollout_depth=0, bootstrap=True, backup="max",
                                   update="root", act="q", alpha=0.1, epsilon=0.1, gamma=0.95)
                              | changes)


def corridor_model(n_states: int = 4) -> tabular.TabularModel:
    """A learned model of a corridor 0 -> 1 -> 2 (goal, +1, terminated) where only 'right'
    was ever tried, in states 0 and 1; state 3 was never visited."""
    model = tabular.new_tabular_model(n_states)
    tabular.model_update(model, 0, RIGHT, 0.0, 1, False)
    tabular.model_update(model, 1, RIGHT, 1.0, 2, True)
    return model


# -- the adapter ---------------------------------------------------------------------------
@pytest.mark.parametrize("unseen, ends", [("stay", False), ("terminal", True)])
def test_adapter_returns_what_was_seen_and_treats_unseen_pairs_as_documented(unseen, ends):
    step = dm.TabularModelStep(corridor_model(), unseen=unseen)
    states = np.array([0, 1, 0, 1, 3], dtype=np.int64)
    actions = np.array([RIGHT, RIGHT, LEFT, UP, DOWN], dtype=np.int64)
    next_states, rewards, terminated = step(states, actions)
    np.testing.assert_array_equal(next_states, [1, 2, 0, 1, 3])      # unseen: same state
    np.testing.assert_array_equal(rewards, [0.0, 1.0, 0.0, 0.0, 0.0])  # unseen: reward 0
    np.testing.assert_array_equal(terminated, [False, True, ends, ends, ends])
    assert next_states.dtype == np.int64 and rewards.dtype == np.float64
    assert terminated.dtype == np.bool_
    np.testing.assert_array_equal(step.seen(states, actions), [True, True, False, False, False])
    assert step.calls == 5


def test_adapter_sees_the_model_as_it_learns():
    model = tabular.new_tabular_model(4)
    step = dm.TabularModelStep(model)
    assert step(np.array([2]), np.array([LEFT]))[0][0] == 2
    tabular.model_update(model, 2, LEFT, 0.5, 3, False)
    next_states, rewards, _ = step(np.array([2]), np.array([LEFT]))
    assert next_states[0] == 3 and rewards[0] == 0.5


def test_adapter_rejects_bad_input():
    step = dm.TabularModelStep(corridor_model())
    with pytest.raises(ValueError, match="unseen"):
        dm.TabularModelStep(corridor_model(), unseen="optimistic")
    with pytest.raises(TypeError, match="TabularModel"):
        dm.TabularModelStep(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"states must be in 0..3, got values \[7\]"):
        step(np.array([7]), np.array([0]))
    with pytest.raises(ValueError, match="actions must be in 0..3"):
        step(np.array([0]), np.array([4]))
    with pytest.raises(TypeError, match="states must be an int64 array"):
        step(np.array([0.0]), np.array([0]))


def test_package_mcts_runs_on_the_learned_model_and_finds_the_remembered_goal():
    """mcts.mcts_search (its plain-Python path) plans on the adapter like on any model."""
    step = dm.TabularModelStep(corridor_model(), unseen="terminal")
    result = mcts.mcts_search(step, 0, n_actions=4, n_simulations=60, depth=3, gamma=0.95, seed=0,
                              compiled=False)
    assert result.action == RIGHT
    # UCT's mean over random rollouts from state 1 (a quarter of them reach the goal) and
    # its deeper visits: above 0, at most the best return 0.95 * 1
    assert 0.0 < result.q_values[RIGHT] <= 0.95
    np.testing.assert_array_equal(result.q_values[[UP, DOWN, LEFT]], 0.0)  # unseen: dead ends
    assert step.calls >= result.simulated_steps > 0


@pytest.mark.parametrize("unseen", ["stay", "terminal"])
def test_mcts_on_the_learned_model_runs_compiled_draw_for_draw(unseen):
    """The adapter carries a compiled twin: the compiled search on it is the plain one."""
    step = dm.TabularModelStep(corridor_model(), unseen=unseen)
    kwargs = dict(n_actions=4, n_simulations=80, depth=3, gamma=0.95, seed=2)
    fast = mcts.mcts_search(step, 0, **kwargs)
    slow = mcts.mcts_search(step, 0, compiled=False, **kwargs)
    np.testing.assert_array_equal(fast.visit_counts, slow.visit_counts)
    np.testing.assert_array_equal(fast.q_values, slow.q_values)
    assert fast.simulated_steps == slow.simulated_steps


# -- one search: Q targets by hand ---------------------------------------------------------
@pytest.mark.parametrize("unseen", ["stay", "terminal"])
def test_search_targets_are_the_bellman_backup_of_the_tree(unseen):
    """Budget 4: one expansion per root action, each child a leaf valued by Q. 'right' leads
    to state 1: 0.95 * max Q(1) = 0.95 * 0.8. An untried action stays in 0 (0.95 * max Q(0))
    or is a dead end (0)."""
    gamma = 0.95
    q = np.zeros((4, 4))
    q[0, RIGHT], q[1, RIGHT] = 0.5, 0.8
    targets = dm.search_q_targets(q, corridor_model(), 0, budget=4, gamma=gamma, unseen=unseen,
                                  seed=1)
    untried = gamma * 0.5 if unseen == "stay" else 0.0
    np.testing.assert_allclose(targets.q_values, [untried, untried, untried, gamma * 0.8])
    np.testing.assert_array_equal(targets.tried, [False, False, False, True])
    np.testing.assert_array_equal(targets.visits, 1)
    assert targets.model_calls == 4


@pytest.mark.parametrize("unseen", ["stay", "terminal"])
def test_a_deeper_search_sees_the_remembered_goal_two_steps_ahead(unseen):
    """With Q all 0 only the model knows the goal: Q_search(0, right) = 0 + 0.95 * 1."""
    targets = dm.search_q_targets(np.zeros((4, 4)), corridor_model(), 0, budget=40, gamma=0.95,
                                  unseen=unseen, seed=1)
    assert targets.q_values[RIGHT] == pytest.approx(0.95)
    assert targets.visits[RIGHT] == targets.visits.max()
    if unseen == "terminal":
        # every untried pair ends the search: the whole tree is 8 transitions, and no
        # more calls are spent on it than that
        np.testing.assert_array_equal(targets.q_values[[UP, DOWN, LEFT]], 0.0)
        assert targets.model_calls == 8
    else:
        assert targets.model_calls == 40


def test_search_leaves_are_evaluated_by_q():
    """One expansion per root action (budget 4): each target is r + gamma * max Q(child)."""
    q = np.zeros((4, 4))
    q[1] = [0.0, 0.0, 0.5, 0.2]
    targets = dm.search_q_targets(q, corridor_model(), 0, budget=4, gamma=0.9, seed=0)
    np.testing.assert_allclose(targets.q_values, [0.0, 0.0, 0.0, 0.9 * 0.5])
    assert np.all(targets.visits == 1) and targets.model_calls == 4


@pytest.mark.parametrize("update_tree", [False, True])
def test_search_updates_q_at_the_root_or_on_every_tried_edge_of_the_tree(update_tree):
    """Dead ends for untried pairs make the tree finite: 0 -right-> 1 -right-> goal, each
    edge once. Root: Q(0, right) += 0.5 * 0.95. Tree: also Q(1, right) += 0.5 * 1. Untried
    pairs are never updated."""
    q = np.zeros((4, 4))
    root_q = np.zeros(4)
    tabular.seed_numba(0)
    config = dm.agent_config(settings(budget=30, alpha=0.5, unseen="terminal",
                                      update="tree" if update_tree else "root"))
    calls = dm.search_and_update(q, corridor_model(), dm.new_search_tree(30), np.zeros(31), 0, 30,
                                 config, root_q)
    expected = np.zeros((4, 4))
    expected[0, RIGHT] = 0.5 * 0.95
    if update_tree:
        expected[1, RIGHT] = 0.5 * 1.0
    np.testing.assert_allclose(q, expected)
    np.testing.assert_allclose(root_q, [0.0, 0.0, 0.0, 0.95])
    assert calls == 8


def test_model_calls_equal_the_budget_rollouts_included():
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    result = tabular.run_dyna_q(maze, planning_steps=5, episodes=3, runs=1, seed=0)
    model = tabular.new_tabular_model(maze.n_states)
    t = maze.tables()
    for s in maze.open_states():           # a model that has seen the whole maze
        for a in range(4):
            tabular.model_update(model, int(s), a, t.reward[s, a], t.next_state[s, a],
                                 t.terminated[s, a])
    for budget in (1, 7, 50):
        for depth, boot in ((0, True), (3, True), (10, False)):
            found = dm.search_q_targets(result.q[0], model, maze.start, budget=budget,
                                        rollout_depth=depth, bootstrap=boot, seed=budget)
            assert found.model_calls == budget


# -- the agent -----------------------------------------------------------------------------
def test_dyna_q_planner_is_exactly_tabular_dyna_q():
    """The baseline is not re-implemented: same draws, same steps, same Q as tabular.py."""
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    ref = tabular.run_dyna_q(maze, planning_steps=5, episodes=6, runs=3, seed=4)
    ours = dm.run_dyna_mcts(maze, budget=5, episodes=6, runs=3, seed=4, planner="dyna-q")
    np.testing.assert_array_equal(ours.steps, ref.steps)
    np.testing.assert_allclose(ours.q, ref.q)
    np.testing.assert_array_equal(ours.model_calls, 5 * ref.steps.sum(axis=1))


def test_dyna_q_planner_in_the_shortcut_maze_is_dyna_q_plus_modules_dyna_q():
    maze = make_shortcut_maze(switch_step=300)
    ref = dqp.run_changing_maze(maze, agent=dqp.DYNA_Q, steps=900, runs=2, seed=2)
    ours = dm.run_dyna_mcts_changing(maze, budget=10, steps=900, runs=2, seed=2, planner="dyna-q")
    np.testing.assert_array_equal(ours.cumulative_reward, ref.cumulative_reward)
    np.testing.assert_allclose(ours.q, ref.q)


@pytest.mark.parametrize("options", [{}, {"ablation": dm.Ablation(act="search")},
                                     {"ablation": dm.Ablation(update="tree", backup="mean")},
                                     {"unseen": "terminal", "searches": 2}])
def test_dyna_mcts_on_a_tiny_maze_reaches_the_optimal_path(options):
    maze = GridMaze(TINY)
    result = dm.run_dyna_mcts(maze, budget=20, episodes=40, runs=4, seed=0, **options)
    assert np.all(result.steps_to_optimal > 0)
    for q in result.q:
        assert len(tabular.greedy_path(maze, q)) - 1 == maze.shortest_path_length() == 5
    assert result.steps[:, -10:].mean() < 8         # 5 steps plus epsilon's detours
    # the budget is spent: 20 calls per real step, but for searches cut short near the goal
    assert np.all(result.model_calls <= 20 * result.real_steps)
    assert np.all(result.model_calls >= 0.9 * 20 * result.real_steps)


def test_steps_to_optimal_is_when_the_greedy_path_first_became_optimal():
    """Rerun one agent for exactly that many real steps: its greedy path is optimal then,
    and one step earlier it was not."""
    maze = GridMaze(TINY)
    full = dm.run_dyna_mcts(maze, budget=10, episodes=20, runs=1, seed=3)
    found = int(full.steps_to_optimal[0])
    assert found > 0
    seed = int(full.run_seeds[0])
    t = maze.tables()
    grid = (np.stack([t.next_state] * 2), np.stack([t.reward] * 2), np.stack([t.terminated] * 2),
            np.zeros(maze.n_states, dtype=np.bool_))
    for steps, optimal in ((found, True), (found - 1, False)):
        tabular.seed_numba(seed)
        q = np.zeros((maze.n_states, 4))
        world = dm.World(*grid, t.start, -1, np.zeros(2, np.int64), 0)
        dm.dyna_mcts_run(world, dm.Schedule(steps, 1000, 10_000, False),
                         dm.agent_config(settings(budget=10, alpha=0.1)), q)
        assert (len(tabular.greedy_path(maze, q)) - 1 == 5) == optimal


def test_same_seed_same_result_whatever_the_number_of_runs():
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    a = dm.run_dyna_mcts(maze, budget=8, episodes=5, runs=3, seed=11)
    b = dm.run_dyna_mcts(maze, budget=8, episodes=5, runs=2, seed=11)
    np.testing.assert_array_equal(a.steps[:2], b.steps)
    np.testing.assert_array_equal(a.q[:2], b.q)
    c = dm.run_dyna_mcts(maze, budget=8, episodes=5, runs=2, seed=12)
    assert not np.array_equal(b.steps, c.steps)


def test_curves_for_a_slider_are_mean_steps_per_episode():
    curve = dm.dyna_mcts_curves(budget=5, runs=3, episodes=4, seed=1)
    again = dm.run_dyna_mcts(GridMaze(DYNA_MAZE_LAYOUT), budget=5, episodes=4, runs=3, seed=1)
    np.testing.assert_array_equal(curve, again.mean_steps)
    assert curve.shape == (4,)


def test_shortcut_maze_run_counts_goals_after_each_step():
    result = dm.run_dyna_mcts_changing(make_shortcut_maze(switch_step=200), budget=5, steps=600,
                                       runs=2, seed=0)
    cumulative = result.cumulative_reward
    assert cumulative.shape == (2, 600)
    assert np.all(np.diff(cumulative, axis=1) >= 0)
    np.testing.assert_array_equal(cumulative[:, -1], (result.steps > 0).sum(axis=1))
    np.testing.assert_array_equal(result.real_steps, 600)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"unseen": "optimistic"}, ValueError, "unseen must be one of"),
    ({"budget": -1}, ValueError, r"budget must be in \[0, 1000000\], got -1"),
    ({"budget": 2.5}, TypeError, "budget must be an integer"),
    ({"searches": 6}, ValueError, r"searches must be in \[1, 5\], got 6"),
    ({"planner": "dyna-q", "ablation": dm.Ablation(act="search")}, ValueError,
     "act='search' needs planner='mcts'"),
    ({"ablation": dm.Ablation(roots="visited", act="search")}, ValueError, "act='search' needs"),
    ({"ablation": {"act": "search"}}, TypeError, "ablation must be a dyna_mcts.Ablation"),
    ({"rollout_depth": 0, "bootstrap": False}, ValueError, "nothing to evaluate a leaf"),
    ({"ablation": dm.Ablation(backup="min")}, ValueError, "backup must be one of"),
    ({"alpha": 0.0}, ValueError, r"alpha must be in \(0, 1\]"),
    ({"c": -1.0}, ValueError, "c must be >= 0"),
])
def test_bad_settings_are_named(kwargs, error, match):
    settings = {"budget": 5, "episodes": 2, "runs": 1, "seed": 0} | kwargs
    with pytest.raises(error, match=match):
        dm.run_dyna_mcts(GridMaze(TINY), **settings)


def test_bad_inputs_to_a_single_search_and_the_changing_maze_runner():
    with pytest.raises(ValueError, match=r"q must have shape \(4, 4\)"):
        dm.search_q_targets(np.zeros((3, 4)), corridor_model(), 0, budget=5)
    with pytest.raises(ValueError, match=r"root must be in \[0, 3\], got 9"):
        dm.search_q_targets(np.zeros((4, 4)), corridor_model(), 9, budget=5)
    with pytest.raises(ValueError, match="budget must be >= 1"):
        dm.search_q_targets(np.zeros((4, 4)), corridor_model(), 0, budget=0)
    with pytest.raises(TypeError, match="ChangingMaze"):
        dm.run_dyna_mcts_changing(GridMaze(TINY), budget=5, steps=10, runs=1, seed=0)


@pytest.mark.parametrize("unseen", ["stay", "terminal"])
def test_applying_search_targets_is_what_the_agent_does_after_a_search(unseen):
    """search_q_targets + apply_search_targets == the compiled search_and_update at the root."""
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    result = dm.run_dyna_mcts(maze, budget=20, episodes=3, runs=1, seed=4)
    model = tabular.new_tabular_model(maze.n_states)
    rng = np.random.default_rng(0)
    for _ in range(400):                       # a model from a random walk, holes included
        s, a = int(rng.integers(maze.n_states)), int(rng.integers(4))
        if not maze.walls.flat[s]:
            t = maze.tables()
            tabular.model_update(model, s, a, t.reward[s, a], t.next_state[s, a], t.terminated[s, a])
    seen = model.seen_states[: model.n_seen[0]]
    root = int(seen[np.argmax(result.q[0][seen].max(axis=1))])   # where Q already has value to move
    compiled = result.q[0].copy()
    tabular.seed_numba(3)
    config = dm.agent_config(settings(budget=20, alpha=0.3, unseen=unseen))
    dm.search_and_update(compiled, model, dm.new_search_tree(20), np.zeros(21), root, 20, config,
                         np.zeros(4))
    by_hand = result.q[0].copy()
    targets = dm.search_q_targets(result.q[0], model, root, budget=20, unseen=unseen, seed=3)
    dm.apply_search_targets(by_hand, root, targets, 0.3)
    np.testing.assert_allclose(by_hand, compiled)
    assert not np.array_equal(by_hand, result.q[0])   # the search did change something


def test_slices_do_not_change_a_single_draw(monkeypatch):
    """Dyna-MCTS runs return to Python every few real steps (so Ctrl-C works), each run
    keeping its generator state: one real step per slice gives the same bits."""
    def run():
        return [dm.run_dyna_mcts("mbrl/DynaMaze-v0", budget=6, episodes=3, runs=3, seed=4,
                                 planner=planner, searches=2) for planner in ("mcts", "dyna-q")]

    whole = run()
    monkeypatch.setattr(dm, "SLICE_UPDATES", 1)
    for got, expected in zip(run(), whole, strict=True):
        for field in ("steps", "steps_to_optimal", "model_calls", "real_steps", "q"):
            np.testing.assert_array_equal(getattr(got, field), getattr(expected, field))
