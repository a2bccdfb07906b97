"""Plain-Python references of the course's tree searches, each readable top to bottom.

    uct_search        UCT from a root: n simulations of mcts.simulate (select by UCB1, expand,
                      evaluate by a rollout, back up: the plain path mcts_search runs), then the tree
    puct_select       the PUCT choice at one node: score every action, take the best
    puct_simulation   one single-leaf PUCT simulation (AlphaZero): select by PUCT, expand,
                      evaluate by the evaluator, back up
    puct_search       PUCT from a root: evaluate the root, n simulations, then the tree

They follow the book's pseudocode step by step and are slow: their job is to be read,
and to pin the fast searches down. Tests check that search_core.uct_simulations (what
mcts_search and Dyna-MCTS run) agrees with uct_search draw for draw, and
puct.batched_search with batch_size=1 with puct_search.

The model is a step function (mbrl_helpers.worlds.simulators): step(states, actions) ->
(next_states, rewards, terminated), batched; here always called with a batch of one.
Random draws come from numba's generator (numba_tools.random_index), as in the
compiled search, so the same seed gives the same tree.
"""

from __future__ import annotations

import math

import numpy as np

from mbrl_helpers.core.numba_tools import seed_numba
from mbrl_helpers.planners.mcts import backup, expand, simulate
from mbrl_helpers.planners.puct import Evaluator, puct_score
from mbrl_helpers.planners.search_core import Tree, new_tree, normalised
from mbrl_helpers.worlds.simulators import StepFn


# -- UCT (Kocsis & Szepesvari 2006; Sutton & Barto 8.11) -----------------------------------
def uct_search(step_fn: StepFn, root_state: np.ndarray | int, *, n_actions: int,  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
               n_simulations: int, depth: int, c: float = 1.0, gamma: float = 1.0,
               normalise: bool = True, seed: int | None = None) -> tuple[Tree, int]:
    """UCT from root_state: n_simulations simulations (seed: reseed numba's generator first).

    Returns the tree (act by the root's most visited child) and the model steps used.
    The same arguments give mcts.mcts_search's tree, node for node.
    """
    tree = new_tree(np.asarray(root_state), n_actions, n_simulations + 1)
    if seed is not None:
        seed_numba(seed)
    bounds = [math.inf, -math.inf] if normalise else None
    steps = sum(simulate(step_fn, tree, depth, c, gamma, bounds) for _ in range(n_simulations))
    return tree, steps


# -- single-leaf PUCT (AlphaZero, Silver et al. 2018) --------------------------------------
def puct_select(tree: Tree, node: int, prior: np.ndarray, c: float, gamma: float,
                bounds: list[float]) -> int:
    """PUCT's choice at node: the action (an int in [0, A)) with the highest PUCT score.

    prior (N, A): the evaluator's prior of every node; bounds [q_min, q_max]: the lowest and
    highest values seen in the tree, for the min-max normalisation. A visited child's value is
    r + gamma * (its mean return); an untried or unvisited action is valued at the node's own
    mean return (first-play urgency = parent value), so its score rests on its prior.
    Ties go to the lowest action.
    """
    parent_q = tree.value_sum[node] / max(tree.visits[node], 1)
    scores = []
    for a in range(tree.children.shape[1]):
        child = tree.children[node, a]
        n = tree.visits[child] if child >= 0 else 0
        q = tree.reward[child] + gamma * tree.value_sum[child] / n if n > 0 else parent_q
        q = normalised(q, bounds[0], bounds[1])
        scores.append(puct_score(q, prior[node, a], tree.visits[node], n, c))
    return int(np.argmax(scores))


def puct_simulation(step_fn: StepFn, evaluate: Evaluator, tree: Tree, prior: np.ndarray,
                    c: float, gamma: float, bounds: list[float]) -> None:
    """One PUCT simulation on tree; prior (N, A) holds the evaluator's prior of every node.

    Q is min-max normalised over the tree (bounds, widened in place); an unvisited
    action is valued at its parent's mean return (first-play urgency = parent value).
    """
    # 1. Selection: follow the highest PUCT score (ties: the lowest action) until the chosen
    #    action is untried, or the node is terminal.
    node, path, action = 0, [0], -1
    while not tree.terminal[node]:
        action = puct_select(tree, node, prior, c, gamma, bounds)
        if tree.children[node, action] < 0:
            break
        node = int(tree.children[node, action])
        path.append(node)
        action = -1

    # 2. Expansion (one model step) and 3. evaluation (the evaluator's prior and value;
    #    nothing follows a terminal transition).
    value = 0.0
    if action >= 0:
        node = expand(step_fn, tree, node, action)
        path.append(node)
        if not tree.terminal[node]:
            priors, values = evaluate(np.array(tree.states[node][None], dtype=np.float64))
            prior[node], value = priors[0], float(values[0])

    # 4. Backup, as in UCT.
    backup(tree, path, value, gamma, bounds)


def puct_search(step_fn: StepFn, root_state: np.ndarray, evaluate: Evaluator, *, n_actions: int,
                n_simulations: int, c: float = 1.25, gamma: float = 0.99) -> tuple[Tree, np.ndarray]:
    """PUCT from root_state: evaluate the root (its value counts as one visit), then
    n_simulations single-leaf simulations. Returns the tree and the priors (N, A).
    The same arguments give puct.batched_search(batch_size=1)'s tree, node for node.
    """
    state = np.asarray(root_state, dtype=np.float64)
    tree = new_tree(state, n_actions, n_simulations + 1)
    prior = np.zeros((n_simulations + 1, n_actions))
    priors, values = evaluate(state[None].copy())
    prior[0], tree.visits[0], tree.value_sum[0] = priors[0], 1, values[0]
    bounds = [math.inf, -math.inf]
    for _ in range(n_simulations):
        puct_simulation(step_fn, evaluate, tree, prior, c, gamma, bounds)
    return tree, prior
