"""PUCT search with a policy prior and batched leaf evaluation (AlphaZero / MuZero style).

The model is any step function of the shared interface (mbrl_helpers.worlds.simulators),
and the leaves are judged by an *evaluator* instead of (or by) random rollouts:

    evaluate(states) -> (priors, values)
        states: (B, D) float64   priors: (B, A) float64, each row sums to 1
                                 values: (B,) float64, the estimated return from each state

    puct_score         AlphaZero's selection rule q + c * prior * sqrt(N) / (1 + n)
    rollout_evaluator  uniform priors, value = return of a random rollout (all B states in lockstep)
    batched_search     PUCT with virtual loss: each round selects up to batch_size leaves,
                       expands them with ONE model call and evaluates them with ONE evaluator call
    run_episode        act in a real gymnasium env by batched_search until the episode ends

Q normalisation (as MuZero and mctx): every Q the search compares is min-max normalised
to [0, 1] over the Q values of the nodes visited so far in this tree (0.5 while all are
equal); normalise="siblings" takes the min and max over the node's own value and its
visited children's Q instead (mctx's qtransform_by_parent_and_siblings). An unvisited
child's Q is its parent's current value estimate (mean return from the parent),
normalised the same way ("first-play urgency = parent value"). A pending (virtual) visit
counts as a visit of normalised value 0, the worst seen, and an untried action another
leaf of the round already claimed is not selected again, so the leaves of one round
spread out instead of all following the same path (virtual loss).

batch_size=1 is the classic one-leaf-at-a-time search, the baseline for the batched one.
The tree bookkeeping (selection, backup) is numba-compiled over flat arrays; Python only
runs around the batched model and evaluator calls.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple

import gymnasium as gym
import numpy as np
from numba import njit

from mbrl_helpers.core.validation import check_int, check_number, check_unit_interval
from mbrl_helpers.planners.mcts import SearchResult
from mbrl_helpers.planners.search_core import Tree, new_tree, normalised
from mbrl_helpers.worlds.simulators import StepFn, check_step_output

Evaluator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""evaluate(states (B, D) float64) -> (priors (B, A) float64 rows summing to 1, values (B,) float64)."""


# -- the selection rule ----------------------------------------------------------------------
@njit(cache=True)
def puct_score(q: float, prior: float, parent_visits: int, child_visits: int, c: float) -> float:
    """AlphaZero's PUCT: q + c * prior * sqrt(parent_visits) / (1 + child_visits).

    q: the child's action value, min-max normalised to [0, 1] by the search;
    prior: the policy prior P(s, a) in [0, 1]; parent_visits N >= 0 and child_visits
    n >= 0 (an unvisited child is scored by its prior, not by +inf as in UCB1);
    c >= 0 trades the prior-guided exploration term against q.
    """
    return q + c * prior * math.sqrt(parent_visits) / (1 + child_visits)


class PUCTConfig(NamedTuple):
    """c: the PUCT constant; gamma: discount; local: normalise Q over the node and its visited
    children (normalise="siblings") instead of over the whole tree."""

    c: float
    gamma: float
    local: bool


class Round(NamedTuple):
    """One round's selections, b < batch_size: paths (batch_size, N) int64 nodes walked, root
    first; lengths (batch_size,) int64; leaf_actions (batch_size,) int64, the untried action to
    expand from the last node (-1: the last node is terminal, -2: a collision, dropped);
    leaf_values (batch_size,) float64, the return estimated at each path's last node."""

    paths: np.ndarray
    lengths: np.ndarray
    leaf_actions: np.ndarray
    leaf_values: np.ndarray


@njit(cache=True)
def _best_action(tree, node, prior, pending, bounds, config):
    """The action of node with the highest PUCT score, virtual visits included (ties: lowest).

    Untried actions already claimed for expansion in this round are skipped; -1 if none is left.
    """
    children, visits, value_sum, reward = tree.children, tree.visits, tree.value_sum, tree.reward
    gamma = config.gamma
    n_actions = children.shape[1]
    parent_n = visits[node]
    for a in range(n_actions):
        parent_n += pending[node, a]
    parent_q = value_sum[node] / max(visits[node], 1)
    lo, hi = bounds[0], bounds[1]
    if config.local:                          # min-max over the parent and its visited children
        lo, hi = parent_q, parent_q
        for a in range(n_actions):
            kid = children[node, a]
            if kid >= 0 and visits[kid] > 0:
                q = reward[kid] + gamma * value_sum[kid] / visits[kid]
                lo, hi = min(lo, q), max(hi, q)
    best_a, best_score = -1, -math.inf
    for a in range(n_actions):
        kid = children[node, a]
        n = visits[kid] if kid >= 0 else 0
        p = pending[node, a]
        if kid < 0 and p > 0:
            continue                          # already claimed for expansion in this round
        if n > 0:
            q = normalised(reward[kid] + gamma * value_sum[kid] / n, lo, hi)
        else:
            q = normalised(parent_q, lo, hi)
        if n + p > 0 and p > 0:
            q = q * n / (n + p)               # each pending visit counts as value 0 (virtual loss)
        score = puct_score(q, prior[node, a], parent_n, n + p, config.c)
        if score > best_score:
            best_a, best_score = a, score
    return best_a


@njit(cache=True)
def _select_batch(tree, prior, pending, bounds, config, n_leaves, selections):
    """Up to n_leaves selections from the root with virtual loss, into `selections` (a Round).

    For selection b: paths[b, :lengths[b]] are the tree nodes walked (root first);
    leaf_actions[b] is the untried action to expand from the last node, -1 if the
    last node is terminal (back up 0, no model call), -2 if the walk reached a node whose
    untried actions were all claimed in this round (a collision: the selection is
    dropped, nothing pending).
    Returns the number of selections made (always n_leaves).
    """
    paths, lengths, leaf_actions = selections.paths, selections.lengths, selections.leaf_actions
    for b in range(n_leaves):
        node, length = 0, 1
        paths[b, 0] = 0
        while True:
            if tree.terminal[node]:
                leaf_actions[b] = -1
                break
            a = _best_action(tree, node, prior, pending, bounds, config)
            if a < 0:                                     # every action here is claimed: a collision
                leaf_actions[b] = -2
                break
            kid = tree.children[node, a]
            if kid < 0:
                leaf_actions[b] = a
                break
            paths[b, length] = kid
            length += 1
            node = kid
        lengths[b] = length
        if leaf_actions[b] == -2:
            continue
        for i in range(1, length):                       # virtual visits on the walked edges
            pending[paths[b, i - 1], tree.action[paths[b, i]]] += 1
        if leaf_actions[b] >= 0:
            pending[node, leaf_actions[b]] += 1
    return n_leaves


@njit(cache=True)
def _backup_batch(tree, pending, bounds, gamma, n_leaves, selections):
    """Back each kept selection's leaf value up its path and lift its virtual visits.

    leaf_values[b]: the return estimated at the path's last node (after expansion, the
    new node; 0 for a terminal). bounds (2,) [q_min, q_max] widens to every updated Q.
    Returns the number of simulations backed up.
    """
    visits, value_sum, reward = tree.visits, tree.value_sum, tree.reward
    paths = selections.paths
    done = 0
    for b in range(n_leaves):
        if selections.leaf_actions[b] == -2:
            continue
        length = selections.lengths[b]
        g = selections.leaf_values[b]
        for i in range(length - 1, -1, -1):
            node = paths[b, i]
            if i < length - 1:
                g = reward[paths[b, i + 1]] + gamma * g
            visits[node] += 1
            value_sum[node] += g
            if i > 0:
                pending[paths[b, i - 1], tree.action[node]] -= 1
                q = reward[node] + gamma * value_sum[node] / visits[node]
                bounds[0], bounds[1] = min(bounds[0], q), max(bounds[1], q)
        done += 1
    return done


# -- evaluators ------------------------------------------------------------------------------
class RolloutEvaluator:
    """Uniform priors; value = discounted return of a uniformly random rollout from each state.

    All B states roll out in lockstep: `depth` batched model calls at most, each state
    stopping at its own termination. Counts its calls (calls, model_calls, model_steps).
    """

    def __init__(self, step_fn: StepFn, n_actions: int, depth: int, gamma: float, seed: int) -> None:
        check_int("n_actions", n_actions, low=1)
        check_int("depth", depth, low=1)
        check_unit_interval("gamma", gamma)
        check_int("seed", seed, low=0)
        if not callable(step_fn):
            raise TypeError(f"step_fn must be a step function, got {type(step_fn).__name__}")
        self.step_fn, self.n_actions, self.depth, self.gamma = step_fn, n_actions, depth, gamma
        self.rng = np.random.default_rng(seed)
        self.calls = self.model_calls = self.model_steps = 0

    def __call__(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        states = np.asarray(states, dtype=np.float64)
        batch = states.shape[0]
        self.calls += 1
        returns = np.zeros(batch)
        alive = np.ones(batch, dtype=bool)
        discount = 1.0
        for _ in range(self.depth):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            actions = self.rng.integers(self.n_actions, size=idx.size)
            nxt, rewards, terminated = self.step_fn(states[idx], actions)
            self.model_calls += 1
            self.model_steps += idx.size
            returns[idx] += discount * np.asarray(rewards, dtype=np.float64)
            states[idx] = nxt
            alive[idx[np.asarray(terminated, dtype=bool)]] = False
            discount *= self.gamma
        return np.full((batch, self.n_actions), 1.0 / self.n_actions), returns


def rollout_evaluator(step_fn: StepFn, n_actions: int, depth: int, gamma: float,
                      seed: int = 0) -> RolloutEvaluator:
    """An evaluator judging states by random rollouts on step_fn (see RolloutEvaluator)."""
    return RolloutEvaluator(step_fn, n_actions, depth, gamma, seed)


def check_evaluation(out: object, batch: int, n_actions: int) -> tuple[np.ndarray, np.ndarray]:
    """(priors, values) as float64 arrays; raise unless they keep the evaluator interface."""
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError("an evaluator must return a tuple (priors (B, A), values (B,))")
    priors = np.asarray(out[0], dtype=np.float64)
    values = np.asarray(out[1], dtype=np.float64)
    if priors.shape != (batch, n_actions):
        raise ValueError(f"priors must have shape ({batch}, {n_actions}), got {priors.shape}")
    if values.shape != (batch,):
        raise ValueError(f"values must have shape ({batch},), got {values.shape}")
    if not (np.all(np.isfinite(priors)) and np.all(np.isfinite(values))):
        raise ValueError("priors and values must be finite")
    if np.any(priors < 0) or not np.allclose(priors.sum(axis=1), 1.0, atol=1e-5):
        raise ValueError(f"each row of priors must be >= 0 and sum to 1, got row sums "
                         f"{priors.sum(axis=1)}")
    return priors, values


# -- the search --------------------------------------------------------------------------------
class BatchedSearchResult(NamedTuple):
    """One decision of batched_search: mcts.SearchResult's six fields first, then the costs.

    action, visit_counts (A,), q_values (A,) (NaN where unvisited), root_value, tree
    (mcts.Tree), simulated_steps (model transitions: expansions plus any the evaluator
    reports in a `model_steps` counter, e.g. rollout_evaluator) as in mcts.SearchResult;
    root_prior:      (A,) the evaluator's prior at the root (after any Dirichlet noise).
    simulations:     simulations backed up (n_simulations; collisions are not counted).
    model_calls:     step_fn calls by the search itself (expansions; one per round).
    evaluator_calls: evaluate calls (the root's included; one per round with a live leaf).
    rounds:          selection rounds.
    """

    action: int
    visit_counts: np.ndarray
    q_values: np.ndarray
    root_value: float
    tree: Tree
    simulated_steps: int
    root_prior: np.ndarray
    simulations: int
    model_calls: int
    evaluator_calls: int
    rounds: int

    @property
    def search(self) -> SearchResult:
        """The decision as a plain mcts.SearchResult."""
        return SearchResult(*self[:6])

    def policy(self) -> np.ndarray:
        """(A,) float64 visit-count distribution at the root (AlphaZero's policy target)."""
        return self.visit_counts / max(int(self.visit_counts.sum()), 1)


def _check_root(step_fn: StepFn, root_state: object) -> np.ndarray:
    if not callable(step_fn):
        raise TypeError(f"step_fn must be a step function (states, actions) -> "
                        f"(next_states, rewards, terminated), got {type(step_fn).__name__}")
    state = np.asarray(root_state)
    if state.ndim != 1 or not (np.issubdtype(state.dtype, np.floating)
                               or np.issubdtype(state.dtype, np.integer)):
        raise ValueError(f"root_state must be a 1-D numeric array (D,), got {state.dtype} {state.shape}")
    return state.astype(np.float64)


def batched_search(  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
    step_fn: StepFn,
    root_state: np.ndarray,
    evaluate: Evaluator,
    *,
    n_actions: int,
    n_simulations: int,
    batch_size: int = 16,
    c: float = 1.25,
    gamma: float = 0.99,
    seed: int | None = None,
    dirichlet_alpha: float = 0.0,
    noise_fraction: float = 0.25,
    check_model: bool = True,
    normalise: str = "tree",
) -> BatchedSearchResult:
    """PUCT search from root_state with the model step_fn and leaf evaluator `evaluate`.

    The root is evaluated first (one evaluator call). Then each round selects up to
    batch_size leaves by PUCT with virtual loss (untried actions another selection of the
    round already claimed are skipped; a walk that finds only such actions is dropped),
    expands all new leaves with ONE step_fn call (states (B, D), actions (B,)), evaluates
    the non-terminal new nodes with ONE evaluate call, and backs every selection up.
    Beyond a terminal transition the value is 0. Rounds continue until n_simulations
    simulations were backed up; act by most visits (ties: higher Q, then lower action).

    n_simulations >= 1; batch_size >= 1 (1: one model and one evaluator call per node);
    c >= 0 the PUCT constant; gamma in [0, 1].
    dirichlet_alpha > 0 mixes Dir(alpha) noise into the root prior with weight
    noise_fraction (AlphaZero's exploration while training; 0: no noise), drawn from
    numpy's Generator seeded by `seed`. The search is otherwise deterministic.
    check_model: call step_fn once on the root to check the interface first.
    normalise: "tree" min-max normalises Q over every visited node of the tree (MuZero);
    "siblings" over the node's own value and its visited children's Q only (as mctx's
    qtransform_by_parent_and_siblings), which keeps small differences between siblings
    visible when the tree's range is wide (e.g. terminal states valued 0 deep down).
    """
    check_int("n_actions", n_actions, low=1)
    check_int("n_simulations", n_simulations, low=1)
    check_int("batch_size", batch_size, low=1)
    check_number("c", c, low=0.0)
    check_unit_interval("gamma", gamma)
    check_number("dirichlet_alpha", dirichlet_alpha, low=0.0)
    check_unit_interval("noise_fraction", noise_fraction)
    if normalise not in ("tree", "siblings"):
        raise ValueError(f"normalise must be 'tree' or 'siblings', got {normalise!r}")
    if seed is not None:
        check_int("seed", seed, low=0)
    if not callable(evaluate):
        raise TypeError(f"evaluate must be a callable states -> (priors, values), "
                        f"got {type(evaluate).__name__}")
    state = _check_root(step_fn, root_state)
    if check_model:
        check_step_output(step_fn, state[None], np.zeros(1, dtype=np.int64))

    capacity = n_simulations + 1                  # each simulation adds at most one node
    tree = new_tree(state, n_actions, capacity)
    prior = np.zeros((capacity, n_actions))
    pending = np.zeros((capacity, n_actions), dtype=np.int64)
    bounds = np.array([math.inf, -math.inf])
    steps_before = getattr(evaluate, "model_steps", 0)

    root_prior, root_value = check_evaluation(evaluate(state[None].copy()), 1, n_actions)
    root_prior = root_prior[0]
    if dirichlet_alpha > 0:
        noise = np.random.default_rng(seed).dirichlet(np.full(n_actions, dirichlet_alpha))
        root_prior = (1 - noise_fraction) * root_prior + noise_fraction * noise
    prior[0] = root_prior
    tree.visits[0], tree.value_sum[0] = 1, root_value[0]
    evaluator_calls, model_calls, rounds, done, expansions = 1, 0, 0, 0, 0

    paths = np.zeros((batch_size, capacity), dtype=np.int64)
    lengths = np.zeros(batch_size, dtype=np.int64)
    leaf_actions = np.zeros(batch_size, dtype=np.int64)
    leaf_values = np.zeros(batch_size)
    selections = Round(paths, lengths, leaf_actions, leaf_values)
    config = PUCTConfig(float(c), float(gamma), normalise == "siblings")
    while done < n_simulations:
        n = min(batch_size, n_simulations - done)
        rounds += 1
        _select_batch(tree, prior, pending, bounds, config, n, selections)
        leaf_values[:n] = 0.0
        grow = np.flatnonzero(leaf_actions[:n] >= 0)
        if grow.size:
            parents = paths[grow, lengths[grow] - 1]
            actions = leaf_actions[grow]
            nxt, rewards, terminated = step_fn(tree.states[parents].copy(), actions.copy())
            if not (np.all(np.isfinite(rewards)) and np.all(np.isfinite(nxt))):
                raise ValueError("step_fn returned a non-finite reward or next state (NaN or "
                                 "inf) during the search; the model's outputs must be finite")
            model_calls += 1
            expansions += grow.size
            new = tree.size + np.arange(grow.size)
            tree.n_nodes[0] += grow.size
            tree.states[new] = nxt
            tree.reward[new] = rewards
            tree.terminal[new] = terminated
            tree.parent[new], tree.action[new] = parents, actions
            tree.children[parents, actions] = new
            paths[grow, lengths[grow]] = new
            lengths[grow] += 1
            live = ~np.asarray(terminated, dtype=bool)
            if live.any():
                priors, values = check_evaluation(evaluate(np.array(nxt[live], dtype=np.float64)),
                                                  int(live.sum()), n_actions)
                evaluator_calls += 1
                prior[new[live]] = priors
                leaf_values[grow[live]] = values
        done += _backup_batch(tree, pending, bounds, float(gamma), n, selections)

    steps = expansions + int(getattr(evaluate, "model_steps", 0)) - int(steps_before)
    kids = tree.children[0]
    visits = np.where(kids >= 0, tree.visits[np.maximum(kids, 0)], 0).astype(np.int64)
    q = tree.q_values(0, gamma)
    order = np.lexsort((-np.nan_to_num(q, nan=-np.inf), -visits))
    root_mean = tree.value_sum[0] / max(tree.visits[0], 1)
    return BatchedSearchResult(int(order[0]), visits, q, float(root_mean), tree, int(steps),
                               root_prior, int(done), model_calls, evaluator_calls, rounds)


# -- acting in a real environment ------------------------------------------------------------
class SearchEpisode(NamedTuple):
    """One real episode acted by batched_search.

    total_reward: undiscounted return. steps: real steps taken.
    model_calls: batched step_fn calls, the search's and the evaluator's (its `model_calls`
        counter, e.g. rollout_evaluator's; 0 for a network evaluator).
    model_steps: transitions simulated (expansions and rollout steps: the compute, whatever
        the batching). seconds: wall time on this machine.
    """

    total_reward: float
    steps: int
    model_calls: int
    model_steps: int
    seconds: float


def run_episode(env: gym.Env, step_fn: StepFn, evaluate: Evaluator, *, seed: int,
                max_steps: int | None = None, **search: object) -> SearchEpisode:
    """Reset env with seed, then pick every action by batched_search(step_fn, obs, evaluate, **search)
    until the episode ends (or after max_steps real steps; None: the env's own limit).

    search: batched_search's keyword arguments (n_simulations, batch_size, c, gamma, ...);
    n_actions comes from env. The model's interface is checked at the first decision only.
    """
    check_int("seed", seed, low=0)
    if max_steps is not None:
        check_int("max_steps", max_steps, low=1)
    n_actions = int(env.action_space.n)
    calls_before = getattr(evaluate, "model_calls", 0)
    obs, _ = env.reset(seed=seed)
    start = time.perf_counter()
    total, steps, search_calls, model_steps, done = 0.0, 0, 0, 0, False
    while not done and (max_steps is None or steps < max_steps):
        steps += 1
        result = batched_search(step_fn, np.asarray(obs, dtype=np.float64), evaluate, n_actions=n_actions,
                                check_model=steps == 1, **search)
        search_calls += result.model_calls
        model_steps += result.simulated_steps
        obs, reward, terminated, truncated, _ = env.step(result.action)
        total += float(reward)
        done = terminated or truncated
    evaluator_calls = getattr(evaluate, "model_calls", 0) - calls_before
    return SearchEpisode(total, steps, search_calls + evaluator_calls, model_steps,
                         time.perf_counter() - start)
