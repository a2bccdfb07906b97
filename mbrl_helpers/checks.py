"""Self-checks for the notebooks' exercises.

Each `check_*` takes the student's function, runs it on random cases against
the package's reference, and prints in plain words whether it is right; if
not, one concrete hint: the input, what was expected and what came back.
It returns True or False and never raises because of a wrong answer.

The shared machinery (time limit, feedback) comes first; then one section per lesson, in the
course's order (notebook 01, 02, ...).
"""

from __future__ import annotations

import contextlib
import functools
import math
import signal
import threading
from collections.abc import Callable

import numpy as np

from mbrl_helpers import tabular


def _report(ok: bool, name: str, hint: str = "") -> bool:
    if ok:
        print(f"Correct: {name} matches the reference on every test case.")
    else:
        print(f"Not yet: {name} differs from the reference.\n{hint}")
    return ok


# Seconds a student's function may take on one test case before the check gives up on it.
TIME_LIMIT_S = 10.0


class _TimedOut(BaseException):
    """Raised into the student's code by the alarm (BaseException: `except Exception` won't eat it)."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise _TimedOut in this thread after `seconds`, where a timer signal can (the main
    thread on Unix, where Jupyter runs cells); elsewhere, no limit."""
    if (not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def alarm(_signum, _frame):
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _copies(args: tuple) -> tuple:
    """Arrays copied (a dry run must not change the student's inputs); everything else as is."""
    return tuple(arg.copy() if isinstance(arg, np.ndarray) else arg for arg in args)


def _endless_in_python(fn: Callable, args: tuple) -> bool:
    """For a numba-compiled function: does its Python version (fn.py_func) run past the time limit?

    Compiled code cannot be interrupted (a signal is acted on only when Python runs again), so an
    endless loop in an @njit answer would hang the kernel. Its Python version, run first on copies
    of the inputs, can be stopped by the alarm. Errors in the Python version are left to the
    compiled call, whose message the student should see.
    """
    try:
        with _time_limit(TIME_LIMIT_S):
            fn.py_func(*_copies(args))
    except _TimedOut:
        return True
    except Exception:  # noqa: BLE001 - reported by the compiled call below
        pass
    return False


_ENDLESS = ("Your function did not return within {limit:g} s on this small case: look for a loop "
            "that never ends (a counter never updated, a condition that stays true).")


def _call(fn: Callable, *args: object) -> tuple[object, str]:
    """Call the student's function with a time limit; return (result, error message or '')."""
    limit = TIME_LIMIT_S
    if callable(getattr(fn, "py_func", None)) and _endless_in_python(fn, args):
        return None, (_ENDLESS.format(limit=limit) + " (It is compiled with numba, which cannot be "
                      "stopped, so the check ran its Python version to find out.)")
    try:
        with _time_limit(limit):
            return fn(*args), ""
    except _TimedOut:
        return None, _ENDLESS.format(limit=limit)
    except NotImplementedError:
        return None, "The function still raises NotImplementedError: replace the stub with your code."
    except Exception as error:  # noqa: BLE001 - any error is feedback for the student
        return None, f"Calling it raised {type(error).__name__}: {error}"


def _never_raises(check: Callable[..., bool]) -> Callable[..., bool]:
    """A check prints feedback and returns False on any answer, whatever its type or shape."""

    @functools.wraps(check)
    def guarded(student_fn: object, *args: object, **kwargs: object) -> bool:
        name = check.__name__.removeprefix("check_")
        if not callable(student_fn):
            return _report(False, name, f"Pass your function itself (e.g. {name}, without "
                           f"parentheses); got {type(student_fn).__name__} {student_fn!r:.80}.")
        try:
            return check(student_fn, *args, **kwargs)
        except _TimedOut:
            return _report(False, name, f"Your function did not return within {TIME_LIMIT_S:g} s.")
        except Exception as error:  # noqa: BLE001 - the answer's form was not what the check reads
            return _report(False, name, "Your function ran, but its answer could not be compared "
                           f"with the reference ({type(error).__name__}: {error}). Check what it "
                           "returns (type and shape) and what it changes in place against the "
                           "exercise's description.")

    return guarded


def _number(value: object, error: str) -> tuple[float, str]:
    """The student's return value as a float, or an error message saying what was wrong."""
    if error:
        return math.nan, error
    try:
        return float(value), ""
    except (TypeError, ValueError):
        return math.nan, f"Return a number; got {value!r}."

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
        got_td, error = _call(student_fn, got_q, s, a, r, s_next, terminated, alpha, gamma)
        case = (f"Input: s={s}, a={a}, r={r}, s_next={s_next}, terminated={terminated}, "
                f"alpha={alpha}, gamma={gamma}, q[s_next]={np.round(q[s_next], 3).tolist()}, "
                f"q[s, a]={q[s, a]:.3f}.")
        if error:
            return _report(False, name, f"{case}\n{error}")
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
            return _report(False, name, f"{case}\n{hint}")
        if got_td is None or not np.isclose(float(got_td), expected_td):
            return _report(False, name, f"{case}\nq is right, but return the TD error "
                           f"(target - old q[s, a]) = {expected_td:.4f}; got {got_td!r}.")
    return _report(True, name)


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
        _, error = _call(student_fn, got, model, n, alpha, gamma)
        case = f"Input: a model with {int(model.n_seen[0])} seen states, n={n}, alpha={alpha}, gamma={gamma}."
        if error:
            return _report(False, name, f"{case}\n{error}")
        if not np.allclose(got, expected):
            hint = _diagnose_planning(q, model, n, alpha, gamma, seed, got)
            return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


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


# == notebook 02: the Dyna-Q+ planned reward and the priority-queue update =========================

def _planned_reward_reference(model_reward: np.ndarray, last_tried: np.ndarray, s: int, a: int,
                              now: int, kappa: float) -> float:
    return float(model_reward[s, a] + kappa * np.sqrt(now - last_tried[s, a]))


def check_planned_reward(student_fn: Callable) -> bool:
    """Check Dyna-Q+'s planned reward fn(model_reward, last_tried, s, a, now, kappa).

    It must return model_reward[s, a] + kappa * sqrt(tau), tau = now - last_tried[s, a]
    (real steps since (s, a) was last tried), as dyna_q_plus.plus_planning uses.
    """
    name = "planned_reward"
    rng = np.random.default_rng(4)
    for _ in range(30):
        n_states = int(rng.integers(2, 6))
        now = int(rng.integers(20, 400))
        last_tried = rng.integers(0, now, size=(n_states, 4))
        model_reward = np.where(rng.random((n_states, 4)) < 0.3, 1.0, 0.0)
        s, a = int(rng.integers(n_states)), int(rng.integers(4))
        kappa = float(rng.choice([1e-3, 1e-2, 0.1]))
        expected = _planned_reward_reference(model_reward, last_tried, s, a, now, kappa)
        got, error = _call(student_fn, model_reward.copy(), last_tried.copy(), s, a, now, kappa)
        tau = now - int(last_tried[s, a])
        case = (f"Input: s={s}, a={a}, model_reward[s, a]={model_reward[s, a]}, last_tried[s, a]="
                f"{int(last_tried[s, a])}, now={now}, kappa={kappa}.")
        got_value, error = _number(got, error)
        if error:
            return _report(False, name, f"{case}\n{error}")
        if np.isclose(got_value, expected):
            continue
        r = model_reward[s, a]
        hint = f"Expected {expected:.5f}, got {got_value:.5f}."
        if np.isclose(got_value, r + kappa * tau):
            hint += " The bonus grows with the square root of tau: kappa * sqrt(tau), not kappa * tau."
        elif np.isclose(got_value, r + np.sqrt(kappa * tau)):
            hint += " Only tau goes under the square root: kappa * sqrt(tau)."
        elif np.isclose(got_value, r + kappa * np.sqrt(last_tried[s, a])):
            hint += (f" tau is the time since (s, a) was last tried: now - last_tried[s, a] = {tau},"
                     " not last_tried[s, a] itself.")
        elif np.isclose(got_value, kappa * np.sqrt(tau)):
            hint += " The bonus is added to the modelled reward model_reward[s, a]; it does not replace it."
        return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


def _queue_update_reference(queue: dict, pair: tuple, td_error: float, theta: float) -> None:
    priority = abs(td_error)
    if priority > theta:
        queue[pair] = max(priority, queue.get(pair, 0.0))


def check_queue_update(student_fn: Callable) -> bool:
    """Check prioritized sweeping's queue update fn(queue, pair, td_error, theta).

    queue is a dict pair -> priority. The pair must be queued with priority
    |td_error| if that exceeds theta; a pair already queued keeps the larger
    priority; nothing else may change. (sweeping.pq_push does this on a heap.)
    """
    name = "queue_update"
    rng = np.random.default_rng(5)
    cases = [({}, (1, 2), 0.5, 1e-4), ({}, (1, 2), -0.5, 1e-4), ({}, (0, 0), 1e-4, 1e-4),
             ({(0, 1): 0.9}, (0, 1), 0.2, 1e-4), ({(0, 1): 0.1}, (0, 1), -0.7, 1e-4)]
    for _ in range(30):
        queue = {(int(rng.integers(5)), int(rng.integers(4))): float(np.round(rng.random(), 3))
                 for _ in range(int(rng.integers(0, 5)))}
        pair = (int(rng.integers(5)), int(rng.integers(4)))
        cases.append((queue, pair, float(np.round(rng.normal(scale=0.5), 4)), float(rng.choice([1e-4, 0.1]))))
    for queue, pair, td_error, theta in cases:
        expected = dict(queue)
        _queue_update_reference(expected, pair, td_error, theta)
        got = dict(queue)
        _, error = _call(student_fn, got, pair, td_error, theta)
        case = f"Input: queue={queue}, pair={pair}, td_error={td_error}, theta={theta}."
        if error:
            return _report(False, name, f"{case}\n{error}")
        if got == expected:
            continue
        hint = f"Expected the queue to become {expected}, got {got}."
        if td_error < 0 and abs(td_error) > theta and pair not in got:
            hint += " The priority is the size of the TD error, |td_error|: negative errors count too."
        elif abs(td_error) <= theta and got != queue:
            hint += " Queue a pair only if its priority is strictly greater than theta."
        elif pair in queue and got.get(pair) == abs(td_error) < queue[pair]:
            hint += " A pair already in the queue keeps the larger of its old and new priorities."
        return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


# == notebook 03: normalisation statistics and the open-loop rollout ===============================
# mbrl_helpers.models holds the reference functions.

def _normalisation_cases(seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    cases = []
    for n, d in ((200, 3), (150, 4), (300, 2)):
        x = rng.normal(size=(n, d)) * rng.uniform(0.01, 10, size=d) + rng.uniform(-5, 5, size=d)
        cases.append(x)
    cases[1][:, 2] = 1.0   # a constant column, like CartPole's reward
    return cases


def check_normalisation_stats(student_fn: Callable) -> bool:
    """Check fn(x (N, D)) -> (mean (D,), std (D,)), as models.normalisation_stats.

    Per column (over the N samples); a constant column's std must be 1 (not 0),
    so dividing by it never blows up. The sample std (ddof=1) is accepted too.
    """
    from mbrl_helpers import models

    name = "normalisation_stats"
    for x in _normalisation_cases():
        want_mean, want_std = models.normalisation_stats(x)
        got, error = _call(student_fn, x.copy())
        case = f"Input: x of shape {x.shape} (column 2 of the 150-row case is constant)."
        if error:
            return _report(False, name, f"{case}\n{error}")
        try:
            got_mean, got_std = (np.asarray(v, np.float64) for v in got)
        except (TypeError, ValueError):
            return _report(False, name, f"{case}\nReturn two arrays: (mean, std).")
        if got_mean.shape != want_mean.shape or got_std.shape != want_std.shape:
            return _report(False, name, f"{case}\nExpected mean and std of shape {want_mean.shape} (one "
                           f"per column), got {got_mean.shape} and {got_std.shape}. Reduce over axis=0, "
                           "the samples.")
        if not np.allclose(got_mean, want_mean):
            return _report(False, name, f"{case}\nExpected mean {np.round(want_mean, 3).tolist()}, got "
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
            return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


def _toy_step(states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A small linear system with a termination rule: x' = x + 0.1 v, v' = v + 0.1 (2a - 1)."""
    states = np.asarray(states, np.float64)
    nxt = np.column_stack([states[:, 0] + 0.1 * states[:, 1],
                           states[:, 1] + 0.1 * (2 * np.asarray(actions) - 1)])
    return nxt, -nxt[:, 0] ** 2, np.abs(nxt[:, 0]) > 0.5


def _rollout_arrays(result: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    states, rewards, alive = result  # a models.Rollout, or any 3-tuple
    return np.asarray(states, np.float64), np.asarray(rewards, np.float64), np.asarray(alive, bool)


def check_open_loop_rollout(student_fn: Callable) -> bool:
    """Check fn(step_fn, start_states (B, D), actions (B, H)) -> (states, rewards, alive).

    Expected: models.open_loop_rollout: states (B, H + 1, D) starting with the
    start states, each next state from the model's own previous prediction and
    actions[:, t]; once a row terminates, its state is held, its rewards are 0 and
    alive is False from the next index on. Tested on a small linear system.
    """
    from mbrl_helpers import models

    name = "open_loop_rollout"
    rng = np.random.default_rng(5)
    for horizon in (6, 10, 3):
        starts = np.column_stack([rng.uniform(-0.3, 0.3, 4), rng.uniform(-1, 1, 4)])
        starts[0] = [0.45, 1.0]   # leaves |x| <= 0.5 at the first step
        actions = rng.integers(2, size=(4, horizon))
        want = models.open_loop_rollout(_toy_step, starts, actions)
        got, error = _call(student_fn, _toy_step, starts.copy(), actions.copy())
        case = f"Input: 4 start states (the first, x=0.45 m, v=1 m/s, ends at step 1), horizon H={horizon}."
        if error:
            return _report(False, name, f"{case}\n{error}")
        try:
            states, rewards, alive = _rollout_arrays(got)
        except (TypeError, ValueError):
            return _report(False, name, f"{case}\nReturn (states, rewards, alive), e.g. a models.Rollout.")
        if states.shape != want.states.shape:
            return _report(False, name, f"{case}\nExpected states of shape {want.states.shape} (the start "
                           f"state plus H predictions), got {states.shape}.")
        if not np.allclose(states[:, 0], starts):
            return _report(False, name, f"{case}\nstates[:, 0] must be the start states.")
        if not np.allclose(states, want.states):
            row, t = (int(i) for i in np.argwhere(~np.isclose(states, want.states).all(axis=2))[0])
            hint = (f"Row {row}, index {t}: expected {np.round(want.states[row, t], 4).tolist()}, got "
                    f"{np.round(states[row, t], 4).tolist()}.")
            if row == 0 and t >= 2:
                hint += " That row terminated at step 1: hold its state once the model says terminated."
            else:
                hint += " Feed the model its own prediction states[:, t] with actions[:, t]."
            return _report(False, name, f"{case}\n{hint}")
        if not np.array_equal(alive, want.alive) or not np.allclose(rewards, want.rewards):
            return _report(False, name, f"{case}\nStates are right, but alive or rewards are not: expected "
                           f"alive[0] = {want.alive[0].astype(int).tolist()}, rewards[0] = "
                           f"{np.round(want.rewards[0], 3).tolist()}; got {alive[0].astype(int).tolist()}, "
                           f"{np.round(rewards[0], 3).tolist()}.")
    return _report(True, name)


# == notebook 04: learning from imagined experience (DQN target, branched rollout) =================
# The reference functions live in mbrl_helpers.dqn and mbrl_helpers.imagined.

def _dqn_target_reference(rewards: np.ndarray, next_q: np.ndarray, terminated: np.ndarray,
                          gamma: float) -> np.ndarray:
    import torch

    from mbrl_helpers import dqn

    return dqn.td_targets(torch.as_tensor(rewards), torch.as_tensor(next_q), torch.as_tensor(terminated),
                          gamma).numpy()


def _dqn_target_wrong_versions(rewards, next_q, terminated, gamma) -> dict[str, np.ndarray]:
    """Common mistakes, each named by the hint it earns."""
    best = next_q.max(axis=1)
    not_done = 1.0 - terminated
    return {
        "Terminal transitions must not bootstrap: multiply the future term by (1 - terminated).":
            rewards + gamma * best,
        "The mask is the wrong way round: the future counts where terminated is False.":
            rewards + gamma * terminated * best,
        "Take the max over actions (axis=1), one value per transition.":
            rewards + gamma * not_done * next_q.max(axis=0)[: len(rewards)]
            if next_q.shape[0] >= 1 and next_q.shape[1] >= len(rewards) else rewards * np.nan,
        "Use the best next action (max), not the average.":
            rewards + gamma * not_done * next_q.mean(axis=1),
        "The reward is received now: it is not discounted. y = r + gamma * max_a' Q(s', a').":
            gamma * (rewards + not_done * best),
    }


def check_dqn_target(student_fn: Callable) -> bool:
    """Check fn(rewards (B,), next_q (B, A), terminated (B,) bool, gamma) -> (B,) DQN targets.

    Expected: y = r + gamma * (1 - terminated) * max_a' next_q[:, a'] (dqn.td_targets).
    """
    name = "dqn_target"
    rng = np.random.default_rng(4)
    cases = [(np.array([1.0, 1.0]), np.array([[2.0, 3.0], [5.0, 4.0]]), np.array([False, True]), 0.9)]
    for _ in range(20):
        b, a = int(rng.integers(2, 7)), int(rng.integers(2, 4))
        cases.append((np.round(rng.normal(size=b), 2), np.round(rng.normal(size=(b, a)) * 3, 2),
                      rng.random(b) < 0.4, float(rng.choice([0.5, 0.9, 0.99]))))
    for rewards, next_q, terminated, gamma in cases:
        terminated[0] = True  # every case has a terminal and (b >= 2) usually a non-terminal row
        expected = _dqn_target_reference(rewards, next_q, terminated, gamma)
        got, error = _call(student_fn, rewards.copy(), next_q.copy(), terminated.copy(), gamma)
        case = (f"Input: rewards={rewards.tolist()}, next_q={next_q.tolist()}, "
                f"terminated={terminated.tolist()}, gamma={gamma}.")
        if error:
            return _report(False, name, f"{case}\n{error}")
        try:
            got_arr = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            return _report(False, name, f"{case}\nReturn an array of {len(rewards)} targets; got {got!r}.")
        if got_arr.shape != expected.shape:
            return _report(False, name, f"{case}\nExpected one target per transition, shape "
                           f"{expected.shape}; got shape {got_arr.shape}.")
        if not np.allclose(got_arr, expected, atol=1e-5):
            hint = f"Expected {np.round(expected, 4).tolist()}, got {np.round(got_arr, 4).tolist()}."
            for why, wrong in _dqn_target_wrong_versions(rewards, next_q, terminated, gamma).items():
                if np.allclose(got_arr, wrong, atol=1e-5):
                    hint += " " + why
                    break
            return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


def _rows(batch: dict) -> np.ndarray:
    """Transitions as sorted rows (order-free comparison)."""
    table = np.column_stack([np.asarray(batch["states"], float), np.asarray(batch["actions"], float),
                             np.asarray(batch["rewards"], float), np.asarray(batch["next_states"], float),
                             np.asarray(batch["terminated"], float)])
    return table[np.lexsort(table.T[::-1])] if len(table) else table


def _rollout_without_stop(step_fn: Callable, policy: Callable, starts: np.ndarray, horizon: int) -> dict:
    """The typical mistake: every rollout makes `horizon` steps, even past a terminal one."""
    parts, states = [], starts
    for _ in range(horizon):
        actions = policy(states)
        next_states, rewards, terminated = step_fn(states, actions)
        parts.append((states, actions, rewards, next_states, terminated))
        states = next_states
    keys = ("states", "actions", "rewards", "next_states", "terminated")
    return {key: np.concatenate([p[i] for p in parts]) for i, key in enumerate(keys)}


def check_branched_rollout(student_fn: Callable) -> bool:
    """Check fn(step_fn, policy, start_states (M, D), horizon) -> dict of imagined transitions.

    Expected: the same transitions as imagined.branched_rollout (any order):
    up to `horizon` model steps from each start state, none after a terminal one.
    Tested with CartPole's true dynamics as the model and a fixed policy.
    """
    from mbrl_helpers import imagined
    from mbrl_helpers.simulators import cartpole_step

    def model(states, actions):
        return cartpole_step(np.asarray(states, np.float64), np.asarray(actions, np.int64))

    def policy(states):  # push towards the side the pole leans to, except when moving fast
        states = np.asarray(states)
        return ((states[:, 2] > 0) ^ (np.abs(states[:, 1]) > 1.5)).astype(np.int64)

    name = "branched_rollout"
    rng = np.random.default_rng(8)
    for case_index in range(10):
        m, horizon = int(rng.integers(2, 6)), int(rng.integers(1, 8))
        starts = (rng.normal(size=(m, 4)) * [0.5, 0.5, 0.05, 0.5]).astype(np.float32)
        starts[0] = [0.0, 0.0, 0.2, 2.0]   # about to fall: the rollout must stop after 1 step
        if case_index == 0:
            horizon = 4
        expected = imagined.branched_rollout(model, policy, starts, horizon)
        got, error = _call(student_fn, model, policy, starts.copy(), horizon)
        case = f"Input: {m} start states (the first about to fall: theta = 0.2 rad), horizon={horizon}."
        if error:
            return _report(False, name, f"{case}\n{error}")
        try:
            got_rows = _rows(got)
        except (TypeError, KeyError, ValueError) as problem:
            return _report(False, name, f"{case}\nReturn a dict with states, actions, rewards, "
                           f"next_states and terminated arrays ({type(problem).__name__}: {problem}).")
        want_rows = _rows(expected)
        if got_rows.shape == want_rows.shape and np.allclose(got_rows, want_rows, atol=1e-5):
            continue
        n_got, n_want = len(got_rows), len(want_rows)
        hint = f"Expected {n_want} transitions, got {n_got}."
        wrong_versions = {
            " The rollout went on after a terminal step: continue only from the next states that "
            "are not terminated (states = next_states[~terminated]).":
                _rollout_without_stop(model, policy, starts, horizon),
            f" That is one model step too many per rollout: make exactly horizon = {horizon} steps.":
                imagined.branched_rollout(model, policy, starts, horizon + 1),
            f" That is one model step too few per rollout: make exactly horizon = {horizon} steps.":
                imagined.branched_rollout(model, policy, starts, horizon - 1),
        }
        for why, wrong in wrong_versions.items():
            wrong_rows = _rows(wrong)
            if wrong_rows.shape == got_rows.shape and np.allclose(wrong_rows, got_rows, atol=1e-5):
                hint += why
                break
        else:
            hint += (" Each step's states are the previous step's next states, actions come from "
                     "policy(states), and every transition made is kept, terminal ones included.")
        return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


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


def check_cem_refit_categorical(student_fn: Callable) -> bool:
    """Check the discrete CEM update fn(probs (H, K), elites (M, H) int, smoothing) -> (H, K).

    new[t, k] = smoothing * probs[t, k] + (1 - smoothing) * (share of the elites taking k at step t),
    as mpc.refit_categorical (without its probability floor).
    """
    from mbrl_helpers import mpc

    name = "refit_categorical"
    rng = np.random.default_rng(5)
    for _ in range(30):
        h, k, m = int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(3, 8))
        probs = rng.dirichlet(np.ones(k), size=h)
        elites = rng.integers(k, size=(m, h))
        smoothing = float(rng.choice([0.1, 0.25, 0.5]))
        expected = mpc.refit_categorical(probs, elites, smoothing)
        got, error = _call(student_fn, probs.copy(), elites.copy(), smoothing)
        got, error = _array(got, error, (h, k))
        case = (f"Input: probs={np.round(probs, 2).tolist()}, elites={elites.tolist()}, "
                f"smoothing={smoothing}.")
        if error:
            return _report(False, name, f"{case}\n{error}")
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
        return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


def _score_reference(rewards: np.ndarray, terminated: np.ndarray, gamma: float) -> np.ndarray:
    alive_before = np.concatenate([np.ones((len(rewards), 1), bool),
                                   ~np.cumsum(terminated, axis=1)[:, :-1].astype(bool)], axis=1)
    return (rewards * gamma ** np.arange(rewards.shape[1]) * alive_before).sum(axis=1)


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
        got, error = _call(student_fn, rewards.copy(), terminated.copy(), gamma)
        got, error = _array(got, error, (n,))
        case = (f"Input: rewards={rewards.tolist()}, terminated={terminated.astype(int).tolist()}, "
                f"gamma={gamma}.")
        if error:
            return _report(False, name, f"{case}\n{error}")
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
        return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


# == notebook 06: Monte Carlo Tree Search (UCB1 score, backup) =====================================
# The reference functions live in mbrl_helpers.mcts.

def _ucb1_wrong_versions(q: float, big_n: int, n: int, c: float) -> dict[str, float]:
    """Common mistakes, each named by the hint it earns."""
    return {
        "The exploration bonus needs the square root: c * sqrt(ln N / n).":
            q + c * math.log(big_n) / n,
        "N and n are swapped: the log is of the parent's visits N, divided by the child's n.":
            q + c * math.sqrt(math.log(n) / big_n),
        "Take the natural log of N: c * sqrt(ln N / n), not c * sqrt(N / n).":
            q + c * math.sqrt(big_n / n),
        "The bonus is added, not subtracted: rarely tried children must look better.":
            q - c * math.sqrt(math.log(big_n) / n),
        "This course writes UCB1 as q + c * sqrt(ln N / n), without the 2 inside the root "
        "(it is folded into c = sqrt(2)).": q + c * math.sqrt(2 * math.log(big_n) / n),
    }


def check_ucb1_score(student_fn: Callable) -> bool:
    """Check a UCB1 score fn(q, parent_visits, child_visits, c) against mcts.ucb1_score.

    q in [0, 1] (normalised); an unvisited child (child_visits = 0) must score +inf.
    """
    from mbrl_helpers import mcts

    name = "ucb1_score"
    rng = np.random.default_rng(5)
    cases = [(0.5, 10, 0, 1.0), (0.25, 1, 1, 1.0), (0.0, 50, 5, 0.0)]
    for _ in range(40):
        big_n = int(rng.integers(2, 500))
        cases.append((float(np.round(rng.random(), 3)), big_n, int(rng.integers(1, big_n + 1)),
                      float(rng.choice([0.5, 1.0, 1.41, 2.0]))))
    for q, big_n, n, c in cases:
        expected = mcts.ucb1_score(q, big_n, n, c)
        got, error = _call(student_fn, q, big_n, n, c)
        case = f"Input: q={q}, parent_visits N={big_n}, child_visits n={n}, c={c}."
        got_value, error = _number(got, error)
        if error:
            return _report(False, name, f"{case}\n{error}")
        if np.isinf(expected):
            if not (np.isinf(got_value) and got_value > 0):
                return _report(False, name, f"{case}\nExpected +inf (an unvisited child is "
                               f"always tried first), got {got_value!r}.")
            continue
        if not np.isclose(got_value, expected, rtol=1e-9, atol=1e-12):
            hint = f"Expected {expected:.6f}, got {got_value:.6f}."
            for why, wrong in _ucb1_wrong_versions(q, big_n, n, c).items():
                if np.isclose(got_value, wrong, rtol=1e-9, atol=1e-12):
                    hint += " " + why
                    break
            return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


def check_backup(student_fn: Callable) -> bool:
    """Check fn(rewards, leaf_value, gamma) -> (k + 1,) returns along a path, root first.

    rewards: (k,) rewards of the transitions root -> ... -> leaf; the answer must
    equal mcts.path_returns: G_k = leaf_value, G_i = rewards[i] + gamma * G_{i+1}.
    """
    from mbrl_helpers import mcts

    name = "path_returns"
    rng = np.random.default_rng(6)
    cases = [(np.array([1.0, 2.0]), 3.0, 0.5), (np.array([]), 1.5, 0.9)]
    for _ in range(30):
        k = int(rng.integers(1, 6))
        cases.append((np.round(rng.normal(size=k), 2), float(np.round(rng.normal(), 2)),
                      float(rng.choice([0.5, 0.9, 0.95]))))
    for rewards, leaf_value, gamma in cases:
        expected = mcts.path_returns(rewards, leaf_value, gamma)
        got, error = _call(student_fn, rewards.copy(), leaf_value, gamma)
        case = f"Input: rewards={rewards.tolist()}, leaf_value={leaf_value}, gamma={gamma}."
        if error:
            return _report(False, name, f"{case}\n{error}")
        got_arr = np.asarray(got, dtype=float) if got is not None else np.array([])
        if got_arr.shape != expected.shape:
            return _report(False, name, f"{case}\nExpected {len(expected)} returns (one per "
                           f"node: the k = {len(rewards)} rewards plus the leaf), got shape "
                           f"{got_arr.shape}.")
        if not np.allclose(got_arr, expected):
            hint = f"Expected {np.round(expected, 4).tolist()}, got {np.round(got_arr, 4).tolist()}."
            undiscounted = mcts.path_returns(rewards, leaf_value, 1.0)
            if gamma != 1 and np.allclose(got_arr, undiscounted):
                hint += " Discount on the way up: G_i = r_{i+1} + gamma * G_{i+1}."
            elif np.allclose(got_arr, expected[::-1]):
                hint += " The order is reversed: the root's return comes first, the leaf's last."
            elif np.allclose(got_arr[:-1], gamma * (rewards + got_arr[1:])):
                hint += " The reward is received now, so it is not discounted: r + gamma * G."
            return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


# == notebook 07: planning with learned models (PUCT score, search values as Q targets) ============
# The reference functions live in mbrl_helpers.puct and mbrl_helpers.dyna_mcts.

def _puct_wrong_versions(q: float, prior: float, big_n: int, n: int, c: float) -> dict[str, float]:
    """Common mistakes, each named by the hint it earns."""
    return {
        "The prior multiplies the exploration bonus: c * P * sqrt(N) / (1 + n).":
            q + c * math.sqrt(big_n) / (1 + n),
        "Divide by 1 + n, not n: an unvisited child (n = 0) must get a finite bonus, scaled by its prior.":
            q + c * prior * math.sqrt(big_n) / max(n, 1e-300),
        "PUCT takes the square root of the parent's visits, not their log (that is UCB1).":
            q + c * prior * math.sqrt(math.log(max(big_n, 1))) / (1 + n),
        "Take the square root of N: c * P * sqrt(N) / (1 + n).":
            q + c * prior * big_n / (1 + n),
        "The bonus is added, not subtracted.":
            q - c * prior * math.sqrt(big_n) / (1 + n),
    }


def check_puct_score(student_fn: Callable) -> bool:
    """Check a PUCT score fn(q, prior, parent_visits, child_visits, c) against puct.puct_score."""
    from mbrl_helpers import puct

    name = "puct_score"
    rng = np.random.default_rng(7)
    cases = [(0.5, 0.5, 10, 0, 1.25), (0.0, 1.0, 1, 0, 1.0), (0.8, 0.1, 100, 30, 2.0)]
    for _ in range(40):
        big_n = int(rng.integers(1, 500))
        cases.append((float(np.round(rng.random(), 3)), float(np.round(rng.random(), 3)), big_n,
                      int(rng.integers(0, big_n + 1)), float(rng.choice([0.5, 1.0, 1.25, 2.0]))))
    for q, prior, big_n, n, c in cases:
        expected = puct.puct_score(q, prior, big_n, n, c)
        got, error = _call(student_fn, q, prior, big_n, n, c)
        case = f"Input: q={q}, prior P={prior}, parent_visits N={big_n}, child_visits n={n}, c={c}."
        got_value, error = _number(got, error)
        if error:
            return _report(False, name, f"{case}\n{error}")
        if not np.isclose(got_value, expected, rtol=1e-9, atol=1e-12):
            hint = f"Expected {expected:.6f}, got {got_value:.6f}."
            for why, wrong in _puct_wrong_versions(q, prior, big_n, n, c).items():
                if np.isclose(got_value, wrong, rtol=1e-9, atol=1e-12):
                    hint += " " + why
                    break
            return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


def _search_targets_cases(seed: int = 8, n_cases: int = 30) -> list[tuple]:
    from mbrl_helpers.dyna_mcts import SearchTargets

    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        q = np.round(rng.uniform(0, 1, size=(6, 4)), 3)
        values = np.round(rng.uniform(0, 1, size=4), 3)
        values[rng.random(4) < 0.25] = np.nan                  # not expanded by the search
        tried = rng.random(4) < 0.7
        targets = SearchTargets(values, rng.integers(0, 10, size=4), tried, 20, 21)
        cases.append((q, int(rng.integers(6)), targets, float(rng.choice([0.1, 0.5, 1.0]))))
    return cases


def check_search_targets_update(student_fn: Callable) -> bool:
    """Check fn(q, root, targets, alpha) -> None (updates q in place) against
    dyna_mcts.apply_search_targets: move Q(root, a) towards the search value for tried,
    expanded actions only."""
    from mbrl_helpers import dyna_mcts

    name = "search_targets_update"
    for q, root, targets, alpha in _search_targets_cases():
        expected = q.copy()
        dyna_mcts.apply_search_targets(expected, root, targets, alpha)
        got = q.copy()
        _, error = _call(student_fn, got, root, targets, alpha)
        case = (f"Input: root={root}, alpha={alpha}, Q[root]={q[root].tolist()}, search q_values="
                f"{targets.q_values.tolist()}, tried={targets.tried.tolist()}.")
        if error:
            return _report(False, name, f"{case}\n{error}")
        if np.isnan(got).any():
            return _report(False, name, f"{case}\nQ now holds NaN: skip the actions the search did not "
                           "expand (their search value is NaN).")
        if not np.allclose(got, expected):
            hint = (f"Expected Q[root] = {np.round(expected[root], 4).tolist()}, "
                    f"got {np.round(got[root], 4).tolist()}.")
            others = np.ones(len(q), dtype=bool)
            others[root] = False
            use = targets.tried & ~np.isnan(targets.q_values)
            if not np.allclose(got[others], q[others]):
                hint += " Only the root's row changes."
            elif np.allclose(got[root], q[root]):
                hint += " Q did not change: update q in place (q[root, a] += ...), do not return a copy."
            elif not np.allclose(got[root, ~use & ~np.isnan(targets.q_values)],
                                 q[root, ~use & ~np.isnan(targets.q_values)]):
                hint += " An untried action was updated: its search value rests on the model's guess."
            elif np.allclose(got[root, use], targets.q_values[use]):
                hint += " Move Q towards the target by a step alpha, not all the way."
            return _report(False, name, f"{case}\n{hint}")
    return _report(True, name)


# Every check above: never raises on a student's answer (see _never_raises).
for _name in [name for name in list(globals()) if name.startswith("check_")]:
    globals()[_name] = _never_raises(globals()[_name])
del _name
