"""Fuzz tests: the public API in a careless student's hands.

Generated bad and edge-case arguments (wrong types, NaN, inf, negative and huge
counts, numpy scalars, out-of-range indices) must give a clear TypeError or
ValueError naming the parameter, or a correct result: never another exception,
never a crash (a crash would kill this process and fail the run), never a hang
(every case here is small, and hypothesis's deadline is not used because the
first call of a compiled function compiles it). Long runs stopping on Ctrl-C are
tested in test_interrupt.py; compiled indices under bounds checking in
test_boundscheck.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mbrl_helpers.agents import dqn, dyna_mcts, dyna_q_plus, imagined, sweeping, tabular  # noqa: E402
from mbrl_helpers.core import validation  # noqa: E402
from mbrl_helpers.course import checks  # noqa: E402
from mbrl_helpers.learning import models  # noqa: E402
from mbrl_helpers.planners import mcts, puct  # noqa: E402
from mbrl_helpers.worlds import envs, simulators  # noqa: E402
from mbrl_helpers.worlds.envs import GridMaze  # noqa: E402

FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Values a careless call passes: wrong types, non-finite numbers, extreme integers.
WEIRD = st.sampled_from([
    None, "3", [1], (), True, np.bool_(False), math.nan, math.inf, -math.inf, np.float64("nan"),
    np.float32("inf"), -1, -(2**63), 2**63, 2**64, 10**30, -0.5, 2.5, 1e308, object(),
])
# numpy scalars a student gets from arrays: accepted wherever Python numbers are.
NUMPY_INTS = st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32])
NUMPY_FLOATS = st.sampled_from([np.float16, np.float32, np.float64])

CLEAR = (TypeError, ValueError)


class _Refused:
    def __repr__(self):
        return "REFUSED"


REFUSED = _Refused()


def _clear_or_ok(call, *args, **kwargs):
    """Call; a TypeError/ValueError must have a message; any other exception fails the test.

    Returns the call's result, or REFUSED."""
    try:
        return call(*args, **kwargs)
    except CLEAR as error:
        assert str(error), f"{type(error).__name__} without a message"
        return REFUSED


# -- validation --------------------------------------------------------------------------------
@FAST
@given(value=WEIRD)
def test_checks_of_numbers_refuse_nan_inf_and_wrong_types(value):
    for check in (lambda v: validation.check_int("n", v, low=0),
                  lambda v: validation.check_number("x", v, low=0.0),
                  lambda v: validation.check_unit_interval("p", v),
                  lambda v: validation.check_seed("seed", v)):
        _clear_or_ok(check, value)
    if isinstance(value, float) and not math.isfinite(value):
        with pytest.raises(ValueError, match="x must be"):
            validation.check_number("x", value)


@FAST
@given(kind=NUMPY_INTS, value=st.integers(0, 100), fkind=NUMPY_FLOATS,
       fvalue=st.floats(0, 1, width=16))
def test_numpy_scalars_are_accepted_like_python_numbers(kind, value, fkind, fvalue):
    validation.check_int("n", kind(value), low=0)
    validation.check_number("x", fkind(fvalue), low=0.0)
    validation.check_unit_interval("p", fkind(fvalue))
    validation.check_seed("seed", kind(value))


@FAST
@given(seed=st.one_of(st.integers(-(2**70), -1), st.integers(2**32, 2**70)))
def test_seeds_outside_numbas_range_are_refused(seed):
    with pytest.raises(ValueError, match="seed must be in"):
        tabular.seed_numba(seed)
    with pytest.raises(ValueError, match="seed"):
        mcts.mcts_search(simulators.cartpole_step, np.zeros(4), n_actions=2, n_simulations=2,
                         depth=2, seed=seed)


# -- tabular: compiled pieces called from Python -------------------------------------------------
INDEX = st.one_of(st.integers(-12, 12), st.integers(-(2**63), 2**63 - 1), WEIRD,
                  NUMPY_INTS.flatmap(lambda k: st.integers(0, 3).map(k)))


@FAST
@given(s=INDEX, a=INDEX, s_next=INDEX, r=st.one_of(st.floats(-2, 2), WEIRD))
def test_q_learning_update_and_model_update_never_write_out_of_range(s, a, s_next, r):
    q = np.zeros((5, 4))
    guard = np.zeros((3, 5, 4))
    guard[1] = q  # neighbours in memory stay untouched when a call is refused
    model = tabular.new_tabular_model(5)
    before = model.next_state.copy()
    done = _clear_or_ok(tabular.q_learning_update, guard[1], s, a, r, s_next, False, 0.5, 0.9)
    if done is REFUSED:
        assert not guard.any()
    else:
        assert 0 <= s < 5 and 0 <= a < 4 and 0 <= s_next < 5
    if _clear_or_ok(tabular.model_update, model, s, a, r, s_next, False) is REFUSED:
        np.testing.assert_array_equal(model.next_state, before)


@FAST
@given(n_states=st.integers(1, 6), n=st.one_of(st.integers(0, 50), WEIRD))
def test_planning_and_sampling_refuse_empty_or_wrong_models(n_states, n):
    q = np.zeros((n_states, 4))
    model = tabular.new_tabular_model(n_states)
    _clear_or_ok(tabular.planning, q, model, n, 0.5, 0.9)       # nothing seen yet
    with pytest.raises(ValueError, match="no transitions"):
        tabular.model_sample(model)
    tabular.model_update(model, 0, 1, 1.0, 0, True)
    _clear_or_ok(tabular.planning, q, model, n, 0.5, 0.9)
    _clear_or_ok(tabular.planning, np.zeros((n_states + 1, 4)), model, 3, 0.5, 0.9)
    for values in (np.zeros(0), np.array([np.nan, 1.0]), [1.0, 2.0]):
        _clear_or_ok(tabular.epsilon_greedy, values, 0.1)
        _clear_or_ok(tabular.argmax_random_tie, values)


SMALL_COUNT = st.one_of(st.integers(1, 3), WEIRD)


@FAST
@given(name=st.sampled_from(["planning_steps", "episodes", "runs", "seed", "alpha", "epsilon",
                             "gamma", "max_steps_per_episode"]), value=WEIRD)
def test_run_dyna_q_names_every_bad_argument(name, value):
    settings_ = {"planning_steps": 2, "episodes": 2, "runs": 2, "seed": 0,
                 "max_steps_per_episode": 500, name: value}
    result = _clear_or_ok(tabular.run_dyna_q, GridMaze(["S..G"]), **settings_)
    if result is not REFUSED:
        assert result.steps.shape == (2, 2) and np.isfinite(result.q).all()


@FAST
@given(rows=st.lists(st.text(alphabet="SG.#x", min_size=1, max_size=5), min_size=1, max_size=4))
def test_a_maze_is_refused_unless_its_goal_can_be_reached(rows):
    maze = _clear_or_ok(GridMaze, rows)
    if maze is not REFUSED:
        assert maze.shortest_path_length() >= 1
        result = tabular.run_dyna_q(maze, planning_steps=1, episodes=1, runs=1, seed=0)
        assert result.steps[0, 0] >= 1


def test_changing_mazes_are_refused_by_the_fixed_maze_runners():
    for runner in (tabular.run_dyna_q, tabular.q_snapshot):
        with pytest.raises(ValueError, match="dyna_q_plus.run_changing_maze"):
            runner("mbrl/BlockingMaze-v0", planning_steps=1, seed=0,
                   **({"episodes": 1, "runs": 1} if runner is tabular.run_dyna_q else {}))


def test_hitting_the_step_cap_warns_with_its_name():
    with pytest.warns(RuntimeWarning, match="max_steps_per_episode = 3"):
        tabular.run_dyna_q("mbrl/DynaMaze-v0", planning_steps=0, episodes=2, runs=1, seed=0,
                           max_steps_per_episode=3)


# -- search --------------------------------------------------------------------------------------
MAZE_MODEL = simulators.maze_step_fn("mbrl/DynaMaze-v0")


@FAST
@given(n_actions=st.one_of(st.integers(1, 1000), WEIRD), root=st.one_of(st.integers(-3, 60), WEIRD),
       depth=SMALL_COUNT, n_simulations=SMALL_COUNT, c=st.one_of(st.floats(0, 3), WEIRD))
def test_searches_on_the_maze_refuse_actions_and_states_it_does_not_have(
        n_actions, root, depth, n_simulations, c):
    for compiled in (True, False):
        result = _clear_or_ok(mcts.mcts_search, MAZE_MODEL, root, n_actions=n_actions,
                              n_simulations=n_simulations, depth=depth, c=c, seed=0,
                              compiled=compiled)
        if result is not REFUSED:
            assert n_actions == 4 and result.visit_counts.shape == (4,)
            assert np.isfinite(result.tree.states[: result.tree.size]).all()
        flat = _clear_or_ok(mcts.rollout_planning, MAZE_MODEL, root, n_actions=n_actions,
                            n_simulations=n_simulations, depth=depth, seed=0, compiled=compiled)
        if flat is not REFUSED:
            assert n_actions == 4


@FAST
@given(bad=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_a_model_returning_non_finite_rewards_is_reported(bad):
    def step(states, actions):
        return states.copy(), np.full(len(actions), bad), np.zeros(len(actions), bool)

    with pytest.raises(ValueError, match="non-finite reward"):
        mcts.mcts_search(step, np.zeros(2), n_actions=2, n_simulations=5, depth=2, seed=0)
    with pytest.raises(ValueError, match="non-finite reward"):
        mcts.rollout_planning(step, np.zeros(2), n_actions=2, n_simulations=5, depth=2, seed=0)


def test_a_reused_tree_must_be_rooted_at_the_state_searched_from():
    first = mcts.mcts_search(MAZE_MODEL, 18, n_actions=4, n_simulations=30, depth=3, seed=0)
    subtree = mcts.reuse_subtree(first.tree, first.action)
    with pytest.raises(ValueError, match="tree must be rooted at root_state"):
        mcts.mcts_search(MAZE_MODEL, 0, n_actions=4, n_simulations=5, depth=3, tree=subtree)


@FAST
@given(name=st.sampled_from(["c", "gamma", "dirichlet_alpha", "noise_fraction", "batch_size",
                             "n_simulations", "seed"]), value=WEIRD)
def test_batched_search_names_every_bad_argument(name, value):
    evaluate = puct.rollout_evaluator(simulators.cartpole_step, 2, 3, 0.99, seed=0)
    kwargs = {"n_actions": 2, "n_simulations": 4, "batch_size": 2, "seed": 0,
              "dirichlet_alpha": 0.3, name: value}
    _clear_or_ok(puct.batched_search, simulators.cartpole_step, np.zeros(4), evaluate, **kwargs)


# -- configurations and runners whose runs are too long to make here ------------------------------
CONFIGS = {
    dqn.DQNConfig: ["hidden", "lr", "gamma", "batch_size", "learning_starts", "max_grad_norm",
                    "epsilon_start", "max_steps", "solved_return"],
    models.ModelConfig: ["ensemble_size", "hidden", "holdout", "lr", "weight_decay", "patience"],
    imagined.SimpleMBRLConfig: ["initial_random_steps", "rounds", "rollout_length",
                                "train_epsilon"],
}


@FAST
@given(config=st.sampled_from(sorted(CONFIGS, key=lambda c: c.__name__)), data=st.data(),
       value=WEIRD)
def test_configurations_refuse_nan_inf_and_nonsense(config, data, value):
    name = data.draw(st.sampled_from(CONFIGS[config]))
    made = _clear_or_ok(config, **{name: value})
    if made is not REFUSED:
        number = getattr(made, name)
        assert number is None or math.isfinite(float(number))


@FAST
@given(name=st.sampled_from(["budget", "episodes", "runs", "seed", "c", "alpha", "gamma",
                             "planner", "unseen", "ablation"]),
       value=WEIRD)
def test_run_dyna_mcts_names_every_bad_argument(name, value):
    kwargs = {"budget": 2, "episodes": 1, "runs": 1, "seed": 0, name: value}
    _clear_or_ok(dyna_mcts.run_dyna_mcts, GridMaze(["S..G"]), **kwargs)


@FAST
@given(name=st.sampled_from(["runs", "seed", "planning_steps", "theta", "factor", "max_episodes"]),
       value=WEIRD)
def test_prioritized_sweeping_names_every_bad_argument(name, value):
    kwargs = {"runs": 1, "seed": 0, "max_episodes": 20, name: value}
    _clear_or_ok(sweeping.run_updates_until_near_optimal, (1,), **kwargs)


@FAST
@given(name=st.sampled_from(["steps", "runs", "seed", "planning_steps", "kappa", "alpha"]),
       value=WEIRD)
def test_changing_maze_runner_names_every_bad_argument(name, value):
    maze = envs.ChangingMaze(envs.BLOCKING_MAZE_LAYOUTS, switch_step=20)
    kwargs = {"agent": dyna_q_plus.DYNA_Q_PLUS, "steps": 40, "runs": 1, "seed": 0, name: value}
    _clear_or_ok(dyna_q_plus.run_changing_maze, maze, **kwargs)


def _transitions(n=40, seed=0):
    from mbrl_helpers.learning.data import Transitions

    rng = np.random.default_rng(seed)
    return Transitions(rng.normal(size=(n, 4)), rng.integers(2, size=n), np.ones(n),
                       rng.normal(size=(n, 4)), np.zeros(n, bool))


@FAST
@given(column=st.sampled_from(["states", "rewards", "next_states"]),
       bad=st.sampled_from([math.nan, math.inf, -math.inf]), row=st.integers(0, 39))
def test_training_refuses_non_finite_data_naming_the_column(column, bad, row):
    data = _transitions()
    getattr(data, column)[row] = bad
    with pytest.raises(ValueError, match=f"data.{column} holds NaN or inf in 1 of 40 rows"):
        models.train_ensemble(data, models.ModelConfig(max_epochs=1), progress=False)


def test_training_refuses_actions_outside_the_action_count():
    data = _transitions()
    data.actions[0] = -1
    with pytest.raises(ValueError, match="data.actions must be action indices"):
        models.train_ensemble(data, models.ModelConfig(max_epochs=1), progress=False)


def test_training_never_returns_untrained_weights():
    with pytest.raises(ValueError, match="never a finite number"):
        models.train_ensemble(_transitions(), models.ModelConfig(max_epochs=2, lr=1e30),
                              progress=False)


def test_a_dqn_run_that_could_make_no_update_is_refused():
    with pytest.raises(ValueError, match="learning_starts"):
        dqn.train_dqn(dqn.DQNConfig(max_steps=300))


@pytest.mark.parametrize("env_id", ["mbrl/DynaMaze-v0", "Pendulum-v1"])
def test_the_wrong_kind_of_environment_is_named(env_id):
    with pytest.raises(TypeError, match=f"env_id='{env_id}'"):
        dqn.train_dqn(dqn.DQNConfig(max_steps=20, learning_starts=5), env_id=env_id)
    with pytest.raises(TypeError, match=f"env_id='{env_id}'"):
        imagined.run_simple_mbrl(env_id=env_id)


# -- checks never raise ---------------------------------------------------------------------------
ANSWERS = st.one_of(WEIRD, st.text(max_size=5), st.floats(), st.lists(st.floats(), max_size=3),
                    st.integers(0, 5).map(lambda n: np.full((n, 2), np.nan)))


@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(answer=ANSWERS)
def test_every_check_returns_false_on_any_returned_value(answer):
    for name in [n for n in dir(checks) if n.startswith("check_")]:
        result = getattr(checks, name)(lambda *args, _answer=answer: _answer)
        assert result in (True, False)


# -- the other public compiled pieces: bounds-checked when called from Python ---------------------
@FAST
@given(pair=st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-8, 8)),
       action=st.integers(-(2**63), 2**63 - 1), cell=st.floats(-100, 100))
def test_compiled_pieces_called_from_python_refuse_out_of_range_indices(pair, action, cell):
    heap, prio, pos, size = sweeping.new_queue(4)
    _clear_or_ok(sweeping.pq_push, heap, prio, pos, size, pair, 1.0)
    tables = GridMaze(["S.G"]).tables()
    _clear_or_ok(simulators.maze_step_one, tables.next_state, tables.reward, tables.terminated,
                 np.array([cell]), action, np.zeros(1))


@FAST
@given(bad=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_batched_search_reports_a_model_returning_non_finite_values(bad):
    def step(states, actions):
        return states + bad, np.full(len(actions), bad), np.zeros(len(actions), bool)

    evaluate = puct.rollout_evaluator(simulators.cartpole_step, 2, 2, 0.99, seed=0)
    with pytest.raises(ValueError, match="non-finite"):
        puct.batched_search(step, np.zeros(4), evaluate, n_actions=2, n_simulations=4,
                            check_model=False)


def test_changing_mazes_are_refused_by_the_other_fixed_maze_runners():
    with pytest.raises(ValueError, match="run_dyna_mcts_changing"):
        dyna_mcts.run_dyna_mcts("mbrl/ShortcutMaze-v0", budget=2, episodes=1, runs=1, seed=0)
    with pytest.raises(TypeError, match="walls stay put"):
        sweeping.where_updates_go(envs.make_blocking_maze(), sweeping.DYNA_Q, seed=0)
