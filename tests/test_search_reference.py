"""The plain-Python references pin the fast searches down, draw for draw.

search_reference.uct_search vs search_core.uct_simulations (through mcts.mcts_search and
directly), and search_reference.puct_search vs puct.batched_search with batch_size=1.
Also: a model without a compiled twin never runs the plain path silently.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mbrl_helpers.agents import dyna_mcts as dm
from mbrl_helpers.agents import tabular
from mbrl_helpers.planners import mcts, puct, search_core, search_reference
from mbrl_helpers.worlds import simulators as sim
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze

CARTPOLE_STATE = np.array([0.0, 0.1, 0.03, -0.1])


def learned_model() -> dm.TabularModelStep:
    """A Dyna agent's table after a short random walk in the Dyna Maze (holes included)."""
    maze = GridMaze(DYNA_MAZE_LAYOUT)
    model = tabular.new_tabular_model(maze.n_states)
    t, rng = maze.tables(), np.random.default_rng(0)
    for _ in range(300):
        s, a = int(rng.integers(maze.n_states)), int(rng.integers(4))
        if not maze.walls.flat[s]:
            tabular.model_update(model, s, a, t.reward[s, a], t.next_state[s, a], t.terminated[s, a])
    return dm.TabularModelStep(model, unseen="terminal")


def assert_same_tree(a: search_core.Tree, b: search_core.Tree) -> None:
    n = a.size
    assert n == b.size
    for field in ("children", "visits", "value_sum", "reward", "terminal", "parent", "action"):
        np.testing.assert_array_equal(getattr(a, field)[:n], getattr(b, field)[:n], err_msg=field)


MODELS = {
    "cartpole": lambda: (sim.cartpole_step, CARTPOLE_STATE, 2),
    "maze": lambda: (sim.maze_step_fn(GridMaze(DYNA_MAZE_LAYOUT)), GridMaze(DYNA_MAZE_LAYOUT).start, 4),
    "learned table": lambda: (learned_model(), GridMaze(DYNA_MAZE_LAYOUT).start, 4),
}


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("normalise", [True, False])
def test_compiled_uct_is_the_reference_draw_for_draw(model, normalise):
    step_fn, root, n_actions = MODELS[model]()
    kwargs = dict(n_actions=n_actions, n_simulations=300, depth=6, c=1.0, gamma=0.95,
                  normalise=normalise, seed=7)
    ref_tree, ref_steps = search_reference.uct_search(step_fn, root, **kwargs)
    fast = mcts.mcts_search(step_fn, root, **kwargs)
    assert fast.simulated_steps == ref_steps
    assert_same_tree(fast.tree, ref_tree)
    np.testing.assert_array_equal(fast.tree.states[: ref_tree.size], ref_tree.states[: ref_tree.size])


def test_search_core_called_directly_is_the_reference():
    """The core on its records, as Dyna-MCTS calls it: leaves valued by rollouts only."""
    step_fn, root, _ = MODELS["cartpole"]()
    ref_tree, ref_steps = search_reference.uct_search(step_fn, root, n_actions=2, n_simulations=200,
                                                     depth=10, gamma=0.99, seed=3)
    tree = search_core.new_tree(np.asarray(root, dtype=np.float64), 2, 201)
    tabular.seed_numba(3)
    steps, _, _ = search_core.uct_simulations(
        sim.compiled_model(step_fn), tree, search_core.rollout(10),
        search_core.SearchConfig(1.0, 0.99, True), 200, 1 << 40, np.inf, -np.inf)
    assert steps == ref_steps
    assert_same_tree(tree, ref_tree)


def test_search_core_refuses_a_tree_without_room():
    tree = search_core.new_tree(CARTPOLE_STATE, 2, 10)
    with pytest.raises(ValueError, match="room"):
        search_core.uct_simulations(sim.CARTPOLE_MODEL, tree, search_core.rollout(3),
                                    search_core.SearchConfig(1.0, 1.0, True), 50, 100, np.inf, -np.inf)


class Prior:
    """A deterministic evaluator with uneven priors: value and prior from the state."""

    def __call__(self, states):
        states = np.asarray(states)
        p_right = 1.0 / (1.0 + np.exp(-10.0 * states[:, 2]))
        return np.stack([1.0 - p_right, p_right], axis=1), 1.0 - 5.0 * np.abs(states[:, 2])


@pytest.mark.parametrize("evaluator", ["rollouts", "prior"])
def test_batched_puct_of_batch_one_is_the_single_leaf_reference(evaluator):
    def make():
        if evaluator == "rollouts":
            return puct.rollout_evaluator(sim.cartpole_step, 2, 10, 0.99, seed=5)
        return Prior()

    ref_tree, ref_prior = search_reference.puct_search(sim.cartpole_step, CARTPOLE_STATE, make(),
                                                       n_actions=2, n_simulations=150, c=1.25,
                                                       gamma=0.99)
    batched = puct.batched_search(sim.cartpole_step, CARTPOLE_STATE, make(), n_actions=2,
                                  n_simulations=150, batch_size=1, c=1.25, gamma=0.99)
    assert_same_tree(batched.tree, ref_tree)
    np.testing.assert_array_equal(batched.root_prior, ref_prior[0])


# -- no silent slow path ------------------------------------------------------------------------
def test_a_wrapped_simulator_warns_once_that_it_runs_the_plain_path():
    wrapped = lambda s, a: sim.cartpole_step(s, a)  # noqa: E731 - the case a student writes
    with pytest.warns(mcts.PlainSearchWarning, match="no compiled twin"):
        mcts.mcts_search(wrapped, CARTPOLE_STATE, n_actions=2, n_simulations=5, depth=3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mcts.mcts_search(wrapped, CARTPOLE_STATE, n_actions=2, n_simulations=5, depth=3, seed=0)
        mcts.mcts_search(sim.cartpole_step, CARTPOLE_STATE, n_actions=2, n_simulations=5, depth=3)
        other = lambda s, a: sim.cartpole_step(s, a)  # noqa: E731
        mcts.rollout_planning(other, CARTPOLE_STATE, n_actions=2, n_simulations=4, depth=3,
                              compiled=False)          # the plain path on purpose: no warning


def test_rollout_planning_warns_too():
    wrapped = lambda s, a: sim.cartpole_step(s, a)  # noqa: E731
    with pytest.warns(mcts.PlainSearchWarning, match="rollout_planning"):
        mcts.rollout_planning(wrapped, CARTPOLE_STATE, n_actions=2, n_simulations=4, depth=3)


def test_the_course_models_name_their_compiled_twins():
    assert sim.compiled_model(sim.cartpole_step) is sim.CARTPOLE_MODEL
    assert sim.compiled_model(sim.maze_step_fn(GridMaze(DYNA_MAZE_LAYOUT))).kind == sim.TABLE_KIND
    twin = sim.compiled_model(learned_model())
    assert twin.kind == sim.TABLE_KIND and twin.unseen_terminal
    assert sim.compiled_model(lambda s, a: sim.cartpole_step(s, a)) is None
