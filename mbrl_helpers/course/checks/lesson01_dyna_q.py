"""Self-checks for notebook 01, Dyna-Q: the Q-learning update and the planning loop."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mbrl_helpers.agents import tabular
from mbrl_helpers.course.checks.common import call, never_raises, report

# == notebook 01: the Q-learning update ============================================================

def _q_learning_cases(seed: int = 0, n_cases: int = 40) -> list[tuple]:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n_cases):
        n_states = int(rng.integers(3, 8))
        q = np.round(rng.normal(size=(n_states, 4)), 3)
        s, s_next = int(rng.integers(n_states)), int(rng.integers(n_states))
        a = int(rng.integers(4))
        r = float(np.round(rng.normal(), 2))
        terminated = bool(i % 3 == 0)
        alpha = float(np.round(rng.uniform(0.05, 1.0), 2))
        gamma = float(np.round(rng.uniform(0.5, 1.0), 2))
        cases.append((q, s, a, r, s_next, terminated, alpha, gamma))
    return cases


@never_raises
def check_q_learning_update(student_fn: Callable) -> bool:
    """Check a Q-learning update fn(q, s, a, r, s_next, terminated, alpha, gamma).

    It must change q[s, a] in place as the package's tabular.q_learning_update
    does, leave the rest of q alone, and return the TD error.
    """
    name = "q_learning_update"
    for q, s, a, r, s_next, terminated, alpha, gamma in _q_learning_cases():
        expected_q = q.copy()
        expected_td = tabular.q_learning_update(expected_q, s, a, r, s_next, terminated, alpha, gamma)
        got_q = q.copy()
        got_td, error = call(student_fn, got_q, s, a, r, s_next, terminated, alpha, gamma)
        case = (f"Input: s={s}, a={a}, r={r}, s_next={s_next}, terminated={terminated}, "
                f"alpha={alpha}, gamma={gamma}, q[s_next]={np.round(q[s_next], 3).tolist()}, "
                f"q[s, a]={q[s, a]:.3f}.")
        if error:
            return report(False, name, f"{case}\n{error}")
        if not np.allclose(got_q, expected_q):
            changed = np.argwhere(~np.isclose(got_q, expected_q))
            if len(changed) and not (len(changed) == 1 and tuple(changed[0]) == (s, a)):
                hint = f"Only q[s, a] may change, but q{tuple(int(i) for i in changed[0])} changed too."
            else:
                hint = (f"Expected q[s, a] = {expected_q[s, a]:.4f} after the update, "
                        f"got {got_q[s, a]:.4f}.")
                bootstrapped = q[s, a] + alpha * (r + gamma * q[s_next].max() - q[s, a])
                if np.isclose(got_q[s, a], q[s, a] - alpha * expected_td):
                    hint += " Check the sign: move q[s, a] towards the target, not away from it."
                elif terminated and np.isclose(got_q[s, a], bootstrapped):
                    hint += (" When terminated is True there is no next state to bootstrap from:"
                             " the target is just r.")
            return report(False, name, f"{case}\n{hint}")
        if got_td is None or not np.isclose(float(got_td), expected_td):
            return report(False, name, f"{case}\nq is right, but return the TD error "
                           f"(target - old q[s, a]) = {expected_td:.4f}; got {got_td!r}.")
    return report(True, name)


# == notebook 01: the planning loop ================================================================

def _random_model(rng: np.random.Generator) -> tabular.TabularModel:
    """A tabular model with some (s, a) pairs tried, a few of them terminal."""
    n_states = int(rng.integers(4, 10))
    model = tabular.new_tabular_model(n_states)
    for s in rng.permutation(n_states)[: int(rng.integers(2, n_states + 1))]:
        for a in rng.permutation(4)[: int(rng.integers(1, 5))]:
            tabular.model_update(
                model, int(s), int(a), float(np.round(rng.normal(), 2)),
                int(rng.integers(n_states)), bool(rng.random() < 0.2),
            )
    return model


@never_raises
def check_planning(student_fn: Callable) -> bool:
    """Check a planning loop fn(q, model, n, alpha, gamma).

    It must make n updates, each on a pair drawn with tabular.model_sample and
    applied with tabular.q_learning_update, exactly as tabular.planning does
    (same random draws, so the same seed must give the same q).
    """
    name = "planning"
    rng = np.random.default_rng(1)
    for case_index in range(12):
        model = _random_model(rng)
        q = np.round(rng.normal(size=(model.next_state.shape[0], 4)), 3)
        n = int(rng.integers(1, 30))
        alpha, gamma = 0.5, 0.9
        seed = 1000 + case_index
        expected = q.copy()
        tabular.seed_numba(seed)
        tabular.planning(expected, model, n, alpha, gamma)
        got = q.copy()
        tabular.seed_numba(seed)
        _, error = call(student_fn, got, model, n, alpha, gamma)
        case = f"Input: a model with {int(model.n_seen[0])} seen states, n={n}, alpha={alpha}, gamma={gamma}."
        if error:
            return report(False, name, f"{case}\n{error}")
        if not np.allclose(got, expected):
            hint = _diagnose_planning(q, model, n, alpha, gamma, seed, got)
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)


def _diagnose_planning(
    q: np.ndarray, model: tabular.TabularModel, n: int, alpha: float, gamma: float,
    seed: int, got: np.ndarray,
) -> str:
    """Name the likely mistake by replaying common wrong versions."""
    for wrong_n, what in ((n - 1, "one update too few"), (n + 1, "one update too many")):
        if wrong_n < 0:
            continue
        replay = q.copy()
        tabular.seed_numba(seed)
        tabular.planning(replay, model, wrong_n, alpha, gamma)
        if np.allclose(replay, got):
            return f"Your loop makes {what} ({wrong_n} instead of n = {n}); use range(n)."
    replay = q.copy()
    tabular.seed_numba(seed)
    for _ in range(n):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(replay, s, a, model.reward[s, a], model.next_state[s, a],
                                  False, alpha, gamma)
    if np.allclose(replay, got):
        return ("The model's terminated flag is ignored: pass model.terminated[s, a], "
                "so a modelled step into the goal does not bootstrap.")
    if np.allclose(got, q):
        return "q did not change at all: update it in place with tabular.q_learning_update."
    where = np.argwhere(~np.isclose(got, q))
    return (f"q differs from the reference, first at q{tuple(int(i) for i in where[0])}. "
            "Draw each pair with tabular.model_sample(model) and look up r, s', terminated in the model.")
