"""Self-checks for notebook 05, model-predictive control: scoring with termination and one CEM update."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, report

# == notebook 05: model-predictive control (scoring with termination, one CEM update of a categorical) ===

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


def _shares(chosen: np.ndarray, k: int) -> np.ndarray:
    """(H, K) share of the (M, H) sequences `chosen` that take each of the k actions at each step."""
    return (chosen[..., None] == np.arange(k)).mean(axis=0)


def _cem_wrong_versions(probs: np.ndarray, samples: np.ndarray, returns: np.ndarray, n_elites: int,
                        smoothing: float) -> dict[str, np.ndarray]:
    """Common mistakes in one CEM update, each named by the hint it earns."""
    k = probs.shape[1]
    best = samples[np.argsort(-returns, kind="stable")[:n_elites]]
    worst = samples[np.argsort(returns, kind="stable")[:n_elites]]
    first = samples[:n_elites]
    return {
        "Your elites are the worst sequences: the elites are the ones with the highest returns.":
            smoothing * probs + (1 - smoothing) * _shares(worst, k),
        "Your elites are the first sequences sampled, whatever their returns: rank them by return "
        "first.": smoothing * probs + (1 - smoothing) * _shares(first, k),
        "You returned the elites' action shares alone: keep the `smoothing` part of the old "
        "distribution, so one unlucky batch of elites cannot collapse it.": _shares(best, k),
        "The two weights are swapped: `smoothing` is the weight of the old distribution, the rest "
        "goes to the elites.": (1 - smoothing) * probs + smoothing * _shares(best, k),
        "Your rows do not sum to 1: use the share of the elites taking each action (a fraction of "
        "the elites), not their count.": smoothing * probs + (1 - smoothing) * _shares(best, k) * n_elites,
        "The new distribution is the old one: refit it to the elites.": probs,
    }


@never_raises
def check_cem_refit(student_fn: Callable) -> bool:
    """Check one discrete CEM update fn(probs (H, K), samples (N, H) int, returns (N,), n_elites,
    smoothing) -> (H, K) against mpc.cem_refit_categorical (without its probability floor).

    The elites are the n_elites samples with the highest returns (the cases have no ties);
    new[t, k] = smoothing * probs[t, k] + (1 - smoothing) * (share of the elites taking k at step t).
    """
    from mbrl_helpers.planners import mpc

    name = "cem_refit"
    rng = np.random.default_rng(5)
    for _ in range(30):
        h, k, n = int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(6, 12))
        n_elites = int(rng.integers(2, n // 2 + 1))
        probs = rng.dirichlet(np.ones(k), size=h)
        samples = rng.integers(k, size=(n, h))
        returns = np.round(rng.permutation(n) + rng.uniform(0, 0.5, size=n), 2)   # no ties
        smoothing = float(rng.choice([0.1, 0.25, 0.4]))
        expected = mpc.cem_refit_categorical(probs, samples, returns, n_elites, smoothing)
        got, error = call(student_fn, probs.copy(), samples.copy(), returns.copy(), n_elites, smoothing)
        got, error = _array(got, error, (h, k))
        case = (f"Input: probs={np.round(probs, 2).tolist()}, samples={samples.tolist()}, "
                f"returns={returns.tolist()}, n_elites={n_elites}, smoothing={smoothing}.")
        if error:
            return report(False, name, f"{case}\n{error}")
        if np.allclose(got, expected):
            continue
        hint = f"Expected {np.round(expected, 3).tolist()}, got {np.round(got, 3).tolist()}."
        for why, wrong in _cem_wrong_versions(probs, samples, returns, n_elites, smoothing).items():
            if np.allclose(got, wrong):
                hint += " " + why
                break
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)


def _score_reference(rewards: np.ndarray, terminated: np.ndarray, gamma: float) -> np.ndarray:
    alive_before = np.concatenate([np.ones((len(rewards), 1), bool),
                                   ~np.cumsum(terminated, axis=1)[:, :-1].astype(bool)], axis=1)
    return (rewards * gamma ** np.arange(rewards.shape[1]) * alive_before).sum(axis=1)


def _score_wrong_versions(rewards: np.ndarray, terminated: np.ndarray, gamma: float) -> dict[str, np.ndarray]:
    """Common mistakes in scoring imagined rollouts, each named by the hint it earns."""
    discounts = gamma ** np.arange(rewards.shape[1])
    alive_after = ~np.cumsum(terminated, axis=1).astype(bool)
    return {
        "Rewards after a predicted termination must not count: the imagined episode has ended, "
        "there is no next state.": (rewards * discounts).sum(axis=1),
        "The terminal step's own reward counts (gymnasium pays it); only the steps after it are "
        "dropped.": (rewards * discounts * alive_after).sum(axis=1),
        "Rewards further ahead count less: each step's reward is discounted by gamma once per step "
        "before it.": _score_reference(rewards, terminated, 1.0),
        "The first step's reward is not discounted (no step comes before it).":
            _score_reference(rewards * gamma, terminated, gamma),
    }


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
        hint = f"Expected {np.round(expected, 3).tolist()}, got {np.round(got, 3).tolist()}."
        for why, wrong in _score_wrong_versions(rewards, terminated, gamma).items():
            if np.allclose(got, wrong):
                hint += " " + why
                break
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)
