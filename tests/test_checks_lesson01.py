"""Notebook 01's checks: the right answer passes, the stub and each named mistake fail with their hint."""

import numpy as np
import pytest

from mbrl_helpers.agents import tabular
from mbrl_helpers.course import checks

# -- exercise 1: the Q-learning update -------------------------------------------------------------


def q_learning_update(q, s, a, r, s_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * np.max(q[s_next])
    td_error = target - q[s, a]
    q[s, a] += alpha * td_error
    return td_error


def q_learning_stub(q, s, a, r, s_next, terminated, alpha, gamma):
    raise NotImplementedError("Exercise 1: write the update")


def update_with(target_fn):
    """A Q-learning update whose target is target_fn(q, s, a, r, s_next, terminated, gamma)."""
    def update(q, s, a, r, s_next, terminated, alpha, gamma):
        td_error = target_fn(q, s, a, r, s_next, terminated, gamma) - q[s, a]
        q[s, a] += alpha * td_error
        return td_error
    return update


def wrong_sign(q, s, a, r, s_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * np.max(q[s_next])
    td_error = target - q[s, a]
    q[s, a] -= alpha * td_error
    return td_error


Q_LEARNING_MISTAKES = {
    "no terminal stop": (update_with(lambda q, s, a, r, s2, t, g: r + g * np.max(q[s2])),
                         "no next state to bootstrap from"),
    "missing gamma": (update_with(lambda q, s, a, r, s2, t, g: r if t else r + np.max(q[s2])),
                      "is discounted"),
    "argmax for max": (update_with(lambda q, s, a, r, s2, t, g: r if t else r + g * np.argmax(q[s2])),
                       "not the index of the best action"),
    "q[s', a] for max": (update_with(lambda q, s, a, r, s2, t, g: r if t else r + g * q[s2, a]),
                         "whichever action a was taken"),
    "bootstrap from s": (update_with(lambda q, s, a, r, s2, t, g: r if t else r + g * np.max(q[s])),
                         "not at the state s the step started from"),
    "wrong sign": (wrong_sign, "Check the sign"),
}


def test_q_learning_update_accepts_the_answer_and_the_package(capsys):
    assert checks.check_q_learning_update(q_learning_update)
    assert checks.check_q_learning_update(tabular.q_learning_update)
    assert "Correct" in capsys.readouterr().out


def test_q_learning_update_rejects_the_stub(capsys):
    assert checks.check_q_learning_update(q_learning_stub) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "NotImplementedError" in out


@pytest.mark.parametrize("mistake", Q_LEARNING_MISTAKES)
def test_q_learning_update_names_each_mistake(mistake, capsys):
    wrong, hint = Q_LEARNING_MISTAKES[mistake]
    assert checks.check_q_learning_update(wrong) is False
    out = capsys.readouterr().out
    assert hint in out, out


# -- exercise 2: the planning loop -----------------------------------------------------------------


def planning(q, model, n, alpha, gamma):
    for _ in range(n):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(q, s, a, model.reward[s, a], model.next_state[s, a],
                                  model.terminated[s, a], alpha, gamma)


def planning_stub(q, model, n, alpha, gamma):
    raise NotImplementedError("Exercise 2: write the planning loop")


def planning_one_too_few(q, model, n, alpha, gamma):
    planning(q, model, n - 1, alpha, gamma)


def planning_ignoring_termination(q, model, n, alpha, gamma):
    for _ in range(n):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(q, s, a, model.reward[s, a], model.next_state[s, a], False, alpha, gamma)


def planning_alpha_gamma_swapped(q, model, n, alpha, gamma):
    for _ in range(n):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(q, s, a, model.reward[s, a], model.next_state[s, a],
                                  model.terminated[s, a], gamma, alpha)


def planning_wrong_transition(q, model, n, alpha, gamma):
    for _ in range(n):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(q, s, a, model.reward[s, a], s, model.terminated[s, a], alpha, gamma)


def planning_one_draw(q, model, n, alpha, gamma):
    s, a = tabular.model_sample(model)
    for _ in range(n):
        tabular.q_learning_update(q, s, a, model.reward[s, a], model.next_state[s, a],
                                  model.terminated[s, a], alpha, gamma)


def planning_never_seen_states(q, model, n, alpha, gamma):
    rng = np.random.default_rng(0)
    for _ in range(n):
        s, a = int(rng.integers(q.shape[0])), int(rng.integers(4))  # any state, tried or not
        tabular.q_learning_update(q, s, a, model.reward[s, a], max(int(model.next_state[s, a]), 0),
                                  model.terminated[s, a], alpha, gamma)


def planning_on_a_copy(q, model, n, alpha, gamma):
    planning(q.copy(), model, n, alpha, gamma)


PLANNING_MISTAKES = {
    "one update too few": (planning_one_too_few, "one update too few"),
    "termination ignored": (planning_ignoring_termination, "terminated flag is ignored"),
    "alpha and gamma swapped": (planning_alpha_gamma_swapped, "alpha and gamma are passed"),
    "wrong transition": (planning_wrong_transition, "uses the wrong transition"),
    "one draw for all updates": (planning_one_draw, "Every update uses the same pair"),
    "states never seen": (planning_never_seen_states, "has never tried action"),
    "updates a copy": (planning_on_a_copy, "did not change at all"),
}


def test_planning_accepts_the_answer_and_the_package(capsys):
    assert checks.check_planning(planning)
    assert checks.check_planning(tabular.planning)
    assert "Correct" in capsys.readouterr().out


def test_planning_rejects_the_stub(capsys):
    assert checks.check_planning(planning_stub) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "NotImplementedError" in out


@pytest.mark.parametrize("mistake", PLANNING_MISTAKES)
def test_planning_names_each_mistake(mistake, capsys):
    wrong, hint = PLANNING_MISTAKES[mistake]
    assert checks.check_planning(wrong) is False
    out = capsys.readouterr().out
    assert hint in out, out


def test_planning_with_two_arguments_swapped_under_numba_gives_a_few_plain_lines(capsys):
    """Swapping s and alpha in a compiled answer: numba's typing error becomes a short hint."""
    from numba import njit

    @njit
    def planning_compiled(q, model, n, alpha, gamma):
        for _ in range(n):
            s, a = tabular.model_sample(model)
            tabular.q_learning_update(q, alpha, a, model.reward[s, a], model.next_state[s, a],
                                      model.terminated[s, a], s, gamma)

    assert checks.check_planning(planning_compiled) is False
    out = capsys.readouterr().out
    assert "numba could not compile your function" in out and "wrong order" in out, out
    assert "Traceback" not in out and len(out.splitlines()) <= 6, out
