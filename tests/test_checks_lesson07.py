"""Notebook 07's exercise checks: each accepts the reference, rejects the stub with its message,
and names every common mistake it lists with that mistake's hint."""

import math

import numpy as np
import pytest

from mbrl_helpers.course import checks
from mbrl_helpers.course.checks import lesson07_learned_models as lesson07
from mbrl_helpers.planners import search_reference


def stub(*args):
    raise NotImplementedError


# -- Exercise 1: the PUCT score ---------------------------------------------------------------
def puct(q, prior, parent_visits, child_visits, c):
    return q + c * prior * math.sqrt(parent_visits) / (1 + child_visits)


PUCT_MISTAKES = {
    "no infinite bonus": lambda q, p, big_n, n, c: math.inf if n == 0 else puct(q, p, big_n, n, c),
    "one more than the child's visits": lambda q, p, big_n, n, c: q + c * p * math.sqrt(big_n) / n,
    "not of their log": lambda q, p, big_n, n, c: q + c * p * math.sqrt(math.log(big_n)) / (1 + n),
    "prior multiplies": lambda q, p, big_n, n, c: q + c * math.sqrt(big_n) / (1 + n),
    "not the visits themselves": lambda q, p, big_n, n, c: q + c * p * big_n / (1 + n),
    "added, not subtracted": lambda q, p, big_n, n, c: q - c * p * math.sqrt(big_n) / (1 + n),
}


def test_puct_check_accepts_the_reference(capsys):
    assert checks.check_puct_score(puct)
    assert "Correct" in capsys.readouterr().out


def test_puct_check_rejects_the_stub_and_non_numbers(capsys):
    assert not checks.check_puct_score(stub)
    assert "NotImplementedError" in capsys.readouterr().out
    assert not checks.check_puct_score(lambda *args: "a score")
    assert "Return a number; got 'a score'" in capsys.readouterr().out


@pytest.mark.parametrize("hint", PUCT_MISTAKES)
def test_puct_check_names_each_mistake(hint, capsys):
    assert not checks.check_puct_score(PUCT_MISTAKES[hint])
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out


def test_puct_check_explains_a_division_by_zero(capsys):
    def divides_by_zero_only_when_unvisited(q, p, big_n, n, c):
        return q + c * p * math.sqrt(big_n) / (n if n == 0 else 1 + n)

    assert not checks.check_puct_score(divides_by_zero_only_when_unvisited)
    assert "finite number" in capsys.readouterr().out


# -- Exercise 2: the PUCT choice at a node ------------------------------------------------------
def puct_select(tree, node, prior, c, gamma, bounds):
    parent_q = tree.value_sum[node] / max(tree.visits[node], 1)
    best, best_score = -1, -math.inf
    for a in range(tree.children.shape[1]):
        child = tree.children[node, a]
        n = tree.visits[child] if child >= 0 else 0
        q = tree.reward[child] + gamma * tree.value_sum[child] / n if n > 0 else parent_q
        q = (q - bounds[0]) / (bounds[1] - bounds[0]) if bounds[1] > bounds[0] else 0.5
        score = q + c * prior[node, a] * math.sqrt(tree.visits[node]) / (1 + n)
        if score > best_score:
            best, best_score = a, score
    return best


def test_select_check_accepts_the_reference_and_the_package(capsys):
    assert checks.check_puct_select(puct_select)
    assert "Correct" in capsys.readouterr().out
    assert checks.check_puct_select(search_reference.puct_select)
    assert "Correct" in capsys.readouterr().out


def test_select_check_rejects_the_stub_and_non_actions(capsys):
    assert not checks.check_puct_select(stub)
    assert "NotImplementedError" in capsys.readouterr().out
    assert not checks.check_puct_select(lambda *args: [0.1, 0.9])
    assert "Return the chosen action as an int" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", lesson07._SELECT_MISTAKES)
def test_select_check_names_each_mistake(mistake, capsys):
    def wrong(tree, node, prior, c, gamma, bounds):
        return lesson07._select_with(mistake, tree, node, prior, c, gamma, bounds)

    # each mistake changes the choice on some case, and no earlier-listed mistake explains it
    assert not checks.check_puct_select(wrong)
    out = capsys.readouterr().out
    assert "Not yet" in out and lesson07._SELECT_MISTAKES[mistake] in out


def test_select_mistakes_agree_with_the_reference_when_off():
    for args in lesson07._select_cases():
        assert lesson07._select_with("", *args) == search_reference.puct_select(*args)


# -- Exercise 3: search values as Q targets -----------------------------------------------------
def search_update(q, root, targets, alpha):
    for a in range(4):
        if targets.tried[a] and not np.isnan(targets.q_values[a]):
            q[root, a] += alpha * (targets.q_values[a] - q[root, a])


def search_update_untried_too(q, root, targets, alpha):
    for a in range(4):
        if not np.isnan(targets.q_values[a]):
            q[root, a] += alpha * (targets.q_values[a] - q[root, a])


def search_update_all_the_way(q, root, targets, alpha):
    for a in range(4):
        if targets.tried[a] and not np.isnan(targets.q_values[a]):
            q[root, a] = targets.q_values[a]


def search_update_returns_copy(q, root, targets, alpha):
    q = q.copy()
    search_update(q, root, targets, alpha)
    return q


def search_update_keeps_nan(q, root, targets, alpha):
    for a in range(4):
        if targets.tried[a]:
            q[root, a] += alpha * (targets.q_values[a] - q[root, a])


def search_update_whole_table(q, root, targets, alpha):
    for s in range(len(q)):
        search_update(q, s, targets, alpha)


def test_search_targets_check_accepts_the_reference(capsys):
    assert checks.check_search_targets_update(search_update)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_search_targets_update(stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    (search_update_untried_too, "untried action"),
    (search_update_all_the_way, "step alpha"),
    (search_update_returns_copy, "in place"),
    (search_update_keeps_nan, "Q now holds NaN"),
    (search_update_whole_table, "Only the root's row changes"),
])
def test_search_targets_check_names_each_mistake(wrong, hint, capsys):
    assert not checks.check_search_targets_update(wrong)
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out
