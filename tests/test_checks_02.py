"""Notebook 02's exercise checks accept the reference and reject typical wrong answers."""

import numpy as np

from mbrl_helpers.course import checks


def planned_reward(model_reward, last_tried, s, a, now, kappa):
    return model_reward[s, a] + kappa * np.sqrt(now - last_tried[s, a])


def planned_reward_linear(model_reward, last_tried, s, a, now, kappa):
    return model_reward[s, a] + kappa * (now - last_tried[s, a])


def planned_reward_wrong_tau(model_reward, last_tried, s, a, now, kappa):
    return model_reward[s, a] + kappa * np.sqrt(last_tried[s, a])


def planned_reward_bonus_only(model_reward, last_tried, s, a, now, kappa):
    return kappa * np.sqrt(now - last_tried[s, a])


def stub(*args):
    raise NotImplementedError


def test_planned_reward_check(capsys):
    assert checks.check_planned_reward(planned_reward)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_planned_reward(planned_reward_linear)
    assert "sqrt(tau), not kappa * tau" in capsys.readouterr().out
    assert not checks.check_planned_reward(planned_reward_wrong_tau)
    assert "now - last_tried" in capsys.readouterr().out
    assert not checks.check_planned_reward(planned_reward_bonus_only)
    assert "does not replace it" in capsys.readouterr().out
    assert not checks.check_planned_reward(stub)
    assert "NotImplementedError" in capsys.readouterr().out


def queue_update(queue, pair, td_error, theta):
    if abs(td_error) > theta:
        queue[pair] = max(abs(td_error), queue.get(pair, 0.0))


def queue_update_signed(queue, pair, td_error, theta):
    if td_error > theta:
        queue[pair] = max(td_error, queue.get(pair, 0.0))


def queue_update_at_theta(queue, pair, td_error, theta):
    if abs(td_error) >= theta:
        queue[pair] = max(abs(td_error), queue.get(pair, 0.0))


def queue_update_overwrites(queue, pair, td_error, theta):
    if abs(td_error) > theta:
        queue[pair] = abs(td_error)


def test_queue_update_check(capsys):
    assert checks.check_queue_update(queue_update)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_queue_update(queue_update_signed)
    assert "|td_error|" in capsys.readouterr().out
    assert not checks.check_queue_update(queue_update_at_theta)
    assert "strictly greater than theta" in capsys.readouterr().out
    assert not checks.check_queue_update(queue_update_overwrites)
    assert "keeps the larger" in capsys.readouterr().out
    assert not checks.check_queue_update(stub)
    assert "NotImplementedError" in capsys.readouterr().out
