"""Self-checks for notebook 03, neural dynamics models: normalisation statistics and the open-loop rollout."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, report

# == notebook 03: normalisation statistics and the open-loop rollout ===============================
# mbrl_helpers.learning.models holds the reference functions.

def _normalisation_cases(seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, d in ((200, 3), (150, 4), (300, 2)):
        x = rng.normal(size=(n, d)) * rng.uniform(0.01, 10, size=d) + rng.uniform(-5, 5, size=d)
        cases.append(x)
    cases[1][:, 2] = 1.0   # a constant column, like CartPole's reward
    return cases


@never_raises
def check_normalisation_stats(student_fn: Callable) -> bool:
    """Check fn(x (N, D)) -> (mean (D,), std (D,)), as models.normalisation_stats.

    Per column (over the N samples); a constant column's std must be 1 (not 0),
    so dividing by it never blows up. The sample std (ddof=1) is accepted too.
    """
    from mbrl_helpers.learning import models

    name = "normalisation_stats"
    for x in _normalisation_cases():
        want_mean, want_std = models.normalisation_stats(x)
        got, error = call(student_fn, x.copy())
        case = f"Input: x of shape {x.shape} (column 2 of the 150-row case is constant)."
        if error:
            return report(False, name, f"{case}\n{error}")
        try:
            got_mean, got_std = (np.asarray(v, np.float64) for v in got)
        except (TypeError, ValueError):
            return report(False, name, f"{case}\nReturn two arrays: (mean, std).")
        if got_mean.shape != want_mean.shape or got_std.shape != want_std.shape:
            return report(False, name, f"{case}\nExpected mean and std of shape {want_mean.shape} (one "
                           f"per column), got {got_mean.shape} and {got_std.shape}. Reduce over axis=0, "
                           "the samples.")
        if not np.allclose(got_mean, want_mean):
            return report(False, name, f"{case}\nExpected mean {np.round(want_mean, 3).tolist()}, got "
                           f"{np.round(got_mean, 3).tolist()}.")
        if not np.allclose(got_std, want_std, rtol=1e-2):
            constant = np.isclose(want_std, 1.0) & (x.std(axis=0) < models.STD_FLOOR)
            if constant.any() and not np.allclose(got_std[constant], 1.0):
                hint = (f"Column {int(np.argmax(constant))} is constant: expected std 1 there (so it is "
                        f"left unscaled), got {got_std[constant][0]:.3g}. Replace a std below "
                        f"{models.STD_FLOOR:g} by 1.")
            elif np.allclose(got_std, want_std ** 2, rtol=1e-2):
                hint = "You returned the variance: the std is its square root."
            else:
                hint = (f"Expected std {np.round(want_std, 3).tolist()}, "
                        f"got {np.round(got_std, 3).tolist()}.")
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)


def _toy_step(states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A small linear system with a termination rule: x' = x + 0.1 v, v' = v + 0.1 (2a - 1)."""
    states = np.asarray(states, np.float64)
    nxt = np.column_stack([states[:, 0] + 0.1 * states[:, 1],
                           states[:, 1] + 0.1 * (2 * np.asarray(actions) - 1)])
    return nxt, -nxt[:, 0] ** 2, np.abs(nxt[:, 0]) > 0.5


def _rollout_arrays(result: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    states, rewards, alive = result  # a models.Rollout, or any 3-tuple
    return np.asarray(states, np.float64), np.asarray(rewards, np.float64), np.asarray(alive, bool)


@never_raises
def check_open_loop_rollout(student_fn: Callable) -> bool:
    """Check fn(step_fn, start_states (B, D), actions (B, H)) -> (states, rewards, alive).

    Expected: models.open_loop_rollout: states (B, H + 1, D) starting with the
    start states, each next state from the model's own previous prediction and
    actions[:, t]; once a row terminates, its state is held, its rewards are 0 and
    alive is False from the next index on. Tested on a small linear system.
    """
    from mbrl_helpers.learning import models

    name = "open_loop_rollout"
    rng = np.random.default_rng(5)
    for horizon in (6, 10, 3):
        starts = np.column_stack([rng.uniform(-0.3, 0.3, 4), rng.uniform(-1, 1, 4)])
        starts[0] = [0.45, 1.0]   # leaves |x| <= 0.5 at the first step
        actions = rng.integers(2, size=(4, horizon))
        want = models.open_loop_rollout(_toy_step, starts, actions)
        got, error = call(student_fn, _toy_step, starts.copy(), actions.copy())
        case = f"Input: 4 start states (the first, x=0.45 m, v=1 m/s, ends at step 1), horizon H={horizon}."
        if error:
            return report(False, name, f"{case}\n{error}")
        try:
            states, rewards, alive = _rollout_arrays(got)
        except (TypeError, ValueError):
            return report(False, name, f"{case}\nReturn (states, rewards, alive), e.g. a models.Rollout.")
        if states.shape != want.states.shape:
            return report(False, name, f"{case}\nExpected states of shape {want.states.shape} (the start "
                           f"state plus H predictions), got {states.shape}.")
        if not np.allclose(states[:, 0], starts):
            return report(False, name, f"{case}\nstates[:, 0] must be the start states.")
        if not np.allclose(states, want.states):
            row, t = (int(i) for i in np.argwhere(~np.isclose(states, want.states).all(axis=2))[0])
            hint = (f"Row {row}, index {t}: expected {np.round(want.states[row, t], 4).tolist()}, got "
                    f"{np.round(states[row, t], 4).tolist()}.")
            if row == 0 and t >= 2:
                hint += " That row terminated at step 1: hold its state once the model says terminated."
            else:
                hint += " Feed the model its own prediction states[:, t] with actions[:, t]."
            return report(False, name, f"{case}\n{hint}")
        if not np.array_equal(alive, want.alive) or not np.allclose(rewards, want.rewards):
            return report(False, name, f"{case}\nStates are right, but alive or rewards are not: expected "
                           f"alive[0] = {want.alive[0].astype(int).tolist()}, rewards[0] = "
                           f"{np.round(want.rewards[0], 3).tolist()}; got {alive[0].astype(int).tolist()}, "
                           f"{np.round(rewards[0], 3).tolist()}.")
    return report(True, name)
