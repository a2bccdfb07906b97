"""Notebook 08's exercise checks: each accepts the reference, rejects the stub with its message,
and names every common mistake it lists with that mistake's hint."""

import math

import pytest

from mbrl_helpers.course import checks, summary
from mbrl_helpers.course.checks import lesson08_choosing as lesson08


def stub(*args):
    raise NotImplementedError


# -- Exercise 1: the methods that meet a budget -------------------------------------------------
def within_budget(rows, task, max_real_steps, max_ms_per_real_step):
    fits = []
    for r in rows:
        if r.task != task or r.real_steps_to_solve is None or r.ms_per_real_step is None:
            continue
        if r.real_steps_to_solve <= max_real_steps and r.ms_per_real_step <= max_ms_per_real_step:
            fits.append(r)
    fits.sort(key=lambda r: (r.real_steps_to_solve, r.ms_per_real_step))
    return [r.method for r in fits]


def test_budget_check_accepts_the_reference_and_the_package(capsys):
    assert checks.check_methods_within_budget(within_budget)
    assert "Correct" in capsys.readouterr().out
    assert checks.check_methods_within_budget(summary.methods_within_budget)
    assert "Correct" in capsys.readouterr().out


def test_budget_check_rejects_the_stub_and_rows_for_names(capsys):
    assert not checks.check_methods_within_budget(stub)
    assert "NotImplementedError" in capsys.readouterr().out
    assert not checks.check_methods_within_budget(lambda rows, *args: rows[:1])
    assert "Return a list of the methods' names" in capsys.readouterr().out


def test_budget_check_explains_a_comparison_with_none(capsys):
    def forgets_none(rows, task, max_real_steps, max_ms_per_real_step):
        return [r.method for r in rows if r.task == task and r.real_steps_to_solve <= max_real_steps]

    assert not checks.check_methods_within_budget(forgets_none)
    assert "TypeError" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", lesson08._BUDGET_MISTAKES)
def test_budget_check_names_each_mistake(mistake, capsys):
    def wrong(rows, task, max_real_steps, max_ms_per_real_step):
        return lesson08._within_with(mistake, rows, task, max_real_steps, max_ms_per_real_step)

    assert not checks.check_methods_within_budget(wrong)
    out = capsys.readouterr().out
    assert "Not yet" in out and lesson08._BUDGET_MISTAKES[mistake] in out


def test_budget_mistakes_agree_with_the_package_when_off():
    rows = summary.build_table()
    for budget in lesson08._BUDGETS:
        assert lesson08._within_with("", rows, *budget) == summary.methods_within_budget(rows, *budget)


# -- Exercise 2: a compute ratio ----------------------------------------------------------------
def ratio(rows, task, method, baseline):
    method_ms = summary.find(rows, task, method).ms_per_real_step
    return method_ms / summary.find(rows, task, baseline).ms_per_real_step


def test_ratio_check_accepts_the_reference(capsys):
    assert checks.check_compute_ratio(ratio)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_compute_ratio(stub)
    assert "NotImplementedError" in capsys.readouterr().out


def ms(rows, task, method):
    return summary.find(rows, task, method).ms_per_real_step


def steps(rows, task, method):
    return summary.find(rows, task, method).real_steps_to_solve


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda rows, t, m, b: ms(rows, t, b) / ms(rows, t, m), "not the other way round"),
    (lambda rows, t, m, b: steps(rows, t, m) / steps(rows, t, b), "not real steps to solve"),
    (lambda rows, t, m, b: ms(rows, t, m) - ms(rows, t, b), "not a difference"),
])
def test_ratio_check_names_each_mistake(wrong, hint, capsys):
    assert not checks.check_compute_ratio(wrong)
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out


def test_ratio_cases_have_times():
    rows = summary.build_table()
    for task, method, baseline in lesson08._RATIO_CASES:
        assert math.isfinite(summary.compute_ratio(rows, task, method, baseline))
