"""Self-checks for notebook 02, planning when the world changes.

Dyna-Q+'s planned reward, the priority-queue update, and prioritized sweeping's predecessor loop.
Each check names the common mistakes: it computes what each named wrong version returns on the
failing case and, when the student's answer matches one, prints that mistake's hint.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mbrl_helpers.agents import sweeping
from mbrl_helpers.agents.tabular import N_ACTIONS
from mbrl_helpers.course.checks.common import call, never_raises, number, report

# == notebook 02, exercise 1: the Dyna-Q+ planned reward ==========================================


def _planned_reward_reference(model_reward: np.ndarray, last_tried: np.ndarray, s: int, a: int,
                              now: int, kappa: float) -> float:
    return float(model_reward[s, a] + kappa * np.sqrt(now - last_tried[s, a]))


def _planned_reward_wrong_versions(r: float, last: int, now: int, kappa: float) -> list[tuple[str, float]]:
    """Common mistakes, each named by the hint it earns: (hint, what that mistake returns)."""
    tau = now - last
    return [
        ("The bonus grows with the square root of the waiting time, not in proportion to it.",
         r + kappa * tau),
        ("Only the waiting time goes under the square root; kappa multiplies the root.",
         r + np.sqrt(kappa * tau)),
        ("tau is how long ago (s, a) was last tried, not the step at which it was tried.",
         r + kappa * np.sqrt(last)),
        ("tau counts from the step at which (s, a) was last tried, not from the start of the run.",
         r + kappa * np.sqrt(now)),
        ("Your tau is one step off: a pair tried at step `now` itself has waited 0 steps.",
         r + kappa * np.sqrt(tau + 1)),
        ("Your tau is one step off: a pair tried at step `now` itself has waited 0 steps.",
         r + kappa * np.sqrt(max(tau - 1, 0))),
        ("The bonus is added to the modelled reward; it does not replace it.", kappa * np.sqrt(tau)),
    ]


@never_raises
def check_planned_reward(student_fn: Callable) -> bool:
    """Check Dyna-Q+'s planned reward fn(model_reward, last_tried, s, a, now, kappa).

    model_reward, last_tried: (n_states, 4). It must return model_reward[s, a] + kappa * sqrt(tau),
    tau = now - last_tried[s, a] (real steps since (s, a) was last tried), as
    dyna_q_plus.plus_planning uses.
    """
    name = "planned_reward"
    rng = np.random.default_rng(4)
    for _ in range(30):
        n_states = int(rng.integers(2, 6))
        now = int(rng.integers(20, 400))
        last_tried = rng.integers(1, now, size=(n_states, 4))
        model_reward = np.where(rng.random((n_states, 4)) < 0.3, 1.0, 0.0)
        s, a = int(rng.integers(n_states)), int(rng.integers(4))
        kappa = float(rng.choice([1e-3, 1e-2, 0.1]))
        expected = _planned_reward_reference(model_reward, last_tried, s, a, now, kappa)
        got, error = call(student_fn, model_reward.copy(), last_tried.copy(), s, a, now, kappa)
        case = (f"Input: s={s}, a={a}, model_reward[s, a]={model_reward[s, a]}, last_tried[s, a]="
                f"{int(last_tried[s, a])}, now={now}, kappa={kappa}.")
        got_value, error = number(got, error)
        if error:
            return report(False, name, f"{case}\n{error}")
        if np.isclose(got_value, expected):
            continue
        hint = f"Expected {expected:.5f}, got {got_value:.5f}."
        for why, wrong in _planned_reward_wrong_versions(float(model_reward[s, a]), int(last_tried[s, a]),
                                                         now, kappa):
            if np.isclose(got_value, wrong, rtol=1e-9, atol=1e-12):
                hint += " " + why
                break
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)


# == notebook 02, exercise 2: the priority-queue update ===========================================


def _queue_update_reference(queue: dict, pair: tuple, td_error: float, theta: float) -> None:
    priority = abs(td_error)
    if priority > theta:
        queue[pair] = max(priority, queue.get(pair, 0.0))


def _queue_update_wrong_versions(queue: dict, pair: tuple, td_error: float,
                                 theta: float) -> list[tuple[str, dict]]:
    """Common mistakes, each named by the hint it earns: (hint, the queue that mistake leaves)."""
    def after(priority: float, queued: bool, keep_larger: bool = True) -> dict:
        out = dict(queue)
        if queued:
            out[pair] = max(priority, out.get(pair, 0.0)) if keep_larger else priority
        return out

    size = abs(td_error)
    return [
        ("The priority is the size of the TD error: negative errors count too.",
         after(td_error, td_error > theta)),
        ("Queue a pair only if its priority is strictly greater than theta.", after(size, size >= theta)),
        ("Queue a pair only if its priority is strictly greater than theta.", after(size, True)),
        ("A pair already in the queue keeps the larger of its old and new priorities.",
         after(size, size > theta, keep_larger=False)),
    ]


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
        for why, wrong in _queue_update_wrong_versions(queue, pair, td_error, theta):
            if wrong == got:
                hint += " " + why
                break
        return report(False, name, f"{case}\n{hint}")
    return report(True, name)


# == notebook 02, exercise 3: prioritized sweeping's predecessor loop =============================


def _predecessor_cases(seed: int = 6, n_cases: int = 25) -> list[dict]:
    """Small random models with a few stale predecessors and a partly filled queue.

    Each case: q, m_next, m_reward, m_term (n_states, 4); pred (n_states, 4 * n_states) and
    n_pred (n_states,) as prioritized sweeping keeps them; the queue (heap, prio, pos, size)
    as sweeping.new_queue makes it; s, gamma, theta.
    """
    rng = np.random.default_rng(seed)
    cases = []
    # By hand: one predecessor whose priority equals theta exactly (it must not be queued),
    # and one far above it.
    q = np.zeros((3, N_ACTIONS))
    m_next = np.full((3, N_ACTIONS), -1, dtype=np.int64)
    m_next[0, 3], m_next[1, 2] = 2, 2
    m_reward = np.zeros((3, N_ACTIONS))
    m_reward[0, 3], m_reward[1, 2] = 0.5, -0.8
    cases.append(_case(q, m_next, m_reward, np.zeros((3, N_ACTIONS), dtype=bool), 2, 0.9, 0.5, {}, []))
    for i in range(n_cases):
        n = int(rng.integers(3, 8))
        m_next = np.where(rng.random((n, N_ACTIONS)) < 0.7, rng.integers(0, n, (n, N_ACTIONS)), -1)
        rewarded = rng.random((n, N_ACTIONS)) < 0.4
        m_reward = np.where(rewarded, np.round(rng.normal(size=(n, N_ACTIONS)), 2), 0.0)
        m_term = (rng.random((n, N_ACTIONS)) < 0.15) & (m_next >= 0)
        q = np.round(rng.normal(size=(n, N_ACTIONS)), 3)
        s = int(np.argmax(np.bincount(m_next[m_next >= 0], minlength=n)))  # the state with most predecessors
        stale = [int(p) for p in rng.choice(n * N_ACTIONS, size=2, replace=False)
                 if m_next.flat[p] != s] if i % 2 == 0 else []
        queued = {int(p): float(np.round(rng.random(), 3))
                  for p in rng.choice(n * N_ACTIONS, size=int(rng.integers(0, 4)), replace=False)}
        gamma = float(rng.choice([0.9, 0.95]))
        theta = float(rng.choice([1e-4, 0.05, 0.3]))
        cases.append(_case(q, m_next.astype(np.int64), m_reward, m_term, s, gamma, theta, queued, stale))
    return cases


def _case(  # noqa: PLR0913 - one argument per part of the case
    q: np.ndarray, m_next: np.ndarray, m_reward: np.ndarray, m_term: np.ndarray, s: int,
    gamma: float, theta: float, queued: dict[int, float], stale: list[int],
) -> dict:
    n = q.shape[0]
    pred = np.full((n, N_ACTIONS * n), -1, dtype=np.int64)
    n_pred = np.zeros(n, dtype=np.int64)
    for pair in [p for p in range(n * N_ACTIONS) if m_next.flat[p] >= 0] + stale:
        into = s if m_next.flat[pair] < 0 or pair in stale else int(m_next.flat[pair])
        if pair not in pred[into, : n_pred[into]]:
            pred[into, n_pred[into]] = pair
            n_pred[into] += 1
    heap, prio, pos, size = sweeping.new_queue(N_ACTIONS * n)
    for pair, priority in queued.items():
        sweeping.pq_push(heap, prio, pos, size, pair, priority)
    return {"q": q, "s": s, "m_next": m_next, "m_reward": m_reward, "m_term": m_term, "pred": pred,
            "n_pred": n_pred, "heap": heap, "prio": prio, "pos": pos, "size": size,
            "gamma": gamma, "theta": theta}


_ARGS = ("q", "s", "m_next", "m_reward", "m_term", "pred", "n_pred", "heap", "prio", "pos", "size",
         "gamma", "theta")


def _queued(case: dict) -> dict[int, float]:
    """The queue's contents, pair -> priority (the heap's order is not part of the answer)."""
    size = int(case["size"][0])
    return {int(p): float(v) for p, v in zip(case["heap"][:size], case["prio"][:size], strict=True)}


def _copy(case: dict) -> dict:
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in case.items()}


def _predecessor_wrong_versions(case: dict) -> list[tuple[str, dict[int, float]]]:
    """Common mistakes, each named by the hint it earns: (hint, the queue that mistake leaves)."""
    q, s, m_next, m_reward, m_term = (case[k] for k in ("q", "s", "m_next", "m_reward", "m_term"))
    gamma, theta = case["gamma"], case["theta"]

    def replay(value_of: Callable[[int], float] = lambda s_bar: float(np.max(q[s])), discount: float = gamma,
               size: Callable[[float], float] = abs, keep: Callable[[float], bool] = lambda p: p > theta,
               skip_stale: bool = True, use_term: bool = True) -> dict[int, float]:
        queue = _queued(case)
        for pair in case["pred"][s, : case["n_pred"][s]]:
            s_bar, a_bar = divmod(int(pair), N_ACTIONS)
            if skip_stale and m_next[s_bar, a_bar] != s:
                continue
            r_bar = m_reward[s_bar, a_bar]
            target = r_bar if (use_term and m_term[s_bar, a_bar]) else r_bar + discount * value_of(s_bar)
            priority = size(target - q[s_bar, a_bar])
            if keep(priority):
                queue[int(pair)] = max(priority, queue.get(int(pair), -np.inf))
        return queue

    return [
        ("The predecessor's target looks ahead to s, the state it leads into, not to its own state s_bar.",
         replay(value_of=lambda s_bar: float(np.max(q[s_bar])))),
        ("The value of s is discounted in the predecessor's target: look for the missing factor.",
         replay(discount=1.0)),
        ("The priority is the size of the change: a predecessor whose value would fall matters too.",
         replay(size=lambda x: x)),
        ("Queue a predecessor only if its priority is strictly greater than theta.",
         replay(keep=lambda p: p >= theta)),
        ("Queue a predecessor only if its priority is strictly greater than theta.",
         replay(keep=lambda p: True)),
        ("Some listed predecessors are stale: the model now says they lead elsewhere, so skip them.",
         replay(skip_stale=False)),
        ("A predecessor whose step ended the episode has no next state to bootstrap from.",
         replay(use_term=False)),
    ]


@never_raises
def check_queue_predecessors(student_fn: Callable) -> bool:
    """Check prioritized sweeping's predecessor loop against sweeping.queue_predecessors.

    fn(q, s, m_next, m_reward, m_term, pred, n_pred, heap, prio, pos, size, gamma, theta): after
    Q(s, .) changed, queue (with sweeping.pq_push) each predecessor (s_bar, a_bar) of s, one of the
    first n_pred[s] pairs s_bar * 4 + a_bar in pred[s] that the model m_next still sends to s,
    whose priority |r_bar + gamma max_a Q(s, a) - Q(s_bar, a_bar)| exceeds theta. Arrays as in
    sweeping.queue_predecessors; q and the model must not change.
    """
    name = "queue_predecessors"
    for case in _predecessor_cases():
        expected = _copy(case)
        sweeping.queue_predecessors(*(expected[k] for k in _ARGS))
        got = _copy(case)
        _, error = call(student_fn, *(got[k] for k in _ARGS))
        s = case["s"]
        listed = [divmod(int(p), N_ACTIONS) for p in case["pred"][s, : case["n_pred"][s]]]
        where = (f"Input: s={s}, gamma={case['gamma']}, theta={case['theta']}, "
                 f"max_a Q(s, a)={np.max(case['q'][s]):.3f}, listed predecessors (s_bar, a_bar)={listed}, "
                 f"queue before={_queued(case)}.")
        if error:
            return report(False, name, f"{where}\n{error}")
        for key in ("q", "m_next", "m_reward", "m_term", "pred", "n_pred"):
            if not np.array_equal(got[key], case[key]):
                return report(False, name, f"{where}\n{key} changed: only the queue may change.")
        want, have = _queued(expected), _queued(got)
        if want.keys() == have.keys() and all(np.isclose(want[p], have[p]) for p in want):
            continue
        hint = (f"Expected the queue to hold (pair: priority) {_rounded(want)}, got {_rounded(have)} "
                "(pair = s_bar * 4 + a_bar).")
        for why, wrong in _predecessor_wrong_versions(case):
            if wrong.keys() == have.keys() and all(np.isclose(wrong[p], have[p]) for p in wrong):
                hint += " " + why
                break
        return report(False, name, f"{where}\n{hint}")
    return report(True, name)


def _rounded(queue: dict[int, float]) -> dict[int, float]:
    return {pair: round(priority, 4) for pair, priority in sorted(queue.items())}
