import math

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from mbrl_helpers.course import tree_plot, widgets
from mbrl_helpers.planners import mcts
from mbrl_helpers.worlds import simulators as sim
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze

CORRIDOR = GridMaze(["S...G"])
SMALL_MAZES = [
    ["S...G"],
    ["S.#G", "..#.", "...."],
    ["S....#", ".###.#", "...#.G", ".#...."],
]
CARTPOLE_STATE = np.array([0.01, -0.02, 0.03, 0.01])


def python_cartpole(states, actions):
    """CartPole behind a plain Python function: the search cannot use its compiled twin."""
    return sim.cartpole_step(states, actions)


# -- UCB1 and the backup, by hand ----------------------------------------------
def test_ucb1_on_hand_values():
    assert mcts.ucb1_score(0.5, 10, 2, 1.4) == pytest.approx(0.5 + 1.4 * math.sqrt(math.log(10) / 2))
    assert mcts.ucb1_score(0.3, 1, 1, 2.0) == pytest.approx(0.3)       # ln 1 = 0: no bonus
    assert mcts.ucb1_score(0.7, 100, 3, 0.0) == pytest.approx(0.7)     # c = 0: greedy
    assert mcts.ucb1_score(0.0, 5, 0, 1.0) == math.inf                 # untried first
    assert mcts.ucb1_score(0.2, 100, 1, 1.0) > mcts.ucb1_score(0.2, 100, 50, 1.0)


def test_min_max_normalisation():
    assert mcts.normalised(15.0, 10.0, 20.0) == pytest.approx(0.5)
    assert mcts.normalised(3.0, 3.0, 3.0) == 0.5


def test_path_returns_by_hand():
    np.testing.assert_allclose(mcts.path_returns(np.array([1.0, 2.0]), 3.0, 0.5),
                               [1 + 0.5 * (2 + 0.5 * 3), 2 + 0.5 * 3, 3])
    np.testing.assert_allclose(mcts.path_returns(np.array([]), 4.0, 0.5), [4.0])


def test_backup_with_discounting_on_a_three_node_tree():
    tree = mcts.new_tree(np.int64(0), 2, 3)
    tree.n_nodes[0] = 3
    tree.children[0, 1], tree.parent[1], tree.reward[1] = 1, 0, 1.0
    tree.children[1, 0], tree.parent[2], tree.reward[2] = 2, 1, 2.0
    bounds = [math.inf, -math.inf]
    mcts.backup(tree, [0, 1, 2], 3.0, 0.5, bounds)
    np.testing.assert_array_equal(tree.visits[:3], [1, 1, 1])
    np.testing.assert_allclose(tree.value_sum[:3], [1 + 0.5 * 3.5, 2 + 0.5 * 3, 3.0])
    mcts.backup(tree, [0, 1], 1.0, 0.5, bounds)     # a second simulation stopping at node 1
    np.testing.assert_array_equal(tree.visits[:3], [2, 2, 1])
    np.testing.assert_allclose(tree.value_sum[:2], [2.75 + 1.5, 3.5 + 1.0])
    np.testing.assert_allclose(tree.q_values(0, 0.5), [np.nan, 1 + 0.5 * 4.5 / 2])
    assert bounds == pytest.approx([1 + 0.5 * 4.5 / 2, 2 + 0.5 * 3.0])


# -- the search ----------------------------------------------------------------
@pytest.mark.parametrize("compiled", [True, False])
def test_visit_counts_sum_to_the_simulations(compiled):
    for n in (1, 2, 37):
        result = mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2,
                                  n_simulations=n, depth=5, seed=0, compiled=compiled)
        assert result.visit_counts.sum() == n
        assert result.tree.visits[0] == n and result.tree.size == n + 1
        flat = mcts.rollout_planning(sim.cartpole_step, CARTPOLE_STATE, n_actions=2,
                                     n_simulations=n, depth=5, seed=0, compiled=compiled)
        assert flat.visit_counts.sum() == n


def test_compiled_twin_matches_plain_python_draw_for_draw():
    maze_step = sim.maze_step_fn(GridMaze(DYNA_MAZE_LAYOUT))
    for step_fn, state, n_actions in ((sim.cartpole_step, CARTPOLE_STATE, 2),
                                      (maze_step, 45, 4)):
        kwargs = dict(n_actions=n_actions, n_simulations=150, depth=15, gamma=0.95, seed=3)
        fast = mcts.mcts_search(step_fn, state, **kwargs)
        slow = mcts.mcts_search(step_fn, state, compiled=False, **kwargs)
        n = fast.tree.size
        assert n == slow.tree.size and fast.simulated_steps == slow.simulated_steps
        np.testing.assert_array_equal(fast.tree.visits[:n], slow.tree.visits[:n])
        np.testing.assert_array_equal(fast.tree.children[:n], slow.tree.children[:n])
        np.testing.assert_allclose(fast.tree.value_sum[:n], slow.tree.value_sum[:n], rtol=1e-12)
        flat_kwargs = {k: v for k, v in kwargs.items()}
        fast = mcts.rollout_planning(step_fn, state, **flat_kwargs)
        slow = mcts.rollout_planning(step_fn, state, compiled=False, **flat_kwargs)
        np.testing.assert_allclose(fast.q_values, slow.q_values, rtol=1e-12)
        assert fast.simulated_steps == slow.simulated_steps


def test_any_step_function_works():
    plain = mcts.mcts_search(python_cartpole, CARTPOLE_STATE, n_actions=2, n_simulations=60,
                             depth=10, seed=1)
    fast = mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2, n_simulations=60,
                            depth=10, seed=1)
    np.testing.assert_array_equal(plain.visit_counts, fast.visit_counts)


def test_determinism():
    a = mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2, n_simulations=200,
                         depth=20, seed=7)
    b = mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2, n_simulations=200,
                         depth=20, seed=7)
    c = mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2, n_simulations=200,
                         depth=20, seed=8)
    np.testing.assert_array_equal(a.tree.value_sum, b.tree.value_sum)
    assert not np.array_equal(a.tree.value_sum, c.tree.value_sum)
    env = gym.make("CartPole-v1")
    runs = [mcts.run_episode(env, sim.cartpole_step, n_simulations=20, depth=10, seed=2,
                             max_steps=60) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].actions, runs[1].actions)


@pytest.mark.parametrize("layout", SMALL_MAZES)
def test_mcts_finds_the_shortest_path_on_small_mazes(layout):
    maze = GridMaze(layout)
    step = sim.maze_step_fn(maze)
    for seed in range(3):
        episode = mcts.run_episode(maze, step, n_simulations=2000, depth=20, gamma=0.9, c=0.7,
                                   seed=seed, max_steps=50)
        assert episode.total_reward == 1.0
        assert episode.steps == maze.shortest_path_length()


def test_rollout_planning_on_a_corridor():
    step = sim.maze_step_fn(CORRIDOR)
    result = mcts.rollout_planning(step, 3, n_actions=4, n_simulations=40, depth=3, gamma=0.9,
                                   seed=0)
    assert result.action == 3 and result.q_values[3] == 1.0   # right enters the goal
    np.testing.assert_array_equal(result.visit_counts, [10, 10, 10, 10])


def test_subtree_reuse_keeps_the_chosen_childs_statistics():
    result = mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2,
                              n_simulations=100, depth=10, seed=0)
    child = result.tree.children[0, result.action]
    sub = mcts.reuse_subtree(result.tree, result.action)
    assert sub.visits[0] == result.tree.visits[child] == result.visit_counts[result.action]
    np.testing.assert_array_equal(sub.states[0], result.tree.states[child])
    assert sub.visits[:sub.size].sum() < result.tree.visits[:result.tree.size].sum()
    for node in range(1, sub.size):   # parent links are consistent after re-indexing
        assert sub.children[sub.parent[node], sub.action[node]] == node
    more = mcts.mcts_search(sim.cartpole_step, sub.states[0], n_actions=2, n_simulations=50,
                            depth=10, seed=1, tree=sub)
    assert more.tree.visits[0] == sub.visits[0] + 50
    assert mcts.reuse_subtree(mcts.new_tree(np.int64(0), 4, 1), 0) is None


def test_mcts_balances_cartpole_briefly():
    env = gym.make("CartPole-v1")
    episode = mcts.run_episode(env, sim.cartpole_step, n_simulations=50, depth=10, seed=0,
                               max_steps=100)
    assert episode.steps == 100 and episode.total_reward == 100.0


# -- bad inputs -------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"n_simulations": 0}, ValueError, "n_simulations must be >= 1"),
    ({"depth": 0}, ValueError, "depth must be >= 1"),
    ({"c": -0.1}, ValueError, "c must be >= 0"),
    ({"gamma": 1.5}, ValueError, "gamma must be in"),
    ({"n_simulations": 2.5}, TypeError, "n_simulations must be an integer"),
    ({"seed": -1}, ValueError, r"seed must be in \[0, 4294967295\], got -1"),
])
def test_bad_search_arguments(kwargs, error, match):
    args = {"n_actions": 2, "n_simulations": 10, "depth": 5, "c": 1.0, "seed": 0} | kwargs
    with pytest.raises(error, match=match):
        mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, **args)


def test_states_the_model_cannot_take():
    maze_step = sim.maze_step_fn(GridMaze(DYNA_MAZE_LAYOUT))
    with pytest.raises(ValueError, match="open cells"):
        mcts.mcts_search(maze_step, 2 * 9 + 2, n_actions=4, n_simulations=5, depth=3)  # a wall
    with pytest.raises(ValueError, match=r"\(B, 4\)"):
        mcts.rollout_planning(sim.cartpole_step, np.zeros(3), n_actions=2, n_simulations=5,
                              depth=3)
    with pytest.raises(TypeError, match="step_fn"):
        mcts.mcts_search(None, CARTPOLE_STATE, n_actions=2, n_simulations=5, depth=3)
    with pytest.raises(ValueError, match="planner"):
        mcts.run_episode(gym.make("CartPole-v1"), sim.cartpole_step, planner="dfs",
                         n_simulations=5, depth=3)


# -- pictures, slider, exercise checks ----------------------------------------
def test_tree_figure_and_slider_callback():
    result = mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2,
                              n_simulations=30, depth=5, seed=0)
    fig = tree_plot.search_figure(result, gamma=1.0, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 3   # tree, colour bar, root bars
    path = tree_plot.principal_path(result.tree)
    assert path[1] == result.tree.children[0, result.action]
    plt.close(fig)
    for kwargs in ({}, {"n_simulations": 1, "depth": 1, "c": 0.0}, {"n_simulations": 500,
                                                                  "depth": 50, "c": 3.0}):
        fig = widgets.mcts_tree_figure(**kwargs)
        assert isinstance(fig, Figure) and fig.axes[0].get_title().startswith("UCT on CartPole")
        plt.close(fig)
    with pytest.raises(ValueError, match="depth"):
        widgets.mcts_tree_figure(depth=0)


def test_tree_layout_centres_parents():
    tree = mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2, n_simulations=40,
                            depth=5, seed=0).tree
    x, y = tree_plot.tree_layout(tree)
    for node in range(tree.size):
        kids = tree.children[node][tree.children[node] >= 0]
        if kids.size:
            assert x[node] == pytest.approx((x[kids[0]] + x[kids[-1]]) / 2)
            assert np.all(y[kids] == y[node] + 1)
