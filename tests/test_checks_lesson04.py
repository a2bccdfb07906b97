"""The self-checks of notebook 04 (learning from imagined experience): each accepts the right
answer, rejects the stub with its message, and names every common mistake it knows with its hint."""

from __future__ import annotations

import numpy as np
import pytest

from mbrl_helpers.agents import imagined
from mbrl_helpers.course import checks

# -- Exercise 1: the DQN target -------------------------------------------------


def target_right(rewards, next_q, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q.max(axis=1)


def target_stub(rewards, next_q, terminated, gamma):
    raise NotImplementedError("the future term uses the best next value")


WRONG_TARGETS = {
    "no terminal mask": (lambda r, q, d, g: r + g * q.max(axis=1),
                         "Terminal transitions must not bootstrap"),
    "mask inverted": (lambda r, q, d, g: r + g * d * q.max(axis=1), "the wrong way round"),
    "no gamma": (lambda r, q, d, g: r + (1.0 - d) * q.max(axis=1), "not discounted"),
    "argmax": (lambda r, q, d, g: r + g * (1.0 - d) * q.argmax(axis=1), "argmax"),
    "one fixed action": (lambda r, q, d, g: r + g * (1.0 - d) * q[:, 0], "one fixed next action"),
    "mean": (lambda r, q, d, g: r + g * (1.0 - d) * q.mean(axis=1), "not the average"),
    "reward discounted": (lambda r, q, d, g: g * (r + (1.0 - d) * q.max(axis=1)), "received now"),
}


def test_dqn_target_accepts_the_right_answer(capsys):
    assert checks.check_dqn_target(target_right)
    assert "Correct" in capsys.readouterr().out


def test_dqn_target_rejects_the_stub(capsys):
    assert not checks.check_dqn_target(target_stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", list(WRONG_TARGETS))
def test_dqn_target_names_each_mistake(mistake, capsys):
    wrong, hint = WRONG_TARGETS[mistake]
    assert not checks.check_dqn_target(wrong)
    assert hint in capsys.readouterr().out


def test_dqn_target_names_the_wrong_axis(capsys):
    # next_q.max(axis=0) only has one value per transition when there are at least as many actions
    # as transitions; the check's first case (2 transitions, 2 actions) is such a batch.
    assert not checks.check_dqn_target(lambda r, q, d, g: r + g * (1.0 - d) * q.max(axis=0)[: len(r)])
    assert "wrong axis" in capsys.readouterr().out


# -- Exercise 2: the branched rollout ------------------------------------------


def rollout(step_fn, policy, start_states, horizon, *, stop=True, restart=False, keep_terminal=True,
            stop_all=False, steps=None):
    """A student's branched rollout, right by default; each keyword makes one common mistake."""
    parts, states = [], start_states
    for _ in range(horizon if steps is None else steps):
        if len(states) == 0:
            break
        actions = policy(states)
        next_states, rewards, terminated = step_fn(states, actions)
        kept = np.ones(len(states), bool) if keep_terminal else ~terminated
        parts.append((states[kept], actions[kept], rewards[kept], next_states[kept], terminated[kept]))
        if stop_all and terminated.any():
            break
        states = start_states if restart else next_states[~terminated] if stop else next_states
    keys = ("states", "actions", "rewards", "next_states", "terminated")
    return {key: np.concatenate([part[i] for part in parts]) for i, key in enumerate(keys)}


def rollout_stub(step_fn, policy, start_states, horizon):
    raise NotImplementedError("step all live rollouts together")


def test_branched_rollout_accepts_the_package_and_a_plain_answer(capsys):
    assert checks.check_branched_rollout(imagined.branched_rollout)
    assert checks.check_branched_rollout(rollout)
    assert "Correct" in capsys.readouterr().out


def test_branched_rollout_rejects_the_stub(capsys):
    assert not checks.check_branched_rollout(rollout_stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize(("mistake", "hint"), [
    ({"stop": False}, "went on after a terminal step"),
    ({"restart": True}, "started again from the start states"),
    ({"keep_terminal": False}, "The terminal transitions are missing"),
    ({"stop_all": True}, "All rollouts stopped when one of them terminated"),
    ({"steps": +1}, "one model step too many"),
    ({"steps": -1}, "one model step too few"),
])
def test_branched_rollout_names_each_mistake(mistake, hint, capsys):
    def wrong(step_fn, policy, start_states, horizon):
        kwargs = dict(mistake)
        if "steps" in kwargs:
            kwargs["steps"] = horizon + kwargs["steps"]
        return rollout(step_fn, policy, start_states, horizon, **kwargs)

    assert not checks.check_branched_rollout(wrong)
    assert hint in capsys.readouterr().out
