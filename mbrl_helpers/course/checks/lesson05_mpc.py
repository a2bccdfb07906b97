"""Self-checks for notebook 05, model-predictive control: scoring with termination and the CEM refit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, report

# == notebook 05: model-predictive control (the CEM refit of a categorical, scoring with termination) ===

def _array(value: object, error: str, shape: tuple[int, ...]) -> tuple[np.ndarray | None, str]:
    """The student's return value as a float array of `shape`, or an error message."""
    if error:
        return None, error
    try:
        got = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"Return a numpy array; got {value!r}."
    if got.shape != shape:
        return None, f"Return an array of shape {shape}; got shape {got.shape}."
    return got, ""


@never_raises
def check_cem_refit_categorical(student_fn: Callable) -> bool:
    """Check the discrete CEM update fn(probs (H, K), elites (M, H) int, smoothing) -> (H, K).

    new[t, k] = smoothing * probs[t, k] + (1 - smoothing) * (share of the elites taking k at step t),
    as mpc.refit_categorical (without its probability floor).
    """
    from mbrl_helpers.planners import mpc

    name = "refit_categorical"
    rng = np.random.default_rng(5)
    for _ in range(30):
        h, k, m = int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(3, 8))
        probs = rng.dirichlet(np.ones(k), size=h)
        elites = rng.integers(k, size=(m, h))
        smoothing = float(rng.choice([0.1, 0.25, 0.5]))
        expected = mpc.refit_categorical(probs, elites, smoothing)
        got, error = call(student_fn, probs.copy(), elites.copy(), smoothing)
        got, error = _array(got, error, (h, k))
        case = (f"Input: probs={np.round(probs, 2).tolist()}, elites={elites.tolist()}, "
                f"smoothing={smoothing}.")
        if error:
            return report(False, name, f"{case}\n{error}")
        if np.allclose(got, expected):
            continue
        shares = (elites[..., None] == np.arange(k)).mean(axis=0)
        counts = shares * m
        hint = f"Expected {np.round(expected, 3).tolist()}, got {np.round(got, 3).tolist()}."
        if np.allclose(got, shares):
            hint += (" You returned the elites' action shares alone: keep `smoothing` of the old "
                     "distribution, so one unlucky batch of elites cannot collapse it.")
        elif np.allclose(got, (1 - smoothing) * probs + smoothing * shares):
            hint += (" The weights are swapped: `smoothing` multiplies the old probs, the rest goes to "
                     "the elites.")
        elif np.allclose(got, smoothing * probs + (1 - smoothing) * counts):
            hint += (" Use the share of elites taking each action (count / number of elites), so each "
                     "row stays a distribution summing to 1.")
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)


def _score_reference(rewards: np.ndarray, terminated: np.ndarray, gamma: float) -> np.ndarray:
    alive_before = np.concatenate([np.ones((len(rewards), 1), bool),
                                   ~np.cumsum(terminated, axis=1)[:, :-1].astype(bool)], axis=1)
    return (rewards * gamma ** np.arange(rewards.shape[1]) * alive_before).sum(axis=1)


@never_raises
def check_score_with_termination(student_fn: Callable) -> bool:
    """Check the MPC objective of N imagined rollouts fn(rewards (N, H), terminated (N, H), gamma) -> (N,).

    J = sum_t gamma^t r_t over the steps up to and including the first predicted termination
    (that step's reward counts, as gymnasium pays it; nothing after it), as mpc.score_sequences.
    """
    name = "score"
    rng = np.random.default_rng(6)
    for _ in range(30):
        n, h = int(rng.integers(3, 7)), int(rng.integers(3, 7))
        rewards = np.round(rng.uniform(0.5, 2.0, size=(n, h)), 2)
        terminated = rng.random((n, h)) < 0.25
        terminated[0] = False
        terminated[1, 1] = True
        gamma = float(rng.choice([0.9, 0.95, 0.99]))
        expected = _score_reference(rewards, terminated, gamma)
        got, error = call(student_fn, rewards.copy(), terminated.copy(), gamma)
        got, error = _array(got, error, (n,))
        case = (f"Input: rewards={rewards.tolist()}, terminated={terminated.astype(int).tolist()}, "
                f"gamma={gamma}.")
        if error:
            return report(False, name, f"{case}\n{error}")
        if np.allclose(got, expected):
            continue
        discounts = gamma ** np.arange(h)
        alive_after = ~np.cumsum(terminated, axis=1).astype(bool)
        hint = f"Expected {np.round(expected, 3).tolist()}, got {np.round(got, 3).tolist()}."
        if np.allclose(got, (rewards * discounts).sum(axis=1)):
            hint += (" Rewards after a predicted termination must not count: the imagined episode has "
                     "ended, there is no next state.")
        elif np.allclose(got, (rewards * discounts * alive_after).sum(axis=1)):
            hint += (" The terminal step's own reward counts (gymnasium pays it); only the steps after it "
                     "are dropped.")
        elif np.allclose(got, _score_reference(rewards, terminated, 1.0)):
            hint += " Discount step t by gamma ** t."
        elif np.allclose(got, _score_reference(rewards * gamma, terminated, gamma)):
            hint += " The first step is not discounted: gamma ** 0 = 1."
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)
