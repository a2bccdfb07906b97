"""The one compiled UCT loop every tree search on a step-function model runs.

mcts.mcts_search (the maze and CartPole simulators), mcts.rollout_planning and
Dyna-MCTS (dyna_mcts, the agent's own tabular model) all call `uct_simulations`
here. It works on three small typed records, so a reader sees what goes in:

    Tree              the search tree in flat arrays (node 0 the root); states (N, D) float64
    simulators.CompiledModel  the model: CartPole's physics or a table (maze, learned model)
    LeafEvaluation    how a new leaf is judged: a random rollout, Q at the leaf, both, or nothing
    SearchConfig      c, gamma, normalise

The plain-Python reference of the same algorithm, to read top to bottom, is
mcts.simulate (through search_reference.uct_search); tests check the two agree draw for draw.
Random numbers come from numba's generator (numba_tools.seed_numba).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from mbrl_helpers.core.compiled import bounds_checked_from_python, checked
from mbrl_helpers.core.numba_tools import random_index, row_max
from mbrl_helpers.core.validation import check_int
from mbrl_helpers.worlds.simulators import (
    CARTPOLE_KIND,
    CARTPOLE_STATE_DIM,
    TABLE_KIND,
    CompiledModel,
    model_step,
)


# -- the records -----------------------------------------------------------------------------
class Tree(NamedTuple):
    """A search tree in flat arrays; node 0 is the root, n_nodes[0] nodes are in use.

    states:    (N, *state_shape) the model state of each node (root: the real state);
               the compiled search takes (N, D) float64.
    parent:    (N,) int64, the parent node (-1 for the root).
    action:    (N,) int64, the action that led from the parent (-1 for the root).
    children:  (N, A) int64, child node per action, -1 where not expanded yet.
    visits:    (N,) int64, simulations that passed through the node.
    value_sum: (N,) float64, sum of the discounted returns sampled from the node's state on.
    reward:    (N,) float64, reward of the transition into the node (0 for the root).
    terminal:  (N,) bool, True where the transition into the node ended the episode.
    n_nodes:   (1,) int64, nodes in use (a one-element array so compiled code can grow it).
    """

    states: np.ndarray
    parent: np.ndarray
    action: np.ndarray
    children: np.ndarray
    visits: np.ndarray
    value_sum: np.ndarray
    reward: np.ndarray
    terminal: np.ndarray
    n_nodes: np.ndarray

    @property
    def size(self) -> int:
        return int(self.n_nodes[0])

    def q_values(self, node: int, gamma: float) -> np.ndarray:
        """(A,) Q(s, a) = r + gamma * mean return of each child of node; NaN where unvisited."""
        kids = self.children[node]
        q = np.full(kids.shape[0], np.nan)
        seen = kids >= 0
        seen[seen] = self.visits[kids[seen]] > 0
        k = kids[seen]
        q[seen] = self.reward[k] + gamma * self.value_sum[k] / self.visits[k]
        return q

    def depth_of(self) -> np.ndarray:
        """(n_nodes,) int64 depth of every node in use (root 0)."""
        depth = np.zeros(self.size, dtype=np.int64)
        for node in range(1, self.size):  # parents are always created before children
            depth[node] = depth[self.parent[node]] + 1
        return depth


def new_tree(root_state: np.ndarray, n_actions: int, capacity: int) -> Tree:
    """An empty tree with room for `capacity` nodes; only the root, not yet visited."""
    root_state = np.asarray(root_state)
    tree = Tree(
        states=np.zeros((capacity, *root_state.shape), dtype=root_state.dtype),
        parent=np.full(capacity, -1, dtype=np.int64),
        action=np.full(capacity, -1, dtype=np.int64),
        children=np.full((capacity, n_actions), -1, dtype=np.int64),
        visits=np.zeros(capacity, dtype=np.int64),
        value_sum=np.zeros(capacity),
        reward=np.zeros(capacity),
        terminal=np.zeros(capacity, dtype=np.bool_),
        n_nodes=np.ones(1, dtype=np.int64),
    )
    tree.states[0] = root_state
    return tree


class LeafEvaluation(NamedTuple):
    """How the search values a new, non-terminal leaf.

    rollout_depth: uniformly random model steps from the leaf (0: none), stopping at a
        terminal transition; their discounted return is the value.
    bootstrap: then add gamma^k max_a q[s_k, a] at the state s_k where the rollout stopped
        (table models only: s_k is a cell index).
    q: (n_states, A) float64 action values for bootstrap; a (1, 1) dummy otherwise.

    Random rollouts (UCT): rollout(depth). Q at the leaf (Dyna-MCTS): q_at_leaf(q).
    Nothing (value 0 at every leaf): rollout_depth 0, bootstrap False.
    """

    rollout_depth: int
    bootstrap: bool
    q: np.ndarray


def rollout(depth: int) -> LeafEvaluation:
    """Leaves valued by one random rollout of `depth` model steps (classic UCT)."""
    return LeafEvaluation(int(depth), False, np.zeros((1, 1)))


def q_at_leaf(q: np.ndarray, rollout_depth: int = 0) -> LeafEvaluation:
    """Leaves valued by max_a q[leaf, a], after `rollout_depth` random steps if > 0."""
    return LeafEvaluation(int(rollout_depth), True, q)


class SearchConfig(NamedTuple):
    """c: UCB1 exploration constant (>= 0); gamma: discount in [0, 1]; normalise: min-max
    normalise Q over the tree before UCB1 (as MuZero and mctx do)."""

    c: float
    gamma: float
    normalise: bool


# -- the pieces --------------------------------------------------------------------------------
@njit(cache=True)
def ucb1_score(q: float, parent_visits: int, child_visits: int, c: float) -> float:
    """UCB1 (Auer et al. 2002) as used by UCT: q + c * sqrt(ln N / n).

    q: the child's action value, normalised to [0, 1]; parent_visits N >= 1;
    child_visits n >= 0 (an unvisited child scores +inf: try everything once);
    c >= 0 the exploration constant (sqrt(2) in UCB1's regret bound).
    """
    if child_visits == 0:
        return math.inf
    return q + c * math.sqrt(math.log(parent_visits) / child_visits)


@njit(cache=True, inline="always")
def ucb1_from_log(q: float, log_parent_visits: float, child_visits: int, c: float) -> float:
    """ucb1_score with ln N given (the search computes it once per node, not per child)."""
    if child_visits == 0:
        return math.inf
    return q + c * math.sqrt(log_parent_visits / child_visits)


@njit(cache=True)
def normalised(q: float, q_min: float, q_max: float) -> float:
    """Min-max normalisation of q to [0, 1] over the values seen in the tree (0.5 if all equal)."""
    if q_max > q_min:
        return (q - q_min) / (q_max - q_min)
    return 0.5


@njit(cache=True, inline="always")  # inlined: no call (and no reference counting) per leaf
def table_rollout(model: CompiledModel, leaf: LeafEvaluation, s: int, gamma: float,
                  steps: int) -> tuple[float, int]:
    """evaluate_leaf on a table model, stepping cell indices (no state vectors to copy)."""
    ret, discount = 0.0, 1.0
    for t in range(steps):
        a = random_index(model.n_actions)
        s_next = model.next_state[s, a]
        if s_next < 0:                          # an unknown pair: stay, reward 0
            r, done = 0.0, model.unseen_terminal
        else:
            r, done = model.reward[s, a], model.terminated[s, a]
            s = s_next
        ret += discount * r
        discount *= gamma
        if done:
            return ret, t + 1
    if leaf.bootstrap:
        ret += discount * row_max(leaf.q[s])
    return ret, steps


@njit(cache=True, inline="always")  # inlined: no call (and no reference counting) per leaf
def evaluate_leaf(model: CompiledModel, leaf: LeafEvaluation, states: np.ndarray, node: int,
                  gamma: float, calls_left: int, buf_a: np.ndarray,
                  buf_b: np.ndarray) -> tuple[float, int]:
    """The value of the non-terminal leaf states[node] (states (N, D)): up to
    leaf.rollout_depth random steps (never more than calls_left), then gamma^k max_a Q if
    leaf.bootstrap. buf_a, buf_b: (D,) work space. Returns (value, model steps used)."""
    steps = min(leaf.rollout_depth, calls_left)
    if model.kind == TABLE_KIND:
        return table_rollout(model, leaf, int(states[node, 0]), gamma, steps)
    buf_a[:] = states[node]
    ret, discount = 0.0, 1.0
    for t in range(steps):
        r, done = model_step(model, buf_a, random_index(model.n_actions), buf_b)
        buf_a[:] = buf_b
        ret += discount * r
        discount *= gamma
        if done:
            return ret, t + 1
    return ret, steps                           # (bootstrap needs a table: check_leaf)


@njit(cache=True, inline="always")
def table_step(model: CompiledModel, states: np.ndarray, node: int, action: int,
               child: int) -> tuple[float, bool]:
    """simulators.model_step for a table model, from states[node, 0] into states[child, 0]."""
    s = int(states[node, 0])
    s_next = model.next_state[s, action]
    if s_next < 0:
        states[child, 0] = states[node, 0]
        return 0.0, model.unseen_terminal
    states[child, 0] = s_next
    return model.reward[s, action], model.terminated[s, action]


@njit(cache=True)
def uct_simulations(model: CompiledModel, tree: Tree, leaf: LeafEvaluation, config: SearchConfig,  # noqa: C901 - one compiled loop: a call per step in it would cost speed
                    max_simulations: int, max_calls: int, q_min: float,
                    q_max: float) -> tuple[int, float, float]:
    """UCT simulations on tree (states (N, D) float64) until max_simulations are run or
    max_calls model steps are spent, whichever comes first.

    Each simulation: selection by UCB1 (min-max normalised Q if config.normalise) through
    fully expanded nodes; expansion of one untried action drawn at random (one model step);
    evaluation of the new node (`leaf`; 0 beyond a terminal transition); backup of the
    discounted return along the path. A simulation that ends on a terminal node already in
    the tree costs no model step. The tree must have room for max_simulations more nodes.
    q_min, q_max: the running Q bounds (inf, -inf for a fresh tree).
    Returns (model steps used, q_min, q_max), the bounds to pass on when a search is sliced.
    """
    states, children, visits, value_sum = tree.states, tree.children, tree.visits, tree.value_sum
    reward, terminal = tree.reward, tree.terminal
    n_actions = children.shape[1]
    gamma = config.gamma
    if model.kind == TABLE_KIND:              # (a table's leaves need no work space)
        buf_a = buf_b = states[0]
    else:
        buf_a, buf_b = np.empty(states.shape[1]), np.empty(states.shape[1])
    calls, sims, n_nodes = 0, 0, tree.n_nodes[0]
    # UCB1 sees Q min-max normalised over [lo, hi]: the tree's bounds, or [0, 1] (raw Q as it is)
    lo, hi = (q_min, q_max) if config.normalise else (0.0, 1.0)
    while sims < max_simulations and calls < max_calls:
        sims += 1
        node, value = 0, 0.0
        while not terminal[node]:
            n_untried = 0
            for a in range(n_actions):
                if children[node, a] < 0:
                    n_untried += 1
            if n_untried > 0:                                          # expansion
                pick = random_index(n_untried)
                a = 0
                while children[node, a] >= 0 or pick > 0:
                    if children[node, a] < 0:
                        pick -= 1
                    a += 1
                child = n_nodes
                n_nodes += 1
                if model.kind == TABLE_KIND:        # a table: read it in place (faster)
                    r, done = table_step(model, states, node, a, child)
                else:
                    r, done = model_step(model, states[node], a, states[child])
                calls += 1
                reward[child], terminal[child] = r, done
                tree.parent[child], tree.action[child] = node, a
                visits[child], value_sum[child] = 0, 0.0
                children[child, :] = -1
                children[node, a] = child
                node = child
                if not done:                                           # evaluation
                    value, used = evaluate_leaf(model, leaf, states, node, gamma,
                                                max_calls - calls, buf_a, buf_b)
                    calls += used
                break
            best_child, best_score = -1, -math.inf                     # selection
            log_n = math.log(visits[node])    # UCB1's ln N, once per node (a node seen >= 1 time)
            for a in range(n_actions):
                kid = children[node, a]
                q = normalised(reward[kid] + gamma * value_sum[kid] / visits[kid], lo, hi)
                score = ucb1_from_log(q, log_n, visits[kid], config.c)
                if score > best_score:
                    best_child, best_score = kid, score
            node = best_child
        g = value                                   # backup: from the leaf up its parents
        while True:
            visits[node] += 1
            value_sum[node] += g
            if node == 0:
                break
            q = reward[node] + gamma * value_sum[node] / visits[node]
            q_min, q_max = min(q_min, q), max(q_max, q)
            g = reward[node] + gamma * g
            node = tree.parent[node]
        if config.normalise:
            lo, hi = q_min, q_max
    tree.n_nodes[0] = n_nodes
    return calls, q_min, q_max


@njit(cache=True)
def flat_rollouts(model: CompiledModel, root: np.ndarray, leaf: LeafEvaluation, gamma: float,
                  first_simulation: int, n_simulations: int, counts: np.ndarray,
                  sums: np.ndarray) -> int:
    """Flat Monte Carlo (no tree): simulation i tries root action i mod A, then the leaf
    evaluation (a random rollout); counts (A,) and sums (A,) of the returns grow in place.
    Returns the model steps used."""
    n_actions = counts.shape[0]
    buf_a, buf_b, first = np.empty(root.shape[0]), np.empty(root.shape[0]), np.empty((1, root.shape[0]))
    total_steps = 0
    for i in range(first_simulation, first_simulation + n_simulations):
        a = i % n_actions
        r, done = model_step(model, root, a, first[0])
        total_steps += 1
        g = r
        if not done:
            value, steps = evaluate_leaf(model, leaf, first, 0, gamma, 1 << 62, buf_a, buf_b)
            g = r + gamma * value
            total_steps += steps
        counts[a] += 1
        sums[a] += g
    return total_steps


# -- checks of calls from Python (compiled callers skip them) ---------------------------------
def check_model(model: object) -> None:
    """Raise unless model is a CompiledModel whose table entries are valid indices."""
    if not isinstance(model, CompiledModel):
        raise TypeError(f"model must be a simulators.CompiledModel, got {type(model).__name__}")
    if model.kind not in (TABLE_KIND, CARTPOLE_KIND):
        raise ValueError(f"model.kind must be TABLE_KIND or CARTPOLE_KIND, got {model.kind}")
    if model.kind == TABLE_KIND:
        shape = model.next_state.shape
        if len(shape) != 2 or model.reward.shape != shape or model.terminated.shape != shape:
            raise ValueError("model tables next_state, reward, terminated must share a 2-D shape")
        if shape[1] != model.n_actions:
            raise ValueError(f"model.n_actions is {model.n_actions}, its tables have {shape[1]}")
        if shape[0] and (model.next_state.min() < -1 or model.next_state.max() >= shape[0]):
            raise ValueError(f"model.next_state must hold states 0..{shape[0] - 1} (or -1)")


def check_states(model: CompiledModel, states: np.ndarray, name: str) -> None:
    """Raise unless states (..., D) float64 are states model can step."""
    if states.dtype != np.float64:
        raise TypeError(f"{name} must be float64, got {states.dtype}")
    if model.kind == CARTPOLE_KIND:
        if states.shape[-1] != CARTPOLE_STATE_DIM:
            raise ValueError(f"{name} must be CartPole states (..., 4), got shape {states.shape}")
        return
    cells = states.reshape(-1)
    if states.shape[-1] != 1 or not np.all((cells >= 0) & (cells < model.next_state.shape[0])):
        raise ValueError(f"{name} must be cell indices 0..{model.next_state.shape[0] - 1} in "
                         f"an (..., 1) array, got shape {states.shape}")


def check_leaf(model: CompiledModel, leaf: object) -> None:
    if not isinstance(leaf, LeafEvaluation):
        raise TypeError(f"leaf must be a LeafEvaluation, got {type(leaf).__name__}")
    check_int("leaf.rollout_depth", leaf.rollout_depth, low=0)
    if leaf.bootstrap and (model.kind != TABLE_KIND or leaf.q.ndim != 2
                           or leaf.q.shape != model.next_state.shape):
        raise ValueError("leaf.bootstrap needs a table model and q of its tables' shape")


def _check_uct_simulations(model, tree, leaf, config, max_simulations, max_calls, q_min, q_max):
    check_model(model)
    check_leaf(model, leaf)
    if not isinstance(tree, Tree):
        raise TypeError(f"tree must be a search_core.Tree, got {type(tree).__name__}")
    if not isinstance(config, SearchConfig):
        raise TypeError(f"config must be a SearchConfig, got {type(config).__name__}")
    check_int("max_simulations", max_simulations, low=0)
    check_int("max_calls", max_calls, low=0)
    n = tree.states.shape[0]
    if tree.states.ndim != 2 or tree.children.shape != (n, model.n_actions) or any(
            a.shape != (n,) for a in (tree.parent, tree.action, tree.visits, tree.value_sum,
                                      tree.reward, tree.terminal)):
        raise ValueError(f"tree arrays must hold the same N nodes, states (N, D), children "
                         f"(N, {model.n_actions})")
    used = int(tree.n_nodes[0])
    if not 1 <= used <= n - max_simulations:
        raise ValueError(f"tree has room for {n - used} more nodes, max_simulations is "
                         f"{max_simulations}")
    check_states(model, tree.states[:used], "tree.states")
    kids = tree.children[:used]
    if kids.min() < -1 or kids.max() >= used:
        raise ValueError("tree.children must hold node indices in use (or -1)")
    parents = tree.parent[1:used]
    if tree.parent[0] != -1 or np.any((parents < 0) | (parents >= np.arange(1, used))):
        raise ValueError("tree.parent must be -1 at the root and name an earlier node elsewhere "
                         "(the backup walks up the parents)")


def _check_flat_rollouts(model, root, leaf, gamma, first_simulation, n_simulations, counts, sums):
    check_model(model)
    check_leaf(model, leaf)
    check_states(model, np.asarray(root)[None], "root")
    check_int("first_simulation", first_simulation, low=0)
    check_int("n_simulations", n_simulations, low=0)
    if counts.shape != (model.n_actions,) or sums.shape != (model.n_actions,):
        raise ValueError(f"counts and sums must have shape ({model.n_actions},)")


# Calls from Python are checked first (an index out of range: ValueError, not a crash);
# compiled callers keep the kernels as they are.
bounds_checked_from_python(evaluate_leaf)
checked(_check_uct_simulations)(uct_simulations)
checked(_check_flat_rollouts)(flat_rollouts)
