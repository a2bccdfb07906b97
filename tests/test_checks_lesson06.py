"""Notebook 06's exercise checks accept the reference, reject the stub and name each typical mistake."""

import math

import numpy as np
import pytest

from mbrl_helpers.course import checks
from mbrl_helpers.course.checks import lesson06_mcts
from mbrl_helpers.planners import mcts


def stub(*args):
    raise NotImplementedError("write your code here")


def ucb1(bonus):
    """A UCB1 score that gives untried children +inf and otherwise q + bonus(q, N, n, c)."""
    return lambda q, big_n, n, c: math.inf if n == 0 else q + bonus(big_n, n, c)


UCB1_MISTAKES = {
    "square root": ucb1(lambda big_n, n, c: c * math.log(big_n) / n),
    "swapped": ucb1(lambda big_n, n, c: c * math.sqrt(math.log(n) / big_n)),
    "natural logarithm": ucb1(lambda big_n, n, c: c * math.sqrt(math.log10(big_n) / n)),
    "not with N itself": ucb1(lambda big_n, n, c: c * math.sqrt(big_n / n)),
    "subtracted": ucb1(lambda big_n, n, c: -c * math.sqrt(math.log(big_n) / n)),
    "without the 2": ucb1(lambda big_n, n, c: c * math.sqrt(2 * math.log(big_n) / n)),
    # an untried child not tried first: a division by zero, or a finite score
    "must be tried before any other": lambda q, big_n, n, c: q + c * math.sqrt(math.log(big_n) / n),
    "a score no tried child can reach":
        lambda q, big_n, n, c: q + c * math.sqrt(math.log(big_n) / max(n, 1)),
}


def test_ucb1_check_accepts_the_package_and_rejects_the_stub(capsys):
    assert checks.check_ucb1_score(mcts.ucb1_score.py_func)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_ucb1_score(stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize("hint", UCB1_MISTAKES)
def test_ucb1_check_names_the_mistake(capsys, hint):
    assert not checks.check_ucb1_score(UCB1_MISTAKES[hint])
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out


def returns_by(step):
    """Returns along a path built from the leaf up by G_i = step(rewards, i, G_{i+1}, gamma)."""
    def path_returns(rewards, leaf_value, gamma):
        returns = np.empty(len(rewards) + 1)
        returns[-1] = leaf_value
        for i in range(len(rewards) - 1, -1, -1):
            returns[i] = step(rewards, i, returns[i + 1], gamma)
        return returns
    return path_returns


def leaf_discounted(times):
    """Returns whose leaf value is discounted `times` extra times (-1: once too few)."""
    def path_returns(rewards, leaf_value, gamma):
        returns = mcts.path_returns(rewards, 0.0, gamma)
        k = len(rewards)
        returns += gamma ** (np.arange(k, -1, -1) + times) * leaf_value
        returns[-1] = leaf_value
        return returns
    return path_returns


BACKUP_MISTAKES = {
    "You did not discount": lambda r, v, g: mcts.path_returns(r, v, 1.0),
    "The order is reversed": lambda r, v, g: mcts.path_returns(r, v, g)[::-1],
    "so it is not discounted": returns_by(lambda r, i, below, g: g * (r[i] + below)),
    "(you used the reward of the step into it)":
        returns_by(lambda r, i, below, g: r[i - 1] + g * below),
    "(you used the reward of the step after it)":
        returns_by(lambda r, i, below, g: r[(i + 1) % len(r)] + g * below),
    "discounted once too often": leaf_discounted(1),
    "discounted once too few": leaf_discounted(-1),
}


def test_backup_check_accepts_the_package_and_rejects_the_stub(capsys):
    assert checks.check_backup(mcts.path_returns)
    assert checks.check_backup(returns_by(lambda r, i, below, g: r[i] + g * below))
    assert capsys.readouterr().out.count("Correct") == 2
    assert not checks.check_backup(stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize("hint", BACKUP_MISTAKES)
def test_backup_check_names_the_mistake(capsys, hint):
    assert not checks.check_backup(BACKUP_MISTAKES[hint])
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out


def test_backup_check_rejects_a_path_without_the_leaf(capsys):
    assert not checks.check_backup(lambda r, v, g: mcts.path_returns(r, v, g)[:-1])
    assert "one per node" in capsys.readouterr().out


def test_simulate_check_accepts_the_package_and_rejects_the_stub(capsys):
    assert checks.check_simulate(mcts.simulate)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_simulate(stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", lesson06_mcts.SIMULATE_MISTAKES)
def test_simulate_check_names_the_mistake(capsys, mistake):
    def wrong(*args):
        return lesson06_mcts._simulate_with(mistake, *args)
    assert not checks.check_simulate(wrong)
    out = capsys.readouterr().out
    assert "Not yet" in out and lesson06_mcts.SIMULATE_MISTAKES[mistake] in out


def test_simulate_check_catches_a_simulation_that_adds_two_nodes(capsys):
    def greedy(step_fn, tree, depth, c, gamma, bounds):
        used = mcts.simulate(step_fn, tree, depth, c, gamma, bounds)
        if not tree.terminal[0] and (tree.children[0] < 0).any():   # expand the root again
            used += mcts.simulate(step_fn, tree, depth, c, gamma, bounds)
        return used
    assert not checks.check_simulate(greedy)
    assert "at most one node" in capsys.readouterr().out
