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


def _q_learning_wrong_versions(q: np.ndarray, s: int, a: int, r: float, s_next: int, terminated: bool,
                               alpha: float, gamma: float) -> dict[str, float]:
    """Common mistakes, each named by the hint it earns: hint -> the q[s, a] that mistake leaves.

    q: (n_states, 4) before the update. Mistakes that agree with the right answer on this case
    (e.g. a missing gamma when terminated is True) are left out, so they never earn a hint.
    """
    old = q[s, a]
    best = float(np.max(q[s_next]))
    right = r if terminated else r + gamma * best

    def after(target: float) -> float:
        return old + alpha * (target - old)

    wrong = {
        "Check the sign: move q[s, a] towards the target, not away from it.":
            old - alpha * (right - old),
        "When terminated is True there is no next state to bootstrap from: the target is just r.":
            after(r + gamma * best) if terminated else np.nan,
        "The next state's value is discounted: look at which factor of the formula is missing.":
            np.nan if terminated else after(r + best),
        "The target needs the best *value* in s_next, not the index of the best action.":
            np.nan if terminated else after(r + gamma * float(np.argmax(q[s_next]))),
        "Q-learning bootstraps from the best action in s_next, whichever action a was taken in s.":
            np.nan if terminated else after(r + gamma * q[s_next, a]),
        "The target looks one step ahead, at s_next, not at the state s the step started from.":
            np.nan if terminated else after(r + gamma * float(np.max(q[s]))),
    }
    return {why: value for why, value in wrong.items()
            if not np.isnan(value) and not np.isclose(value, after(right))}


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
                for why, wrong in _q_learning_wrong_versions(q, s, a, r, s_next, terminated,
                                                             alpha, gamma).items():
                    if np.isclose(got_q[s, a], wrong):
                        hint += " " + why
                        break
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
    """Check a planning loop fn(q, model, k, alpha, gamma).

    It must make k updates, each on a pair drawn with tabular.model_sample and
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
        case = f"Input: a model with {int(model.n_seen[0])} seen states, k={n}, alpha={alpha}, gamma={gamma}."
        if error:
            return report(False, name, f"{case}\n{error}")
        if not np.allclose(got, expected):
            hint = _diagnose_planning(q, model, n, alpha, gamma, seed, got)
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)


def _planning_wrong_versions(
    q: np.ndarray, model: tabular.TabularModel, n: int, alpha: float, gamma: float, seed: int,
) -> dict[str, np.ndarray]:
    """Common mistakes, each named by the hint it earns: hint -> the q that mistake leaves.

    Each wrong version is replayed with the same seed as the student's answer, so its random
    draws are the ones the student's loop made.
    """

    def replay(step: Callable[[np.ndarray, int, int], None], updates: int = n,
               draw_once: bool = False) -> np.ndarray:
        out = q.copy()
        tabular.seed_numba(seed)
        s, a = tabular.model_sample(model)
        for i in range(updates):
            if i > 0 and not draw_once:
                s, a = tabular.model_sample(model)
            step(out, s, a)
        return out

    def right(out: np.ndarray, s: int, a: int) -> None:
        tabular.q_learning_update(out, s, a, model.reward[s, a], model.next_state[s, a],
                                  model.terminated[s, a], alpha, gamma)

    def no_termination(out: np.ndarray, s: int, a: int) -> None:
        tabular.q_learning_update(out, s, a, model.reward[s, a], model.next_state[s, a],
                                  False, alpha, gamma)

    def swapped_alpha_gamma(out: np.ndarray, s: int, a: int) -> None:
        tabular.q_learning_update(out, s, a, model.reward[s, a], model.next_state[s, a],
                                  model.terminated[s, a], gamma, alpha)

    def next_state_is_s(out: np.ndarray, s: int, a: int) -> None:
        tabular.q_learning_update(out, s, a, model.reward[s, a], s, model.terminated[s, a],
                                  alpha, gamma)

    wrong = {
        f"Your loop makes one update too few ({n - 1} instead of k = {n}).":
            replay(right, n - 1) if n >= 1 else None,
        f"Your loop makes one update too many ({n + 1} instead of k = {n}).": replay(right, n + 1),
        "The model's terminated flag is ignored: a modelled step into the goal must not bootstrap.":
            replay(no_termination),
        "alpha and gamma are passed in each other's places: compare your call with the order of "
        "q_learning_update's parameters.": replay(swapped_alpha_gamma),
        "The update uses the wrong transition: the next state comes from the model, what "
        "(s, a) led to last time, not the state s itself.": replay(next_state_is_s),
        "Every update uses the same pair: draw a new (s, a) from the model on each pass of the loop.":
            replay(right, draw_once=True),
    }
    return {why: got for why, got in wrong.items() if got is not None}


def _diagnose_planning(
    q: np.ndarray, model: tabular.TabularModel, n: int, alpha: float, gamma: float,
    seed: int, got: np.ndarray,
) -> str:
    """Name the likely mistake: q changed at a pair never tried, or a replayed wrong version matches."""
    untried = np.argwhere(~np.isclose(got, q) & (model.next_state < 0))
    if len(untried):
        s, a = (int(i) for i in untried[0])
        return (f"q[{s}, {a}] changed, but the agent has never tried action {a} in state {s}: the "
                "model knows nothing about that pair. Plan only with pairs the model has seen, as "
                "tabular.model_sample(model) draws them.")
    if np.allclose(got, q):
        return "q did not change at all: update it in place with tabular.q_learning_update."
    expected = q.copy()
    tabular.seed_numba(seed)
    tabular.planning(expected, model, n, alpha, gamma)
    for why, wrong in _planning_wrong_versions(q, model, n, alpha, gamma, seed).items():
        if np.allclose(got, wrong) and not np.allclose(wrong, expected):
            return why
    where = np.argwhere(~np.isclose(got, q))
    return (f"q differs from the reference, first at q{tuple(int(i) for i in where[0])}. "
            "Draw each pair with tabular.model_sample(model) and look up r, s', terminated in the model.")
