"""Planning by looking ahead with a model: Monte Carlo rollouts and UCT (Sutton & Barto 8.10-8.11).

The model is any step function of the shared interface (mbrl_helpers.worlds.simulators):
step(states, actions) -> (next_states, rewards, terminated), batched over states.

    rollout_planning   flat Monte Carlo: per root action, the mean return of random rollouts
    mcts_search        UCT: selection by UCB1, expansion, rollout, backup; act by most visits
    reuse_subtree      keep the chosen child's subtree for the next decision
    run_episode        act in a real gymnasium env with either planner

The pieces of one UCT simulation are small functions the notebook teaches one at
a time: ucb1_score, select_child, expand, rollout, path_returns, backup.
They are written in plain Python and work with any step function, e.g. a neural
model; `simulate` puts them together, and it is what runs on the plain path.
For a model with a compiled twin (simulators.compiled_model: the maze and CartPole
simulators, a Dyna agent's TabularModelStep) the search runs search_core's one
compiled UCT loop instead, draw for draw identical (tests check it) and about a
hundred times faster; a model without one is searched in plain Python, with a
warning unless compiled=False says that is meant. Random numbers come from
numba's generator (numba_tools.seed_numba), so both paths see the same draws.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import NamedTuple

import gymnasium as gym
import numpy as np

from mbrl_helpers.core.numba_tools import random_index, seed_numba
from mbrl_helpers.core.validation import check_int, check_number, check_seed, check_unit_interval
from mbrl_helpers.planners.search_core import (
    LeafEvaluation,
    SearchConfig,
    Tree,
    flat_rollouts,
    new_tree,
    normalised,
    ucb1_score,
    uct_simulations,
)
from mbrl_helpers.worlds.simulators import (
    CompiledModel,
    StepFn,
    check_step_output,
    compiled_model,
    model_action_count,
)


# -- the search tree (search_core.Tree, one type for every search) ------------------------
def _grow(tree: Tree, capacity: int) -> Tree:
    """A copy of tree with room for `capacity` nodes (the used part is kept)."""
    n = tree.size
    bigger = new_tree(tree.states[0], tree.children.shape[1], max(capacity, n))
    for name in Tree._fields[:-1]:
        getattr(bigger, name)[:n] = getattr(tree, name)[:n]
    bigger.n_nodes[0] = n
    return bigger


def reuse_subtree(tree: Tree, action: int) -> Tree | None:
    """The subtree under the root's child for `action`, re-indexed with that child as root.

    Its statistics carry over to the next decision (Sutton & Barto 8.11). Returns
    None if the child was never expanded.
    """
    child = int(tree.children[0, action])
    if child < 0:
        return None
    keep = [child]                      # breadth-first: parents before children
    for node in keep:
        keep.extend(int(k) for k in tree.children[node] if k >= 0)
    keep_arr = np.array(keep, dtype=np.int64)
    new_index = np.full(tree.size, -1, dtype=np.int64)
    new_index[keep_arr] = np.arange(keep_arr.size)
    sub = new_tree(tree.states[child], tree.children.shape[1], keep_arr.size)
    for name in ("states", "visits", "value_sum", "reward", "terminal", "action"):
        getattr(sub, name)[:] = getattr(tree, name)[keep_arr]
    kids = tree.children[keep_arr]
    sub.children[:] = np.where(kids >= 0, new_index[np.maximum(kids, 0)], -1)
    sub.parent[1:] = new_index[tree.parent[keep_arr[1:]]]
    sub.parent[0], sub.action[0], sub.reward[0] = -1, -1, 0.0
    sub.n_nodes[0] = keep_arr.size
    return sub


# -- the pieces of one simulation ----------------------------------------------------------
def select_child(tree: Tree, node: int, c: float, gamma: float, bounds: list[float] | None) -> int:
    """The child of a fully expanded node with the highest UCB1 score (ties: lowest action).

    bounds: [q_min, q_max] over the tree for min-max normalisation, or None (raw Q).
    """
    best_child, best_score = -1, -math.inf
    for child in tree.children[node]:
        q = tree.reward[child] + gamma * tree.value_sum[child] / tree.visits[child]
        if bounds is not None:
            q = normalised(q, bounds[0], bounds[1])
        score = ucb1_score(q, tree.visits[node], tree.visits[child], c)
        if score > best_score:
            best_child, best_score = int(child), score
    return best_child


def expand(step_fn: StepFn, tree: Tree, node: int, action: int) -> int:
    """Add the child that `action` leads to from node (one model step); return its index."""
    next_states, rewards, terminated = step_fn(tree.states[node][None], np.array([action]))
    child = tree.size
    tree.n_nodes[0] += 1
    tree.states[child] = next_states[0]
    tree.reward[child], tree.terminal[child] = rewards[0], terminated[0]
    tree.parent[child], tree.action[child] = node, action
    tree.children[node, action] = child
    return child


def rollout(step_fn: StepFn, state: np.ndarray, depth: int, gamma: float,
            n_actions: int) -> tuple[float, int]:
    """Discounted return of up to `depth` uniformly random actions from state.

    Stops early when the model says the episode terminated. Returns (return, model steps).
    """
    states, ret, discount = state[None], 0.0, 1.0
    for t in range(depth):
        action = random_index(n_actions)
        states, rewards, terminated = step_fn(states, np.array([action]))
        ret += discount * rewards[0]
        discount *= gamma
        if terminated[0]:
            return ret, t + 1
    return ret, depth


def path_returns(rewards: np.ndarray, leaf_value: float, gamma: float) -> np.ndarray:
    """The return from each node of a path, root first: G_i = r_{i+1} + gamma * G_{i+1}.

    rewards: (k,) rewards of the k transitions root -> ... -> leaf (rewards[i] is
    the reward of entering path node i + 1). leaf_value: the return estimated at the
    leaf (a rollout's return; 0 at a terminal). Returns (k + 1,) float64, G_k = leaf_value.
    """
    returns = np.empty(len(rewards) + 1)
    g = float(leaf_value)
    returns[-1] = g
    for i in range(len(rewards) - 1, -1, -1):
        g = rewards[i] + gamma * g
        returns[i] = g
    return returns


def backup(tree: Tree, path: list[int], leaf_value: float, gamma: float,
           bounds: list[float] | None = None) -> None:
    """Add one sampled return to every node on path (root first), discounting on the way up.

    bounds, if given, is widened to include each updated node's new mean Q.
    """
    returns = path_returns(tree.reward[path[1:]], leaf_value, gamma)
    for node, g in zip(path, returns, strict=True):
        tree.visits[node] += 1
        tree.value_sum[node] += g
        if bounds is not None and node != path[0]:
            q = tree.reward[node] + gamma * tree.value_sum[node] / tree.visits[node]
            bounds[0], bounds[1] = min(bounds[0], q), max(bounds[1], q)


def simulate(step_fn: StepFn, tree: Tree, depth: int, c: float, gamma: float,
             bounds: list[float] | None) -> int:
    """One UCT simulation: select, expand, roll out, back up. Returns model steps used."""
    node, path = 0, [0]
    while not tree.terminal[node]:
        untried = np.flatnonzero(tree.children[node] < 0)
        if untried.size:                                          # expansion
            node = expand(step_fn, tree, node, int(untried[random_index(untried.size)]))
            path.append(node)
            if tree.terminal[node]:
                backup(tree, path, 0.0, gamma, bounds)
                return 1
            value, steps = rollout(step_fn, tree.states[node], depth, gamma,
                                   tree.children.shape[1])        # simulation
            backup(tree, path, value, gamma, bounds)             # backup
            return 1 + steps
        node = select_child(tree, node, c, gamma, bounds)         # selection
        path.append(node)
    backup(tree, path, 0.0, gamma, bounds)                      # a terminal: nothing follows
    return 0


def _tree_bounds(tree: Tree, gamma: float) -> list[float]:
    """[q_min, q_max] of the mean Q of every visited non-root node (inf, -inf if none)."""
    n = tree.size
    visited = np.flatnonzero(tree.visits[1:n] > 0) + 1
    if visited.size == 0:
        return [math.inf, -math.inf]
    q = tree.reward[visited] + gamma * tree.value_sum[visited] / tree.visits[visited]
    return [float(q.min()), float(q.max())]


# -- the planners ----------------------------------------------------------------------
class SearchResult(NamedTuple):
    """What a planner returns for one decision (in the spirit of mctx's PolicyOutput).

    action:          the action to take (most visited for MCTS, best mean for rollouts).
    visit_counts:    (A,) int64 simulations through each root action.
    q_values:        (A,) float64 estimated Q(root, a), NaN where never tried.
    root_value:      mean sampled return from the root.
    tree:            the search Tree (None for flat rollout planning).
    simulated_steps: model transitions this decision used (the compute cost).
    """

    action: int
    visit_counts: np.ndarray
    q_values: np.ndarray
    root_value: float
    tree: Tree | None
    simulated_steps: int


# Simulations per compiled call: each call returns to Python, where Ctrl-C can stop a
# search (well under a second per slice on a laptop CPU).
SLICE_SIMULATIONS = 1 << 14


def _check_search_args(n_actions: int, n_simulations: int, depth: int, gamma: float,
                       seed: int | None, c: float = 0.0) -> None:
    check_int("n_actions", n_actions, low=1)
    check_int("n_simulations", n_simulations, low=1)
    check_int("depth", depth, low=1)
    check_number("c", c, low=0.0)
    check_unit_interval("gamma", gamma)
    if seed is not None:
        check_seed("seed", seed)


def _check_model_actions(step_fn: StepFn, n_actions: int) -> None:
    """Refuse an action count the model does not have (compiled search would read past its tables)."""
    known = model_action_count(step_fn)
    if known is not None and n_actions != known:
        raise ValueError(f"n_actions must be {known} for this model ({type(step_fn).__name__} "
                         f"takes actions 0..{known - 1}), got {n_actions}")


def _check_finite_search(tree_rewards: np.ndarray, values: np.ndarray) -> None:
    """A model step that returned NaN or inf would make every Q value NaN: say so."""
    if not (np.isfinite(tree_rewards).all() and np.isfinite(values).all()):
        raise ValueError("step_fn returned a non-finite reward (NaN or inf) during the search; "
                         "rewards must be finite numbers")


def _root_state(step_fn: StepFn, root_state: object) -> np.ndarray:
    """The root as an array the model takes: float64 (D,) or an int64 scalar.

    Steps the model once from it, so a state the model cannot take fails here,
    with the model's own error message.
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be a step function (states, actions) -> "
                        f"(next_states, rewards, terminated), got {type(step_fn).__name__}")
    state = np.asarray(root_state)
    if np.issubdtype(state.dtype, np.integer) or state.dtype == np.bool_:
        state = state.astype(np.int64)
    elif np.issubdtype(state.dtype, np.floating):
        state = state.astype(np.float64)
    else:
        raise TypeError(f"root_state must be numeric, got dtype {state.dtype}")
    check_step_output(step_fn, state[None], np.zeros(1, dtype=np.int64))
    return state


# No limit on model steps: mcts_search counts simulations, not calls.
NO_CALL_LIMIT = 1 << 62
_NO_Q = np.zeros((1, 1))
_warned_plain: set[str] = set()


class PlainSearchWarning(UserWarning):
    """A search was asked for its compiled path but the model has no compiled twin."""


def _compiled_twin(step_fn: StepFn, search: str) -> CompiledModel | None:
    """step_fn's compiled twin; without one, warn once per model that the search runs in
    plain Python (a lambda around cartpole_step would otherwise be silently ~100x slower)."""
    fast = compiled_model(step_fn)
    name = getattr(step_fn, "__qualname__", type(step_fn).__qualname__)
    if fast is None and name not in _warned_plain:
        _warned_plain.add(name)
        warnings.warn(
            f"{search}: the model {name} has no compiled twin, so the search runs its "
            f"plain-Python path (about a hundred times slower). To search a course simulator "
            f"fast, pass it itself (simulators.cartpole_step, simulators.maze_step_fn(maze)), "
            f"not a function wrapping it; pass compiled=False to say the plain path is meant.",
            PlainSearchWarning, stacklevel=3)
    return fast


def mcts_search(  # noqa: C901, PLR0913 - keyword-only settings with defaults, as the notebooks call it
    step_fn: StepFn,
    root_state: np.ndarray | int,
    *,
    n_actions: int,
    n_simulations: int,
    depth: int,
    c: float = 1.0,
    gamma: float = 1.0,
    normalise: bool = True,
    seed: int | None = None,
    tree: Tree | None = None,
    compiled: bool = True,
) -> SearchResult:
    """UCT from root_state with the model step_fn; act by most visits.

    n_simulations: simulations (>= 1), each expanding one new node.
    depth: random rollout steps after the new node (>= 1).
    c: UCB1 exploration constant (>= 0). gamma: discount in [0, 1].
    normalise: min-max normalise Q over the tree before UCB1 (as MuZero and mctx do).
    seed: reseed numba's generator first (None: continue its stream).
    tree: a previous search's subtree (reuse_subtree) rooted at root_state, to continue.
    compiled: use step_fn's compiled twin (warn once if it has none); False: plain Python.
    Same seed, same result; the compiled and Python paths agree draw for draw.
    """
    _check_search_args(n_actions, n_simulations, depth, gamma, seed, c)
    _check_model_actions(step_fn, n_actions)
    state = _root_state(step_fn, root_state)
    if tree is not None:
        if not isinstance(tree, Tree):
            raise TypeError(f"tree must be a Tree (from reuse_subtree) or None, got "
                            f"{type(tree).__name__}")
        if tree.children.shape[1] != n_actions or tree.states.shape[1:] != state.shape:
            raise ValueError("tree was built for another model: its action count or state "
                             "shape differs from n_actions / root_state")
        if not np.allclose(tree.states[0], state, rtol=0, atol=1e-6):
            raise ValueError(f"tree must be rooted at root_state (within 1e-6): its root is "
                             f"{tree.states[0].tolist()}, root_state is {state.tolist()}")
    else:
        tree = new_tree(state, n_actions, 1)
    # Room for every node the search adds; a huge search grows its tree as it goes, so memory
    # follows the simulations actually run (and Ctrl-C stops it early).
    final_capacity = tree.size + n_simulations
    tree = _grow(tree, min(final_capacity, tree.size + SLICE_SIMULATIONS))
    if seed is not None:
        seed_numba(seed)
    bounds = _tree_bounds(tree, gamma) if normalise else None
    fast = _compiled_twin(step_fn, "mcts_search") if compiled else None
    config = SearchConfig(float(c), float(gamma), bool(normalise))

    def flat(tree: Tree) -> Tree:  # the compiled search's view: states (N, D) float64
        return tree._replace(states=tree.states.reshape(tree.states.shape[0], -1).astype(np.float64))

    def unflat(tree: Tree, flat_tree: Tree) -> None:
        tree.states[:] = flat_tree.states.reshape(tree.states.shape).astype(tree.states.dtype)

    flat_tree = flat(tree) if fast is not None else None
    q_min, q_max = _tree_bounds(tree, gamma)
    steps, done = 0, 0
    while done < n_simulations:  # in slices: Ctrl-C is raised between them
        chunk = min(SLICE_SIMULATIONS, n_simulations - done)
        if tree.size + chunk > tree.parent.shape[0]:
            if fast is not None:
                unflat(tree, flat_tree)
            tree = _grow(tree, min(final_capacity, max(tree.size + chunk, 2 * tree.parent.shape[0])))
            flat_tree = flat(tree) if fast is not None else None
        if fast is not None:
            used, q_min, q_max = uct_simulations(fast, flat_tree, LeafEvaluation(int(depth), False, _NO_Q),
                                                 config, chunk, NO_CALL_LIMIT, q_min, q_max)
        else:
            used = sum(simulate(step_fn, tree, depth, c, gamma, bounds) for _ in range(chunk))
        steps, done = steps + used, done + chunk
    if fast is not None:
        unflat(tree, flat_tree)
    else:
        _check_finite_search(tree.reward[: tree.size], tree.value_sum[: tree.size])
    return _mcts_result(tree, gamma, steps)


def _mcts_result(tree: Tree, gamma: float, steps: int) -> SearchResult:
    kids = tree.children[0]
    visits = np.where(kids >= 0, tree.visits[np.maximum(kids, 0)], 0)
    q = tree.q_values(0, gamma)
    # most visits; among equals the higher Q, then the lower action index
    order = np.lexsort((-np.nan_to_num(q, nan=-np.inf), -visits))
    root_value = tree.value_sum[0] / max(tree.visits[0], 1)
    return SearchResult(int(order[0]), visits.astype(np.int64), q, float(root_value), tree,
                        int(steps))


def rollout_planning(
    step_fn: StepFn,
    root_state: np.ndarray | int,
    *,
    n_actions: int,
    n_simulations: int,
    depth: int,
    gamma: float = 1.0,
    seed: int | None = None,
    compiled: bool = True,
) -> SearchResult:
    """Flat Monte Carlo rollout planning (Sutton & Barto 8.10); act greedily.

    Simulation i tries root action i mod A, then `depth` uniformly random actions;
    Q(root, a) is the mean of its sampled returns. Same budget meaning as mcts_search.
    """
    _check_search_args(n_actions, n_simulations, depth, gamma, seed)
    _check_model_actions(step_fn, n_actions)
    state = _root_state(step_fn, root_state)
    if seed is not None:
        seed_numba(seed)
    counts, sums = np.zeros(n_actions, dtype=np.int64), np.zeros(n_actions)
    fast = _compiled_twin(step_fn, "rollout_planning") if compiled else None
    if fast is not None:
        steps, done = 0, 0
        root = state.reshape(-1).astype(np.float64)
        leaf = LeafEvaluation(int(depth), False, _NO_Q)
        while done < n_simulations:  # in slices: Ctrl-C is raised between them
            chunk = min(SLICE_SIMULATIONS, n_simulations - done)
            steps += flat_rollouts(fast, root, leaf, float(gamma), done, chunk, counts, sums)
            done += chunk
    else:
        steps = 0
        for i in range(n_simulations):
            a = i % n_actions
            next_states, rewards, terminated = step_fn(state[None], np.array([a]))
            g, steps = float(rewards[0]), steps + 1
            if not terminated[0]:
                value, used = rollout(step_fn, next_states[0], depth, gamma, n_actions)
                g, steps = g + gamma * value, steps + used
            counts[a] += 1
            sums[a] += g
        _check_finite_search(sums, sums)
    q = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    action = int(np.argmax(np.nan_to_num(q, nan=-np.inf)))
    return SearchResult(action, counts, q, float(sums.sum() / counts.sum()), None, int(steps))


# -- acting in a real environment ------------------------------------------------------
class EpisodeResult(NamedTuple):
    """One episode of a planner acting in a real env.

    total_reward: undiscounted sum of rewards. steps: real steps taken.
    simulated_steps: model transitions used by all decisions. actions: (steps,) int64.
    last_observation: the env's final observation (e.g. where CartPole failed).
    seconds: wall time (machine-dependent: never compare it across machines).
    """

    total_reward: float
    steps: int
    simulated_steps: int
    actions: np.ndarray
    last_observation: np.ndarray
    seconds: float


def run_episode(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    env: gym.Env,
    step_fn: StepFn,
    *,
    planner: str = "mcts",
    n_simulations: int,
    depth: int,
    c: float = 1.0,
    gamma: float = 1.0,
    normalise: bool = True,
    seed: int = 0,
    max_steps: int = 500,
    reuse_tree: bool = True,
    compiled: bool = True,
) -> EpisodeResult:
    """Reset env with seed, then plan every decision with step_fn until the episode ends.

    planner: "mcts" (mcts_search) or "rollout" (rollout_planning). The search is
    seeded once with `seed`; decisions continue its random stream.
    reuse_tree (MCTS): start the next search from the chosen child's subtree when the
    child's state matches the observation (within float32 rounding), else afresh.
    max_steps: stop after this many real steps (CartPole-v1's limit is 500).
    """
    if planner not in ("mcts", "rollout"):
        raise ValueError(f"planner must be 'mcts' or 'rollout', got {planner!r}")
    check_int("max_steps", max_steps, low=1)
    check_seed("seed", seed)
    if not isinstance(env, gym.Env) or not isinstance(env.action_space, gym.spaces.Discrete):
        space = type(getattr(env, "action_space", None)).__name__
        raise TypeError(f"env must be a gymnasium environment with a Discrete action space "
                        f"(actions 0..n-1), got {type(env).__name__} with {space} actions")
    n_actions = int(env.action_space.n)
    obs, _ = env.reset(seed=seed)
    seed_numba(seed)
    start = time.perf_counter()
    total, simulated, actions, tree = 0.0, 0, [], None
    for _ in range(max_steps):
        if planner == "mcts":
            result = mcts_search(step_fn, obs, n_actions=n_actions, n_simulations=n_simulations,
                                 depth=depth, c=c, gamma=gamma, normalise=normalise, tree=tree,
                                 compiled=compiled)
        else:
            result = rollout_planning(step_fn, obs, n_actions=n_actions,
                                      n_simulations=n_simulations, depth=depth, gamma=gamma,
                                      compiled=compiled)
        obs, reward, terminated, truncated, _ = env.step(result.action)
        total += float(reward)
        simulated += result.simulated_steps
        actions.append(result.action)
        tree = None
        if planner == "mcts" and reuse_tree:
            tree = reuse_subtree(result.tree, result.action)
            if tree is not None and not np.allclose(tree.states[0], obs, rtol=0, atol=1e-6):
                tree = None                  # the model's prediction missed: search afresh
        if terminated or truncated:
            break
    return EpisodeResult(total, len(actions), simulated, np.array(actions, dtype=np.int64),
                         np.asarray(obs), time.perf_counter() - start)
