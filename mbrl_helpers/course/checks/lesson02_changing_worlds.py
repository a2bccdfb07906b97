"""Self-checks for notebook 02, planning when the world changes.

Dyna-Q+'s planned reward and the priority-queue update.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, number, report

# == notebook 02: the Dyna-Q+ planned reward and the priority-queue update =========================

def _planned_reward_reference(model_reward: np.ndarray, last_tried: np.ndarray, s: int, a: int,
                              now: int, kappa: float) -> float:
    return float(model_reward[s, a] + kappa * np.sqrt(now - last_tried[s, a]))


@never_raises
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
        got, error = call(student_fn, model_reward.copy(), last_tried.copy(), s, a, now, kappa)
        tau = now - int(last_tried[s, a])
        case = (f"Input: s={s}, a={a}, model_reward[s, a]={model_reward[s, a]}, last_tried[s, a]="
                f"{int(last_tried[s, a])}, now={now}, kappa={kappa}.")
        got_value, error = number(got, error)
        if error:
            return report(False, name, f"{case}\n{error}")
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
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)


def _queue_update_reference(queue: dict, pair: tuple, td_error: float, theta: float) -> None:
    priority = abs(td_error)
    if priority > theta:
        queue[pair] = max(priority, queue.get(pair, 0.0))


@never_raises
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
        _, error = call(student_fn, got, pair, td_error, theta)
        case = f"Input: queue={queue}, pair={pair}, td_error={td_error}, theta={theta}."
        if error:
            return report(False, name, f"{case}\n{error}")
        if got == expected:
            continue
        hint = f"Expected the queue to become {expected}, got {got}."
        if td_error < 0 and abs(td_error) > theta and pair not in got:
            hint += " The priority is the size of the TD error, |td_error|: negative errors count too."
        elif abs(td_error) <= theta and got != queue:
            hint += " Queue a pair only if its priority is strictly greater than theta."
        elif pair in queue and got.get(pair) == abs(td_error) < queue[pair]:
            hint += " A pair already in the queue keeps the larger of its old and new priorities."
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)
