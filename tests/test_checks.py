"""Every check accepts the reference solution and rejects typical wrong answers."""

import numpy as np

from mbrl_helpers.agents import tabular
from mbrl_helpers.course import checks


def reference_update(q, s, a, r, s_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * np.max(q[s_next])
    td_error = target - q[s, a]
    q[s, a] += alpha * td_error
    return td_error


def update_without_terminal_handling(q, s, a, r, s_next, terminated, alpha, gamma):
    td_error = r + gamma * np.max(q[s_next]) - q[s, a]
    q[s, a] += alpha * td_error
    return td_error


def update_with_wrong_sign(q, s, a, r, s_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * np.max(q[s_next])
    td_error = target - q[s, a]
    q[s, a] -= alpha * td_error
    return td_error


def update_bootstrapping_from_s(q, s, a, r, s_next, terminated, alpha, gamma):
    target = r if terminated else r + gamma * np.max(q[s])
    q[s, a] += alpha * (target - q[s, a])
    return target - q[s, a]


def stub(*args):
    raise NotImplementedError("write the update")


def test_q_learning_update_check(capsys):
    assert checks.check_q_learning_update(reference_update)
    assert checks.check_q_learning_update(tabular.q_learning_update)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_q_learning_update(update_without_terminal_handling)
    assert "target is just r" in capsys.readouterr().out
    assert not checks.check_q_learning_update(update_with_wrong_sign)
    assert "sign" in capsys.readouterr().out
    assert not checks.check_q_learning_update(update_bootstrapping_from_s)
    assert "differs from the reference" in capsys.readouterr().out
    assert not checks.check_q_learning_update(stub)
    assert "NotImplementedError" in capsys.readouterr().out


def reference_planning(q, model, n, alpha, gamma):
    for _ in range(n):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(q, s, a, model.reward[s, a], model.next_state[s, a],
                                  model.terminated[s, a], alpha, gamma)


def planning_off_by_one(q, model, n, alpha, gamma):
    reference_planning(q, model, n - 1, alpha, gamma)


def planning_ignoring_termination(q, model, n, alpha, gamma):
    for _ in range(n):
        s, a = tabular.model_sample(model)
        tabular.q_learning_update(q, s, a, model.reward[s, a], model.next_state[s, a],
                                  False, alpha, gamma)


def planning_on_a_copy(q, model, n, alpha, gamma):
    reference_planning(q.copy(), model, n, alpha, gamma)


def test_planning_check(capsys):
    assert checks.check_planning(reference_planning)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_planning(planning_off_by_one)
    assert "one update too few" in capsys.readouterr().out
    assert not checks.check_planning(planning_ignoring_termination)
    assert "terminated" in capsys.readouterr().out
    assert not checks.check_planning(planning_on_a_copy)
    assert "did not change" in capsys.readouterr().out
    assert not checks.check_planning(stub)


def test_checks_never_raise_on_any_answer(monkeypatch, capsys):
    """Wrong type, wrong shape, an exception, an endless loop: False and a message, never a raise."""
    monkeypatch.setattr(checks.common, "TIME_LIMIT_S", 0.1)

    def endless(*args):
        while True:
            pass

    answers = [lambda *args: "a string", lambda *args: np.zeros((7, 3)), lambda *args: [None],
               lambda *args: 1 / 0, endless, "not a function", None]
    for name in [n for n in dir(checks) if n.startswith("check_")]:
        for answer in answers:
            assert getattr(checks, name)(answer) is False, (name, answer)
    out = capsys.readouterr().out
    assert "did not return within 0.1 s" in out and "Pass your function itself" in out


def test_an_endless_compiled_answer_is_stopped_not_hung(monkeypatch, capsys):
    """A compiled loop ignores the alarm; the check runs the answer's Python version first."""
    from numba import njit

    monkeypatch.setattr(checks.common, "TIME_LIMIT_S", 0.2)

    @njit
    def endless(q, s, a, r, s_next, terminated, alpha, gamma):
        i = 0
        while i >= 0:
            i = (i + 1) % 7
        return q

    assert checks.check_q_learning_update(endless) is False
    out = capsys.readouterr().out
    assert "did not return within 0.2 s" in out and "compiled with numba" in out


def test_a_correct_compiled_answer_still_passes(capsys):
    """The dry run works on copies: a correct @njit answer passes, as in the notebook."""
    from numba import njit

    @njit
    def q_learning_update(q, s, a, r, s_next, terminated, alpha, gamma):
        target = r if terminated else r + gamma * np.max(q[s_next])
        td_error = target - q[s, a]
        q[s, a] += alpha * td_error
        return td_error

    assert checks.check_q_learning_update(q_learning_update) is True


def test_an_error_in_the_students_code_names_the_line_at_fault(capsys):
    def update(q, s, a, r, s_next, terminated, alpha, gamma):
        target = r + gamma * q[s_next].max()
        q[s, a] += alpha * (target - q[s, a]) * q[99, 0]  # index 99 is outside the table
    assert checks.check_q_learning_update(update) is False
    out = capsys.readouterr().out
    assert "IndexError at line" in out and "q[99, 0]" in out, out
    assert "Traceback" not in out


def test_a_numba_typing_error_becomes_a_few_plain_lines(capsys):
    """A float used as an index in a compiled answer: numba's pages of candidates become one hint."""
    from numba import njit

    @njit
    def planning(q, model, n, alpha, gamma):
        for _ in range(n):
            s, a = tabular.model_sample(model)
            q[s, a] += gamma * (model.reward[s, a] + alpha * q[model.next_state[s, a]].max() - q[s, a])
            q[alpha, a] = q[s, a]  # alpha (a float) used as a row index: numba cannot type it

    assert checks.check_planning(planning) is False
    out = capsys.readouterr().out
    assert "numba could not compile your function at line" in out, out
    assert "q[alpha, a] = q[s, a]" in out and "wrong order" in out
    assert "candidate implementations" not in out and len(out.splitlines()) <= 6, out
