"""Notebook 07's exercise checks accept the reference and reject typical wrong answers."""

import math

import numpy as np

from mbrl_helpers.course import checks


def puct(q, prior, parent_visits, child_visits, c):
    return q + c * prior * math.sqrt(parent_visits) / (1 + child_visits)


def puct_without_prior(q, prior, parent_visits, child_visits, c):
    return q + c * math.sqrt(parent_visits) / (1 + child_visits)


def puct_with_log(q, prior, parent_visits, child_visits, c):
    return q + c * prior * math.sqrt(math.log(max(parent_visits, 1))) / (1 + child_visits)


def stub(*args):
    raise NotImplementedError


def test_puct_check_accepts_the_reference(capsys):
    assert checks.check_puct_score(puct)
    assert "Correct" in capsys.readouterr().out


def test_puct_check_names_the_mistake(capsys):
    assert not checks.check_puct_score(puct_without_prior)
    assert "prior multiplies" in capsys.readouterr().out
    assert not checks.check_puct_score(puct_with_log)
    assert "not their log" in capsys.readouterr().out
    assert not checks.check_puct_score(stub)
    assert "NotImplementedError" in capsys.readouterr().out
    assert not checks.check_puct_score(lambda *args: "a score")
    assert "Return a number; got 'a score'" in capsys.readouterr().out


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


def test_search_targets_check(capsys):
    assert checks.check_search_targets_update(search_update)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_search_targets_update(search_update_untried_too)
    assert "untried action" in capsys.readouterr().out
    assert not checks.check_search_targets_update(search_update_all_the_way)
    assert "step alpha" in capsys.readouterr().out
    assert not checks.check_search_targets_update(search_update_returns_copy)
    assert "in place" in capsys.readouterr().out
