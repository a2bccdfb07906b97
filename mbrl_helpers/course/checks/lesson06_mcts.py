"""Self-checks for notebook 06, Monte Carlo Tree Search: the UCB1 score, the backup, one UCT simulation."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, number, report

# == notebook 06: Monte Carlo Tree Search (UCB1 score, backup, one whole simulation) =================
# The reference functions live in mbrl_helpers.planners.mcts.

def _ucb1_wrong_versions(q: float, big_n: int, n: int, c: float) -> dict[str, float]:
    """Common mistakes, each named by the hint it earns (for a child visited n >= 1 times)."""
    return {
        "The exploration bonus is a square root: you left it out.":
            q + c * math.log(big_n) / n,
        "N and n are swapped: the log is of the parent's visits N, divided by the child's n.":
            q + c * math.sqrt(math.log(n) / big_n),
        "Take the natural logarithm of N (math.log), not the base-10 one.":
            q + c * math.sqrt(math.log10(big_n) / n),
        "The bonus grows with the logarithm of N, not with N itself.":
            q + c * math.sqrt(big_n / n),
        "The bonus is added, not subtracted: rarely tried children must look better.":
            q - c * math.sqrt(math.log(big_n) / n),
        "This course writes UCB1 without the 2 inside the square root (it is folded into c, "
        "c = sqrt(2) in Auer et al.'s bound).": q + c * math.sqrt(2 * math.log(big_n) / n),
    }


_UNTRIED_FIRST = ("A child never tried (child_visits = 0) must be tried before any other: give it a "
                  "score no tried child can reach, without dividing by its zero visits.")


@never_raises
def check_ucb1_score(student_fn: Callable) -> bool:
    """Check a UCB1 score fn(q, parent_visits, child_visits, c) against mcts.ucb1_score.

    q in [0, 1] (normalised); an unvisited child (child_visits = 0) must score +inf.
    """
    from mbrl_helpers.planners import mcts

    name = "ucb1_score"
    rng = np.random.default_rng(5)
    cases = [(0.5, 10, 0, 1.0), (0.25, 1, 1, 1.0), (0.0, 50, 5, 0.0)]
    for _ in range(40):
        big_n = int(rng.integers(2, 500))
        cases.append((float(np.round(rng.random(), 3)), big_n, int(rng.integers(1, big_n + 1)),
                      float(rng.choice([0.5, 1.0, 1.41, 2.0]))))
    for q, big_n, n, c in cases:
        expected = mcts.ucb1_score(q, big_n, n, c)
        got, error = call(student_fn, q, big_n, n, c)
        case = f"Input: q={q}, parent_visits N={big_n}, child_visits n={n}, c={c}."
        got_value, error = number(got, error)
        if np.isinf(expected):
            if error or not (np.isinf(got_value) and got_value > 0):
                said = error or f"Expected +inf, got {got_value!r}."
                return report(False, name, f"{case}\n{said}\n{_UNTRIED_FIRST}")
            continue
        if error:
            return report(False, name, f"{case}\n{error}")
        if not np.isclose(got_value, expected, rtol=1e-9, atol=1e-12):
            hint = f"Expected {expected:.6f}, got {got_value:.6f}."
            for why, wrong in _ucb1_wrong_versions(q, big_n, n, c).items():
                if np.isclose(got_value, wrong, rtol=1e-9, atol=1e-12):
                    hint += " " + why
                    break
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)


_OFF_BY_ONE = ("Your rewards are one place off: the return of a path node starts with the reward of "
               "the step out of it, into the next node on the path")


def _backup_wrong_versions(rewards: np.ndarray, leaf_value: float, gamma: float) -> dict[str, np.ndarray]:
    """Common mistakes in the returns along a path, each named by the hint it earns.

    Compared on the k returns of the inner nodes (G_0 .. G_{k-1}); the leaf's own entry is left
    out, so a version that also changed it is still recognised.
    """
    from mbrl_helpers.planners import mcts

    k = len(rewards)
    expected = mcts.path_returns(rewards, leaf_value, gamma)
    steps_to_leaf = np.arange(k, 0, -1)                 # G_i holds gamma^(k - i) * leaf_value
    no_reward_discount = np.array([gamma * (rewards[i:] @ gamma ** np.arange(k - i)) for i in range(k)])
    return {
        "You did not discount: every reward after the first, and the leaf value, counts less by "
        "a factor gamma per step.": mcts.path_returns(rewards, leaf_value, 1.0)[:-1],
        "The order is reversed: the root's return comes first, the leaf's last.": expected[::-1][:-1],
        "The reward is received on the way into the next node, so it is not discounted; only "
        "what comes after it is.": no_reward_discount + gamma ** steps_to_leaf * leaf_value,
        _OFF_BY_ONE + " (you used the reward of the step into it)":
            mcts.path_returns(np.roll(rewards, 1), leaf_value, gamma)[:-1],
        _OFF_BY_ONE + " (you used the reward of the step after it)":
            mcts.path_returns(np.roll(rewards, -1), leaf_value, gamma)[:-1],
        "The leaf value is discounted once too often: seen from the node just above the leaf it is "
        "one step away.": (expected + (gamma - 1) * gamma ** np.append(steps_to_leaf, 0) * leaf_value)[:-1],
        "The leaf value is discounted once too few: seen from the node just above the leaf it is "
        "one step away, so it counts gamma times.":
            (expected + (1 / gamma - 1) * gamma ** np.append(steps_to_leaf, 0) * leaf_value)[:-1],
    }


@never_raises
def check_backup(student_fn: Callable) -> bool:
    """Check fn(rewards, leaf_value, gamma) -> (k + 1,) returns along a path, root first.

    rewards: (k,) rewards of the transitions root -> ... -> leaf; the answer must
    equal mcts.path_returns: G_k = leaf_value, G_i = rewards[i] + gamma * G_{i+1}.
    """
    from mbrl_helpers.planners import mcts

    name = "path_returns"
    rng = np.random.default_rng(6)
    cases = [(np.array([1.0, 2.0, 4.0]), 3.0, 0.5), (np.array([]), 1.5, 0.9)]
    for _ in range(30):
        k = int(rng.integers(2, 6))
        cases.append((np.round(rng.normal(size=k), 2), float(np.round(rng.normal(), 2)),
                      float(rng.choice([0.5, 0.9, 0.95]))))
    for rewards, leaf_value, gamma in cases:
        expected = mcts.path_returns(rewards, leaf_value, gamma)
        got, error = call(student_fn, rewards.copy(), leaf_value, gamma)
        case = f"Input: rewards={rewards.tolist()}, leaf_value={leaf_value}, gamma={gamma}."
        if error:
            return report(False, name, f"{case}\n{error}")
        got_arr = np.asarray(got, dtype=float) if got is not None else np.array([])
        if got_arr.shape != expected.shape:
            return report(False, name, f"{case}\nExpected {len(expected)} returns (one per "
                           f"node: the k = {len(rewards)} rewards plus the leaf), got shape "
                           f"{got_arr.shape}.")
        if not np.allclose(got_arr, expected):
            hint = f"Expected {np.round(expected, 4).tolist()}, got {np.round(got_arr, 4).tolist()}."
            for why, wrong in _backup_wrong_versions(rewards, leaf_value, gamma).items():
                if len(rewards) and np.allclose(got_arr[:-1], wrong):
                    hint += " " + why
                    break
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)


# -- one whole UCT simulation ------------------------------------------------------------------------

SIMULATE_MISTAKES = {
    "first untried": "Pick the untried action at random (one draw of random_index over the untried "
                     "actions), not always the first: the check replays the package's random draws.",
    "rollout after terminal": "When the new node is terminal the episode has ended there: back up a "
                              "return of 0 at once, with no rollout after it.",
    "no backup at terminal": "When selection reaches a terminal node, still back up (nothing follows it, "
                             "so its return is 0): its visits, and its ancestors', must grow.",
    "leaf discounted": "The rollout's return is already the return from the new node: hand it to the "
                       "backup as it is (the backup does the discounting on the way up).",
    "leaf reward twice": "The new node's own reward is already in the tree, and the backup adds it: the "
                         "leaf value is the rollout's return alone.",
    "expansion step not counted": "Count the model step of the expansion too: the simulation used it "
                                  "plus the rollout's steps.",
}


def _simulate_with(mistake: str, step_fn: Callable, tree: object, depth: int, c: float, gamma: float,
                   bounds: list[float] | None) -> int:
    """mcts.simulate with one named mistake (SIMULATE_MISTAKES), to recognise it in an answer."""
    from mbrl_helpers.core.numba_tools import random_index
    from mbrl_helpers.planners import mcts

    node, path = 0, [0]
    while not tree.terminal[node]:
        untried = np.flatnonzero(tree.children[node] < 0)
        if untried.size:
            pick = untried[0] if mistake == "first untried" else untried[random_index(untried.size)]
            node = mcts.expand(step_fn, tree, node, int(pick))
            path.append(node)
            if tree.terminal[node] and mistake != "rollout after terminal":
                mcts.backup(tree, path, 0.0, gamma, bounds)
                return 1
            value, steps = mcts.rollout(step_fn, tree.states[node], depth, gamma, tree.children.shape[1])
            if mistake == "leaf discounted":
                value *= gamma
            elif mistake == "leaf reward twice":
                value += tree.reward[node]
            mcts.backup(tree, path, value, gamma, bounds)
            return steps if mistake == "expansion step not counted" else 1 + steps
        node = mcts.select_child(tree, node, c, gamma, bounds)
        path.append(node)
    if mistake != "no backup at terminal":
        mcts.backup(tree, path, 0.0, gamma, bounds)
    return 0


def _simulate_cases() -> list[tuple[str, Callable, object, int, int, int, float, float, bool, int]]:
    """(label, model, root, actions, simulations, depth, c, gamma, normalise, seed): small searches
    on CartPole (upright, and about to fall, so terminal nodes appear) and near the Dyna Maze's goal."""
    from mbrl_helpers.worlds import simulators as sim
    from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze

    maze = GridMaze(DYNA_MAZE_LAYOUT)
    maze_model = sim.maze_step_fn(maze)
    upright, falling = np.array([0.0, 0.0, 0.05, 0.0]), np.array([0.0, 0.5, 0.17, 0.8])
    return [
        ("CartPole, pole upright", sim.cartpole_step, upright, 2, 12, 3, 1.0, 1.0, True, 0),
        ("CartPole, pole about to fall", sim.cartpole_step, falling, 2, 25, 2, 1.0, 0.95, True, 1),
        ("Dyna Maze, two steps from the goal", maze_model, np.int64(maze.to_state(2, 8)), 4, 30, 3, 0.5,
         0.9, True, 2),
        ("CartPole, pole about to fall, raw Q", sim.cartpole_step, falling, 2, 20, 4, 2.0, 0.9, False, 3),
    ]


def _run_searches(simulate_fn: Callable, case: tuple, use_call: bool) -> tuple[object, list, str]:
    """Run the case's simulations with simulate_fn on a fresh tree, seeded as the package seeds."""
    from mbrl_helpers.core.numba_tools import seed_numba
    from mbrl_helpers.planners.search_core import new_tree

    _, model, root, n_actions, n_sims, depth, c, gamma, normalise, seed = case
    tree = new_tree(np.asarray(root), n_actions, n_sims + 1)
    bounds = [math.inf, -math.inf] if normalise else None
    seed_numba(seed)
    steps = []
    for _ in range(n_sims):
        if use_call:
            got, error = call(simulate_fn, model, tree, depth, c, gamma, bounds)
            if error:
                return tree, steps, error
        else:
            got = simulate_fn(model, tree, depth, c, gamma, bounds)
        steps.append(got)
        if tree.size > n_sims + 1 or tree.size > len(steps) + 1:
            return tree, steps, ("A simulation must add at most one node to the tree (the one it "
                                 "expands); yours added more.")
    return tree, steps, ""


def _root_visits(tree: object) -> list[int]:
    kids = tree.children[0]
    return tree.visits[kids[kids >= 0]].tolist()


def _same_search(a: object, steps_a: list, b: object, steps_b: list) -> bool:
    n = a.size
    if n != b.size:
        return False
    return (np.array_equal(a.children[:n], b.children[:n]) and np.array_equal(a.visits[:n], b.visits[:n])
            and np.allclose(a.value_sum[:n], b.value_sum[:n])
            and [int(x) if x is not None else None for x in steps_a] == [int(x) for x in steps_b])


@never_raises
def check_simulate(student_fn: Callable) -> bool:
    """Check one UCT simulation fn(step_fn, tree, depth, c, gamma, bounds) -> model steps used,
    against mcts.simulate, draw for draw: both are seeded alike and run the same small searches
    (CartPole and the Dyna Maze), and the trees (children, visits, value sums) and the steps
    returned must agree after every case.
    """
    from mbrl_helpers.planners import mcts

    name = "simulate"
    for case in _simulate_cases():
        label, n_sims, depth, c, gamma, normalise = case[0], case[4], case[5], case[6], case[7], case[8]
        expected_tree, expected_steps, _ = _run_searches(mcts.simulate, case, use_call=False)
        got_tree, got_steps, error = _run_searches(student_fn, case, use_call=True)
        where = (f"Case: {label}, {n_sims} simulations, rollout depth {depth}, c = {c}, gamma = {gamma}, "
                 f"{'normalised' if normalise else 'raw'} Q.")
        if error:
            return report(False, name, f"{where}\n{error}")
        if _same_search(got_tree, got_steps, expected_tree, expected_steps):
            continue
        hint = (f"The trees differ: {got_tree.size} nodes against the reference's {expected_tree.size}; "
                f"visits of the root's children {_root_visits(got_tree)} against "
                f"{_root_visits(expected_tree)}; "
                f"model steps per simulation {got_steps[:8]}... against {expected_steps[:8]}...")
        if _same_search(got_tree, expected_steps, expected_tree, expected_steps):
            hint = f"Same tree, but the model steps returned differ: {got_steps} against {expected_steps}."
        elif got_tree.size == expected_tree.size and np.array_equal(got_tree.visits[:got_tree.size],
                                                                    expected_tree.visits[:got_tree.size]):
            hint = ("Same nodes and visit counts, but different sums of returns (value_sum): look at the "
                    "value handed to the backup.")
        for mistake, why in SIMULATE_MISTAKES.items():
            wrong_tree, wrong_steps, _ = _run_searches(
                lambda *args, mistake=mistake: _simulate_with(mistake, *args), case, use_call=False)
            if _same_search(got_tree, got_steps, wrong_tree, wrong_steps):
                hint += " " + why
                break
        return report(False, name, f"{where}\n{hint}")
    return report(True, name)
