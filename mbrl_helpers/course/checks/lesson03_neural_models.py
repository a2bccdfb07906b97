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


def _normalisation_wrong_versions(x: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Common mistakes for x (N, D), each named by the hint it earns, and the (mean, std) it returns."""
    from mbrl_helpers.learning import models

    mean, std = x.mean(axis=0), x.std(axis=0)
    floored = np.where(std < models.STD_FLOOR, 1.0, std)
    return {
        "The statistics were taken per row (one per sample); normalisation needs one mean and one "
        "std per column, over all the samples.":
            (x.mean(axis=1), np.where(x.std(axis=1) < models.STD_FLOOR, 1.0, x.std(axis=1))),
        "The statistics were taken over the whole array (a single number); each column needs its own.":
            (np.asarray(x.mean()), np.asarray(x.std())),
        "That is the variance: the standard deviation is its square root.":
            (mean, np.where(std ** 2 < models.STD_FLOOR, 1.0, std ** 2)),
        "A constant column has std 0 (or, with a tiny epsilon added, almost 0): dividing by it blows "
        "up. Give such a column a std of 1 so it is left unscaled.":
            (mean, std),
        "The mean and the std are swapped: return the mean first.":
            (floored, mean),
    }


def _same(got: tuple[np.ndarray, np.ndarray], wrong: tuple[np.ndarray, np.ndarray]) -> bool:
    return all(g.shape == w.shape and np.allclose(g, w, rtol=1e-2) for g, w in zip(got, wrong, strict=True))


@never_raises
def check_normalisation_stats(student_fn: Callable) -> bool:
    """Check fn(x (N, D)) -> (mean (D,), std (D,)), as models.normalisation_stats.

    Per column (over the N samples); a constant column's std must be 1 (not 0),
    so dividing by it never blows up. The sample std (ddof=1) is accepted too.
    On a wrong answer, names the mistake when it is one of _normalisation_wrong_versions.
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
        if (got_mean.shape == want_mean.shape and got_std.shape == want_std.shape
                and np.allclose(got_mean, want_mean) and np.allclose(got_std, want_std, rtol=1e-2)):
            continue
        hint = (f"Expected mean {np.round(want_mean, 3).tolist()} and std {np.round(want_std, 3).tolist()} "
                f"(shape {want_mean.shape}: one per column); got mean of shape {got_mean.shape} and std "
                f"of shape {got_std.shape}: {np.round(got_mean, 3).ravel()[:6].tolist()}, "
                f"{np.round(got_std, 3).ravel()[:6].tolist()}.")
        for why, wrong in _normalisation_wrong_versions(x).items():
            if _same((got_mean, got_std), wrong):
                hint += " " + why
                break
        else:
            constant = x.std(axis=0) < models.STD_FLOOR
            if (got_std.shape == want_std.shape and np.allclose(got_mean, want_mean)
                    and np.allclose(got_std[~constant], want_std[~constant], rtol=1e-2)):
                hint += (f" Column {int(np.argmax(constant))} is constant: its std must be 1, so that "
                         "it is left unscaled.")
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


def _rollout_wrong_versions(step_fn: Callable, starts: np.ndarray,
                            actions: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Common mistakes, each named by the hint it earns: (states, rewards, alive) as the mistake returns them.

    starts (B, D), actions (B, H); the right answer is models.open_loop_rollout.
    """
    batch, horizon = actions.shape
    dim = starts.shape[1]

    def rollout(from_start: bool = False, hold: bool = True, zero_rewards: bool = True,
                drop_last_reward: bool = False, early_alive: bool = False, steps: int = horizon):
        states = np.empty((batch, steps + 1, dim))
        rewards = np.zeros((batch, steps))
        alive = np.ones((batch, steps + 1), bool)
        states[:, 0] = starts
        for t in range(steps):
            nxt, r, term = step_fn(starts if from_start else states[:, t], actions[:, t])
            live = alive[:, t] if hold else np.ones(batch, bool)
            states[:, t + 1] = np.where(live[:, None], nxt, states[:, t])
            still = live & ~np.asarray(term, bool)
            rewards[:, t] = np.where(still if drop_last_reward else (live if zero_rewards else True), r, 0.0)
            alive[:, t + 1] = still if hold else alive[:, t] & ~np.asarray(term, bool)
            if early_alive:
                alive[:, t] &= ~np.asarray(term, bool)
        return states, rewards, alive

    return {
        "Each step was predicted from the start states again: an open-loop rollout feeds the model its "
        "own previous prediction (stepping from given states is one-step, closed-loop prediction).":
            rollout(from_start=True),
        "A row went on after the model predicted termination: from then on hold its state, and "
        "count no more reward.":
            rollout(hold=False, zero_rewards=False),
        "The states are held after termination, but the rewards after it still count: a row that has "
        "ended earns nothing more.":
            rollout(zero_rewards=False),
        "The reward of the step that terminates was dropped: that step still happened, so its reward "
        "counts; only the steps after it earn nothing.":
            rollout(drop_last_reward=True),
        "alive turns False one index too early: the state a row reaches on its terminal step is still "
        "part of the rollout, so alive is False only from the index after it.":
            rollout(early_alive=True),
        "One model step too few: states holds the start state plus one prediction for every action, "
        "H + 1 states in all.":
            rollout(steps=horizon - 1),
    }


@never_raises
def check_open_loop_rollout(student_fn: Callable) -> bool:
    """Check fn(step_fn, start_states (B, D), actions (B, H)) -> (states, rewards, alive).

    Expected: models.open_loop_rollout: states (B, H + 1, D) starting with the
    start states, each next state from the model's own previous prediction and
    actions[:, t]; once a row terminates, its state is held, its rewards are 0 and
    alive is False from the next index on. Tested on a small linear system. On a wrong
    answer, names the mistake when it is one of _rollout_wrong_versions.
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
        if (states.shape == want.states.shape and np.allclose(states, want.states)
                and np.array_equal(alive, want.alive) and rewards.shape == want.rewards.shape
                and np.allclose(rewards, want.rewards)):
            continue
        wrong_versions = _rollout_wrong_versions(_toy_step, starts, actions)
        for why, (w_states, w_rewards, w_alive) in wrong_versions.items():
            if (states.shape == w_states.shape and np.allclose(states, w_states)
                    and rewards.shape == w_rewards.shape and np.allclose(rewards, w_rewards)
                    and np.array_equal(alive, w_alive)):
                return report(False, name, f"{case}\n{why}")
        if states.shape != want.states.shape:
            hint = (f"Expected states of shape {want.states.shape} (the start state plus H predictions), "
                    f"got {states.shape}.")
        elif not np.allclose(states[:, 0], starts):
            hint = "states[:, 0] must be the start states."
        elif not np.allclose(states, want.states):
            row, t = (int(i) for i in np.argwhere(~np.isclose(states, want.states).all(axis=2))[0])
            hint = (f"Row {row}, index {t}: expected {np.round(want.states[row, t], 4).tolist()}, got "
                    f"{np.round(states[row, t], 4).tolist()}.")
            if row == 0 and t >= 2:
                hint += " That row terminated at step 1: hold its state once the model says terminated."
            else:
                hint += " Feed the model its own prediction at index t together with the action at t."
        else:
            hint = (f"States are right, but alive or rewards are not: expected alive[0] = "
                    f"{want.alive[0].astype(int).tolist()}, "
                    f"rewards[0] = {np.round(want.rewards[0], 3).tolist()}; "
                    f"got {alive[0].astype(int).tolist()}, {np.round(rewards[0], 3).ravel().tolist()}.")
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)
