"""Self-checks for notebook 07, planning with learned models.

The PUCT score, the PUCT choice at a node, and search values as Q targets.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, number, report

# == notebook 07: planning with learned models (PUCT score, search values as Q targets) ============
# The reference functions live in mbrl_helpers.planners.puct and mbrl_helpers.agents.dyna_mcts.

def _puct_wrong_versions(q: float, prior: float, big_n: int, n: int, c: float) -> dict[str, float]:
    """Common mistakes in the PUCT score, each named by the hint it earns (tried in this order)."""
    return {
        "Unlike UCB1, PUCT gives an unvisited child no infinite bonus: its bonus is finite and "
        "scaled by its prior, so the prior decides which untried action comes first.":
            math.inf if n == 0 else q + c * prior * math.sqrt(big_n) / (1 + n),
        "Divide by one more than the child's visits: an unvisited child (n = 0) must get a finite bonus.":
            q + c * prior * math.sqrt(big_n) / max(n, 1e-300),
        "PUCT takes the square root of the parent's visits, not of their log (that is UCB1).":
            q + c * prior * math.sqrt(math.log(max(big_n, 1))) / (1 + n),
        "The prior multiplies the exploration bonus: that is how the policy network steers the search.":
            q + c * math.sqrt(big_n) / (1 + n),
        "Take the square root of the parent's visits, not the visits themselves.":
            q + c * prior * big_n / (1 + n),
        "The bonus is added, not subtracted.":
            q - c * prior * math.sqrt(big_n) / (1 + n),
    }


@never_raises
def check_puct_score(student_fn: Callable) -> bool:
    """Check a PUCT score fn(q, prior, parent_visits, child_visits, c) -> float against puct.puct_score."""
    from mbrl_helpers.planners import puct

    name = "puct_score"
    rng = np.random.default_rng(7)
    # A visited child first (so dividing by n alone shows as a wrong number, not a division by
    # zero), then unvisited children, then random cases.
    cases = [(0.8, 0.2, 100, 30, 2.0), (0.5, 0.5, 10, 0, 1.25), (0.0, 1.0, 1, 0, 1.0)]
    for _ in range(40):
        big_n = int(rng.integers(1, 500))
        cases.append((float(np.round(rng.random(), 3)), float(np.round(rng.random(), 3)), big_n,
                      int(rng.integers(0, big_n + 1)), float(rng.choice([0.5, 1.0, 1.25, 2.0]))))
    for q, prior, big_n, n, c in cases:
        expected = puct.puct_score(q, prior, big_n, n, c)
        got, error = call(student_fn, q, prior, big_n, n, c)
        case = f"Input: q={q}, prior P={prior}, parent_visits N={big_n}, child_visits n={n}, c={c}."
        if error and "ZeroDivisionError" in error and n == 0:
            error += " With n = 0 the bonus must still be a finite number."
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


def _select_cases(seed: int = 9, n_cases: int = 100) -> list[tuple]:
    """Small trees: a node with 2-4 actions, some children expanded and visited, some not.

    Returns (tree, node, prior (N, A), c, gamma, bounds) per case. Returns are tens of units
    (as on CartPole), so forgetting the normalisation changes the choice.
    """
    from mbrl_helpers.planners.search_core import new_tree

    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        n_actions = int(rng.integers(2, 5))
        tree = new_tree(np.zeros(2), n_actions, 16)
        node = int(rng.integers(0, 3))                  # the node may be the root or deeper
        child = 4
        tree.visits[node] = 1
        for a in range(n_actions):
            if rng.random() < 0.75:                     # expanded: a child node
                tree.children[node, a] = child
                visits = int(rng.integers(0, 12)) if rng.random() < 0.85 else 0
                tree.visits[child] = visits
                tree.reward[child] = float(np.round(rng.uniform(0, 8), 2))
                tree.value_sum[child] = float(np.round(visits * rng.uniform(5, 40), 2))
                tree.visits[node] += visits
                child += 1
        tree.value_sum[node] = float(np.round(tree.visits[node] * rng.uniform(5, 40), 2))
        tree.n_nodes[0] = child
        prior = rng.dirichlet(np.ones(n_actions), size=16)            # (N, A): one row per node
        bounds = [float(np.round(rng.uniform(0, 5), 2)), float(np.round(rng.uniform(40, 60), 2))]
        cases.append((tree, node, prior, float(rng.choice([0.5, 1.25, 2.0])),
                      float(rng.choice([0.8, 0.9, 0.99])), bounds))
    return cases


def _select_with(mistake: str, tree, node: int, prior: np.ndarray, c: float, gamma: float,  # noqa: PLR0913 - the student's arguments plus the mistake
                 bounds: list[float]) -> int:
    """The PUCT choice made with one of _SELECT_MISTAKES (a key of it; "" for none)."""
    from mbrl_helpers.planners.puct import puct_score
    from mbrl_helpers.planners.search_core import normalised

    parent_q = tree.value_sum[node] / max(tree.visits[node], 1)
    scores = []
    for a in range(tree.children.shape[1]):
        child = tree.children[node, a]
        n = tree.visits[child] if child >= 0 else 0
        discount = 1.0 if mistake == "no_discount" else gamma
        reward = 0.0 if mistake == "no_reward" or child < 0 else tree.reward[child]
        if n > 0:
            q = reward + discount * tree.value_sum[child] / n
        else:
            q = 0.0 if mistake == "unvisited_zero" else parent_q
        if mistake != "raw_q":
            q = normalised(q, bounds[0], bounds[1])
        big_n = n if mistake == "child_visits_as_n" else tree.visits[node]
        scores.append(q if mistake == "no_bonus" else puct_score(q, prior[node, a], big_n, n, c))
    return int(np.argmax(scores))


_SELECT_MISTAKES = {
    "unvisited_zero": "An action not yet tried is not worth 0: it borrows its parent's mean return "
                      "(first-play urgency), so that only its prior decides whether it is tried.",
    "raw_q": "Normalise each value with the tree's bounds before scoring: raw returns of tens of units "
             "swamp the prior's bonus, which is of order c.",
    "no_reward": "A child's value starts with the reward of the step into it; the mean return after it "
                 "is only the rest.",
    "no_discount": "The child's mean return is one step later than the child's reward: discount it by gamma.",
    "no_bonus": "Choosing by value alone never explores: score each action with the PUCT rule, prior bonus "
                "included.",
    "child_visits_as_n": "N in the bonus is the visit count of the node you choose at (the parent), the "
                         "same for every action.",
}


@never_raises
def check_puct_select(student_fn: Callable) -> bool:
    """Check fn(tree, node, prior, c, gamma, bounds) -> int, the PUCT choice at one node, against
    search_reference.puct_select (the selection step of the plain-Python PUCT search)."""
    from mbrl_helpers.planners import search_reference

    name = "puct_select"
    cases = _select_cases()
    answers, first_wrong = [], None
    for i, (tree, node, prior, c, gamma, bounds) in enumerate(cases):
        expected = search_reference.puct_select(tree, node, prior, c, gamma, bounds)
        got, error = call(student_fn, tree, node, prior, c, gamma, list(bounds))
        children = tree.children[node]
        case = (f"Input: node {node} with {len(children)} actions; children {children.tolist()}, their "
                f"visits {[int(tree.visits[k]) if k >= 0 else 0 for k in children]}, rewards "
                f"{[float(tree.reward[k]) if k >= 0 else 0.0 for k in children]}, value sums "
                f"{[float(tree.value_sum[k]) if k >= 0 else 0.0 for k in children]}; node visits "
                f"{int(tree.visits[node])}, value sum {float(tree.value_sum[node])}; prior "
                f"{np.round(prior[node], 3).tolist()}, c={c}, gamma={gamma}, bounds={bounds}.")
        if error:
            return report(False, name, f"{case}\n{error}")
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            return report(False, name, f"{case}\nReturn the chosen action as an int; got {got!r:.80}.")
        answers.append(int(got))
        if int(got) != expected and first_wrong is None:
            first_wrong = (i, case, expected, int(got))
    if first_wrong is None:
        return report(True, name)
    i, case, expected, got = first_wrong
    hint = f"Expected action {expected}, got {got}."
    for mistake, why in _SELECT_MISTAKES.items():       # the mistake that explains every answer
        if all(_select_with(mistake, *args) == answer for args, answer in zip(cases, answers, strict=True)):
            hint += " " + why
            break
    return report(False, name, f"{case}\n{hint}")


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
