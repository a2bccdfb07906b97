"""Notebook 02's checks: the right answer passes, the stub and each named mistake fail with their hint."""

import numpy as np
import pytest

from mbrl_helpers.agents import sweeping
from mbrl_helpers.course import checks

# -- exercise 1: Dyna-Q+'s planned reward ----------------------------------------------------------


def planned_reward(model_reward, last_tried, s, a, now, kappa):
    return model_reward[s, a] + kappa * np.sqrt(now - last_tried[s, a])


def planned_reward_stub(model_reward, last_tried, s, a, now, kappa):
    raise NotImplementedError("Exercise 1: write the planned reward")


def reward_with(bonus):
    """A planned reward r + bonus(kappa, now, last tried)."""
    def planned(model_reward, last_tried, s, a, now, kappa):
        return model_reward[s, a] + bonus(kappa, now, last_tried[s, a])
    return planned


PLANNED_REWARD_MISTAKES = {
    "linear in tau": (reward_with(lambda k, now, last: k * (now - last)), "not in proportion"),
    "kappa under the root": (reward_with(lambda k, now, last: np.sqrt(k * (now - last))),
                             "kappa multiplies the root"),
    "tau = last tried": (reward_with(lambda k, now, last: k * np.sqrt(last)),
                         "not the step at which it was tried"),
    "tau = now": (reward_with(lambda k, now, last: k * np.sqrt(now)), "not from the start of the run"),
    "tau one too many": (reward_with(lambda k, now, last: k * np.sqrt(now - last + 1)), "one step off"),
    "tau one too few": (reward_with(lambda k, now, last: k * np.sqrt(now - last - 1)), "one step off"),
    "bonus only": (lambda model_reward, last_tried, s, a, now, kappa: kappa * np.sqrt(now - last_tried[s, a]),
                   "does not replace it"),
}


def test_planned_reward_accepts_the_answer(capsys):
    assert checks.check_planned_reward(planned_reward)
    assert "Correct" in capsys.readouterr().out


def test_planned_reward_rejects_the_stub(capsys):
    assert checks.check_planned_reward(planned_reward_stub) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "NotImplementedError" in out


@pytest.mark.parametrize("mistake", PLANNED_REWARD_MISTAKES)
def test_planned_reward_names_each_mistake(mistake, capsys):
    wrong, hint = PLANNED_REWARD_MISTAKES[mistake]
    assert checks.check_planned_reward(wrong) is False
    out = capsys.readouterr().out
    assert hint in out, out


# -- exercise 2: the queue update -------------------------------------------------------------------


def queue_update(queue, pair, td_error, theta):
    if abs(td_error) > theta:
        queue[pair] = max(abs(td_error), queue.get(pair, 0.0))


def queue_update_stub(queue, pair, td_error, theta):
    raise NotImplementedError("Exercise 2: write the queue update")


def queue_update_signed(queue, pair, td_error, theta):
    if td_error > theta:
        queue[pair] = max(td_error, queue.get(pair, 0.0))


def queue_update_at_theta(queue, pair, td_error, theta):
    if abs(td_error) >= theta:
        queue[pair] = max(abs(td_error), queue.get(pair, 0.0))


def queue_update_no_threshold(queue, pair, td_error, theta):
    queue[pair] = max(abs(td_error), queue.get(pair, 0.0))


def queue_update_overwrites(queue, pair, td_error, theta):
    if abs(td_error) > theta:
        queue[pair] = abs(td_error)


QUEUE_UPDATE_MISTAKES = {
    "signed priority": (queue_update_signed, "negative errors count too"),
    "queues at theta": (queue_update_at_theta, "strictly greater than theta"),
    "no threshold": (queue_update_no_threshold, "strictly greater than theta"),
    "overwrites": (queue_update_overwrites, "keeps the larger"),
}


def test_queue_update_accepts_the_answer(capsys):
    assert checks.check_queue_update(queue_update)
    assert "Correct" in capsys.readouterr().out


def test_queue_update_rejects_the_stub(capsys):
    assert checks.check_queue_update(queue_update_stub) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "NotImplementedError" in out


@pytest.mark.parametrize("mistake", QUEUE_UPDATE_MISTAKES)
def test_queue_update_names_each_mistake(mistake, capsys):
    wrong, hint = QUEUE_UPDATE_MISTAKES[mistake]
    assert checks.check_queue_update(wrong) is False
    out = capsys.readouterr().out
    assert hint in out, out


# -- exercise 3: the predecessor loop ---------------------------------------------------------------


def predecessors_with(value_of=None, discount=True, signed=False, at_theta=False, no_threshold=False,
                      skip_stale=True, use_term=True):
    """The notebook's answer, or it with one named mistake switched on."""
    def queue_predecessors(q, s, m_next, m_reward, m_term, pred, n_pred, heap, prio, pos, size, gamma, theta):
        for i in range(n_pred[s]):
            pair = pred[s, i]
            s_bar, a_bar = pair // 4, pair % 4
            if skip_stale and m_next[s_bar, a_bar] != s:
                continue
            value = np.max(q[s_bar if value_of == "own" else s])
            r_bar = m_reward[s_bar, a_bar]
            factor = gamma if discount else 1.0
            target = r_bar if (use_term and m_term[s_bar, a_bar]) else r_bar + factor * value
            priority = (target - q[s_bar, a_bar]) if signed else abs(target - q[s_bar, a_bar])
            if no_threshold or priority > theta or (at_theta and priority == theta):
                sweeping.pq_push(heap, prio, pos, size, pair, priority)
    return queue_predecessors


def queue_predecessors_stub(q, s, m_next, m_reward, m_term, pred, n_pred, heap, prio, pos, size,
                            gamma, theta):
    raise NotImplementedError("Exercise 3: write the predecessor loop")


PREDECESSOR_MISTAKES = {
    "bootstraps from s_bar": (predecessors_with(value_of="own"), "not to its own state s_bar"),
    "missing gamma": (predecessors_with(discount=False), "is discounted"),
    "no absolute value": (predecessors_with(signed=True), "whose value would fall matters too"),
    "queues at theta": (predecessors_with(at_theta=True), "strictly greater than theta"),
    "queues below theta": (predecessors_with(no_threshold=True), "strictly greater than theta"),
    "keeps stale pairs": (predecessors_with(skip_stale=False), "stale"),
    "ignores termination": (predecessors_with(use_term=False), "ended the episode"),
}


def test_queue_predecessors_accepts_the_answer_and_the_package(capsys):
    assert checks.check_queue_predecessors(predecessors_with())
    assert checks.check_queue_predecessors(sweeping.queue_predecessors)
    assert "Correct" in capsys.readouterr().out


def test_queue_predecessors_rejects_the_stub(capsys):
    assert checks.check_queue_predecessors(queue_predecessors_stub) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "NotImplementedError" in out


@pytest.mark.parametrize("mistake", PREDECESSOR_MISTAKES)
def test_queue_predecessors_names_each_mistake(mistake, capsys):
    wrong, hint = PREDECESSOR_MISTAKES[mistake]
    assert checks.check_queue_predecessors(wrong) is False
    out = capsys.readouterr().out
    assert hint in out, out


def test_queue_predecessors_says_when_the_model_is_changed(capsys):
    def changes_q(q, s, *rest):
        q[s] += 1.0
    assert checks.check_queue_predecessors(changes_q) is False
    assert "only the queue may change" in capsys.readouterr().out
