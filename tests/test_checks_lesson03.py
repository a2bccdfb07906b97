"""The self-checks of notebook 03 (neural dynamics models): each accepts the right answer,
rejects the stub with its message, and names every common mistake it knows with its hint."""

from __future__ import annotations

import numpy as np
import pytest

from mbrl_helpers.course import checks
from mbrl_helpers.learning import models

# -- Exercise 1: normalisation statistics --------------------------------------


def stats_stub(x):
    raise NotImplementedError("one mean and one std per column")


def stats_per_row(x):
    std = x.std(axis=1)
    return x.mean(axis=1), np.where(std < models.STD_FLOOR, 1.0, std)


def stats_whole_array(x):
    return x.mean(), x.std()


def stats_variance(x):
    var = x.var(axis=0)
    return x.mean(axis=0), np.where(var < models.STD_FLOOR, 1.0, var)


def stats_no_floor(x):
    return x.mean(axis=0), x.std(axis=0)


def stats_epsilon_added(x):
    return x.mean(axis=0), x.std(axis=0) + 1e-8


def stats_tiny_floor(x):
    return x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)


def stats_swapped(x):
    mean, std = models.normalisation_stats(x)
    return std, mean


def test_normalisation_stats_accepts_the_package_and_the_sample_std(capsys):
    assert checks.check_normalisation_stats(models.normalisation_stats)
    assert "Correct" in capsys.readouterr().out

    def sample_std(x):
        std = x.std(axis=0, ddof=1)
        return x.mean(axis=0), np.where(std < models.STD_FLOOR, 1.0, std)

    assert checks.check_normalisation_stats(sample_std)


def test_normalisation_stats_rejects_the_stub(capsys):
    assert not checks.check_normalisation_stats(stats_stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize(("wrong", "hint"), [
    (stats_per_row, "per row"),
    (stats_whole_array, "over the whole array"),
    (stats_variance, "That is the variance"),
    (stats_no_floor, "A constant column has std 0"),
    (stats_epsilon_added, "A constant column has std 0"),
    (stats_tiny_floor, "its std must be 1"),
    (stats_swapped, "swapped"),
])
def test_normalisation_stats_names_each_mistake(wrong, hint, capsys):
    assert not checks.check_normalisation_stats(wrong)
    assert hint in capsys.readouterr().out


# -- Exercise 2: the open-loop rollout ------------------------------------------


def rollout(step_fn, start_states, actions, *, from_start=False, hold=True, zero_rewards=True,
            drop_last_reward=False, early_alive=False, steps=None):
    """A student's rollout, right by default; each keyword makes one of the common mistakes."""
    batch, horizon = actions.shape
    steps = horizon if steps is None else steps
    states = np.empty((batch, steps + 1, start_states.shape[1]))
    rewards = np.zeros((batch, steps))
    alive = np.ones((batch, steps + 1), bool)
    states[:, 0] = start_states
    for t in range(steps):
        source = start_states if from_start else states[:, t]
        next_states, r, terminated = step_fn(source, actions[:, t])
        if hold:
            states[:, t + 1] = np.where(alive[:, t, None], next_states, states[:, t])
        else:
            states[:, t + 1] = next_states
        if drop_last_reward:
            rewards[:, t] = np.where(alive[:, t] & ~terminated, r, 0.0)
        else:
            rewards[:, t] = np.where(alive[:, t], r, 0.0) if zero_rewards else r
        alive[:, t + 1] = alive[:, t] & ~terminated
        if early_alive:
            alive[:, t] &= ~terminated
    return states, rewards, alive


def rollout_stub(step_fn, start_states, actions):
    raise NotImplementedError("loop over the H steps")


def test_open_loop_rollout_accepts_the_package_and_a_plain_answer(capsys):
    assert checks.check_open_loop_rollout(models.open_loop_rollout)
    assert checks.check_open_loop_rollout(rollout)
    assert "Correct" in capsys.readouterr().out


def test_open_loop_rollout_rejects_the_stub(capsys):
    assert not checks.check_open_loop_rollout(rollout_stub)
    assert "NotImplementedError" in capsys.readouterr().out


@pytest.mark.parametrize(("mistake", "hint"), [
    ({"from_start": True}, "closed-loop"),
    ({"hold": False, "zero_rewards": False}, "went on after the model predicted termination"),
    ({"zero_rewards": False}, "the rewards after it still count"),
    ({"drop_last_reward": True}, "The reward of the step that terminates was dropped"),
    ({"early_alive": True}, "alive turns False one index too early"),
    ({"steps": -1}, "One model step too few"),
])
def test_open_loop_rollout_names_each_mistake(mistake, hint, capsys):
    def wrong(step_fn, start_states, actions):
        kwargs = dict(mistake)
        if kwargs.get("steps") == -1:
            kwargs["steps"] = actions.shape[1] - 1
        return rollout(step_fn, start_states, actions, **kwargs)

    assert not checks.check_open_loop_rollout(wrong)
    assert hint in capsys.readouterr().out


# -- other wrong answers: no named mistake, but a concrete hint ------------------


def rollout_action_off_by_one(step_fn, start_states, actions):
    shifted = np.concatenate([actions[:, 1:], actions[:, -1:]], axis=1)
    return models.open_loop_rollout(step_fn, start_states, shifted)


def rollout_without_start(step_fn, start_states, actions):
    result = models.open_loop_rollout(step_fn, start_states, actions)
    return result.states[:, 1:], result.rewards, result.alive[:, 1:]


@pytest.mark.parametrize(("wrong", "hint"), [
    (rollout_action_off_by_one, "Feed the model its own prediction"),
    (rollout_without_start, "Expected states of shape"),
])
def test_open_loop_rollout_rejects_other_mistakes_with_a_concrete_hint(wrong, hint, capsys):
    assert not checks.check_open_loop_rollout(wrong)
    assert hint in capsys.readouterr().out
