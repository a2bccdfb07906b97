"""Self-checks for notebook 06, Monte Carlo Tree Search: the UCB1 score and the backup."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, number, report

# == notebook 06: Monte Carlo Tree Search (UCB1 score, backup) =====================================
# The reference functions live in mbrl_helpers.planners.mcts.

def _ucb1_wrong_versions(q: float, big_n: int, n: int, c: float) -> dict[str, float]:
    """Common mistakes, each named by the hint it earns."""
    return {
        "The exploration bonus needs the square root: c * sqrt(ln N / n).":
            q + c * math.log(big_n) / n,
        "N and n are swapped: the log is of the parent's visits N, divided by the child's n.":
            q + c * math.sqrt(math.log(n) / big_n),
        "Take the natural log of N: c * sqrt(ln N / n), not c * sqrt(N / n).":
            q + c * math.sqrt(big_n / n),
        "The bonus is added, not subtracted: rarely tried children must look better.":
            q - c * math.sqrt(math.log(big_n) / n),
        "This course writes UCB1 as q + c * sqrt(ln N / n), without the 2 inside the root "
        "(it is folded into c = sqrt(2)).": q + c * math.sqrt(2 * math.log(big_n) / n),
    }


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
        if error:
            return report(False, name, f"{case}\n{error}")
        if np.isinf(expected):
            if not (np.isinf(got_value) and got_value > 0):
                return report(False, name, f"{case}\nExpected +inf (an unvisited child is "
                               f"always tried first), got {got_value!r}.")
            continue
        if not np.isclose(got_value, expected, rtol=1e-9, atol=1e-12):
            hint = f"Expected {expected:.6f}, got {got_value:.6f}."
            for why, wrong in _ucb1_wrong_versions(q, big_n, n, c).items():
                if np.isclose(got_value, wrong, rtol=1e-9, atol=1e-12):
                    hint += " " + why
                    break
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)


@never_raises
def check_backup(student_fn: Callable) -> bool:
    """Check fn(rewards, leaf_value, gamma) -> (k + 1,) returns along a path, root first.

    rewards: (k,) rewards of the transitions root -> ... -> leaf; the answer must
    equal mcts.path_returns: G_k = leaf_value, G_i = rewards[i] + gamma * G_{i+1}.
    """
    from mbrl_helpers.planners import mcts

    name = "path_returns"
    rng = np.random.default_rng(6)
    cases = [(np.array([1.0, 2.0]), 3.0, 0.5), (np.array([]), 1.5, 0.9)]
    for _ in range(30):
        k = int(rng.integers(1, 6))
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
            undiscounted = mcts.path_returns(rewards, leaf_value, 1.0)
            if gamma != 1 and np.allclose(got_arr, undiscounted):
                hint += " Discount on the way up: G_i = r_{i+1} + gamma * G_{i+1}."
            elif np.allclose(got_arr, expected[::-1]):
                hint += " The order is reversed: the root's return comes first, the leaf's last."
            elif np.allclose(got_arr[:-1], gamma * (rewards + got_arr[1:])):
                hint += " The reward is received now, so it is not discounted: r + gamma * G."
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)
