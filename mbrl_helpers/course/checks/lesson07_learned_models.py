"""Self-checks for notebook 07, planning with learned models.

The PUCT score, and search values as Q targets.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, number, report

# == notebook 07: planning with learned models (PUCT score, search values as Q targets) ============
# The reference functions live in mbrl_helpers.planners.puct and mbrl_helpers.agents.dyna_mcts.

def _puct_wrong_versions(q: float, prior: float, big_n: int, n: int, c: float) -> dict[str, float]:
    """Common mistakes, each named by the hint it earns."""
    return {
        "The prior multiplies the exploration bonus: c * P * sqrt(N) / (1 + n).":
            q + c * math.sqrt(big_n) / (1 + n),
        "Divide by 1 + n, not n: an unvisited child (n = 0) must get a finite bonus, scaled by its prior.":
            q + c * prior * math.sqrt(big_n) / max(n, 1e-300),
        "PUCT takes the square root of the parent's visits, not their log (that is UCB1).":
            q + c * prior * math.sqrt(math.log(max(big_n, 1))) / (1 + n),
        "Take the square root of N: c * P * sqrt(N) / (1 + n).":
            q + c * prior * big_n / (1 + n),
        "The bonus is added, not subtracted.":
            q - c * prior * math.sqrt(big_n) / (1 + n),
    }


@never_raises
def check_puct_score(student_fn: Callable) -> bool:
    """Check a PUCT score fn(q, prior, parent_visits, child_visits, c) against puct.puct_score."""
    from mbrl_helpers.planners import puct

    name = "puct_score"
    rng = np.random.default_rng(7)
    cases = [(0.5, 0.5, 10, 0, 1.25), (0.0, 1.0, 1, 0, 1.0), (0.8, 0.1, 100, 30, 2.0)]
    for _ in range(40):
        big_n = int(rng.integers(1, 500))
        cases.append((float(np.round(rng.random(), 3)), float(np.round(rng.random(), 3)), big_n,
                      int(rng.integers(0, big_n + 1)), float(rng.choice([0.5, 1.0, 1.25, 2.0]))))
    for q, prior, big_n, n, c in cases:
        expected = puct.puct_score(q, prior, big_n, n, c)
        got, error = call(student_fn, q, prior, big_n, n, c)
        case = f"Input: q={q}, prior P={prior}, parent_visits N={big_n}, child_visits n={n}, c={c}."
        got_value, error = number(got, error)
        if error:
            return report(False, name, f"{case}\n{error}")
        if not np.isclose(got_value, expected, rtol=1e-9, atol=1e-12):
            hint = f"Expected {expected:.6f}, got {got_value:.6f}."
            for why, wrong in _puct_wrong_versions(q, prior, big_n, n, c).items():
                if np.isclose(got_value, wrong, rtol=1e-9, atol=1e-12):
                    hint += " " + why
                    break
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)


def _search_targets_cases(seed: int = 8, n_cases: int = 30) -> list[tuple]:
    from mbrl_helpers.agents.dyna_mcts import SearchTargets

    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        q = np.round(rng.uniform(0, 1, size=(6, 4)), 3)
        values = np.round(rng.uniform(0, 1, size=4), 3)
        values[rng.random(4) < 0.25] = np.nan                  # not expanded by the search
        tried = rng.random(4) < 0.7
        targets = SearchTargets(values, rng.integers(0, 10, size=4), tried, 20, 21)
        cases.append((q, int(rng.integers(6)), targets, float(rng.choice([0.1, 0.5, 1.0]))))
    return cases


@never_raises
def check_search_targets_update(student_fn: Callable) -> bool:
    """Check fn(q, root, targets, alpha) -> None (updates q in place) against
    dyna_mcts.apply_search_targets: move Q(root, a) towards the search value for tried,
    expanded actions only."""
    from mbrl_helpers.agents import dyna_mcts

    name = "search_targets_update"
    for q, root, targets, alpha in _search_targets_cases():
        expected = q.copy()
        dyna_mcts.apply_search_targets(expected, root, targets, alpha)
        got = q.copy()
        _, error = call(student_fn, got, root, targets, alpha)
        case = (f"Input: root={root}, alpha={alpha}, Q[root]={q[root].tolist()}, search q_values="
                f"{targets.q_values.tolist()}, tried={targets.tried.tolist()}.")
        if error:
            return report(False, name, f"{case}\n{error}")
        if np.isnan(got).any():
            return report(False, name, f"{case}\nQ now holds NaN: skip the actions the search did not "
                           "expand (their search value is NaN).")
        if not np.allclose(got, expected):
            hint = (f"Expected Q[root] = {np.round(expected[root], 4).tolist()}, "
                    f"got {np.round(got[root], 4).tolist()}.")
            others = np.ones(len(q), dtype=bool)
            others[root] = False
            use = targets.tried & ~np.isnan(targets.q_values)
            if not np.allclose(got[others], q[others]):
                hint += " Only the root's row changes."
            elif np.allclose(got[root], q[root]):
                hint += " Q did not change: update q in place (q[root, a] += ...), do not return a copy."
            elif not np.allclose(got[root, ~use & ~np.isnan(targets.q_values)],
                                 q[root, ~use & ~np.isnan(targets.q_values)]):
                hint += " An untried action was updated: its search value rests on the model's guess."
            elif np.allclose(got[root, use], targets.q_values[use]):
                hint += " Move Q towards the target by a step alpha, not all the way."
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)
