"""The MPC lesson's exercise checks accept the reference and name each typical mistake."""

import numpy as np

from mbrl_helpers.course import checks


def refit(probs, elites, smoothing):
    shares = (elites[..., None] == np.arange(probs.shape[1])).mean(axis=0)
    return smoothing * probs + (1 - smoothing) * shares


def stub(*args):
    raise NotImplementedError


def test_refit_check_accepts_the_reference_and_names_mistakes(capsys):
    assert checks.check_cem_refit_categorical(refit)
    assert "Correct" in capsys.readouterr().out
    mistakes = {
        "shares alone": lambda p, e, s: refit(p, e, 0.0),
        "weights are swapped": lambda p, e, s: refit(p, e, 1 - s),
        "count / number of elites":
            lambda p, e, s: s * p + (1 - s) * (e[..., None] == np.arange(p.shape[1])).sum(0),
        "NotImplementedError": stub,
        "shape": lambda p, e, s: p[0],
    }
    for phrase, wrong in mistakes.items():
        assert not checks.check_cem_refit_categorical(wrong)
        assert phrase in capsys.readouterr().out


def score(rewards, terminated, gamma):
    alive = np.concatenate([np.ones((len(rewards), 1), bool),
                            ~np.cumsum(terminated, axis=1)[:, :-1].astype(bool)], axis=1)
    return (rewards * gamma ** np.arange(rewards.shape[1]) * alive).sum(axis=1)


def test_score_check_accepts_the_reference_and_names_mistakes(capsys):
    assert checks.check_score_with_termination(score)
    assert "Correct" in capsys.readouterr().out
    discounts = lambda r, g: g ** np.arange(r.shape[1])  # noqa: E731
    mistakes = {
        "must not count": lambda r, t, g: (r * discounts(r, g)).sum(1),
        "own reward counts": lambda r, t, g: (r * discounts(r, g) * ~np.cumsum(t, 1).astype(bool)).sum(1),
        "gamma ** t": lambda r, t, g: score(r, t, 1.0),
        "gamma ** 0 = 1": lambda r, t, g: score(r * g, t, g),
        "NotImplementedError": stub,
    }
    for phrase, wrong in mistakes.items():
        assert not checks.check_score_with_termination(wrong)
        assert phrase in capsys.readouterr().out
