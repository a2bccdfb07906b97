"""Notebook 05's exercise checks accept the reference, reject the stub and name each typical mistake."""

import numpy as np
import pytest

from mbrl_helpers.course import checks
from mbrl_helpers.planners import mpc


def stub(*args):
    raise NotImplementedError("write your code here")


def shares(chosen, k):
    return (chosen[..., None] == np.arange(k)).mean(axis=0)


def elites_by(order):
    """A CEM update whose elites are the first n_elites samples of order(returns)."""
    def update(probs, samples, returns, n_elites, smoothing):
        chosen = samples[order(returns)[:n_elites]]
        return smoothing * probs + (1 - smoothing) * shares(chosen, probs.shape[1])
    return update


def best(returns):
    return np.argsort(-returns)


CEM_MISTAKES = {
    "the elites are the ones with the highest returns": elites_by(np.argsort),
    "rank them by return first": elites_by(lambda returns: np.arange(len(returns))),
    "keep the `smoothing` part of the old distribution":
        lambda p, s, r, m, a: elites_by(best)(p, s, r, m, 0.0),
    "The two weights are swapped": lambda p, s, r, m, a: elites_by(best)(p, s, r, m, 1 - a),
    "Your rows do not sum to 1":
        lambda p, s, r, m, a: a * p + (1 - a) * m * shares(s[best(r)[:m]], p.shape[1]),
    "refit it to the elites": lambda p, s, r, m, a: p,
}


def test_cem_refit_check_accepts_the_package_and_a_plain_solution(capsys):
    assert checks.check_cem_refit(mpc.cem_refit_categorical)
    assert checks.check_cem_refit(elites_by(best))
    assert capsys.readouterr().out.count("Correct") == 2


def test_cem_refit_check_rejects_the_stub(capsys):
    assert not checks.check_cem_refit(stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize("hint", CEM_MISTAKES)
def test_cem_refit_check_names_the_mistake(capsys, hint):
    assert not checks.check_cem_refit(CEM_MISTAKES[hint])
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out


def test_cem_refit_check_rejects_a_wrong_shape(capsys):
    assert not checks.check_cem_refit(lambda p, s, r, m, a: p[0])
    assert "shape" in capsys.readouterr().out


def score(rewards, terminated, gamma):
    ended_before = np.cumsum(terminated, axis=1) - terminated
    return (rewards * gamma ** np.arange(rewards.shape[1]) * (ended_before == 0)).sum(axis=1)


def discounts(rewards, gamma):
    return gamma ** np.arange(rewards.shape[1])


SCORE_MISTAKES = {
    "must not count": lambda r, t, g: (r * discounts(r, g)).sum(1),
    "own reward counts": lambda r, t, g: (r * discounts(r, g) * ~np.cumsum(t, 1).astype(bool)).sum(1),
    "Rewards further ahead count less": lambda r, t, g: score(r, t, 1.0),
    "The first step's reward is not discounted": lambda r, t, g: score(r * g, t, g),
}


def test_score_check_accepts_the_reference_and_rejects_the_stub(capsys):
    assert checks.check_score_with_termination(score)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_score_with_termination(stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize("hint", SCORE_MISTAKES)
def test_score_check_names_the_mistake(capsys, hint):
    assert not checks.check_score_with_termination(SCORE_MISTAKES[hint])
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out
