"""Self-checks for notebook 08, choosing a method: reading decisions off the measured table.

The methods that meet a budget of real steps and of compute, and a compute ratio between two rows.
The references are summary.methods_within_budget and summary.compute_ratio, run on the
course's own table (summary.build_table()).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from mbrl_helpers.course.checks.common import call, never_raises, number, report

# Budgets (task, max real steps, max ms per real step): some exactly at a row's numbers, so that
# "at most" and "less than" differ; some so tight or so loose that the answer is empty or long.
_BUDGETS = (
    ("CartPole-v1", 5_000, 40.0), ("CartPole-v1", 1_674, 35.0), ("CartPole-v1", 10_000, 1_000.0),
    ("CartPole-v1", 40_000, 20.0), ("CartPole-v1", 100, 1_000.0), ("Dyna Maze", 1_000, 0.001),
    ("Dyna Maze", 5_000, 0.00066), ("Dyna Maze", 100_000, 10.0), ("Dyna Maze", 995.5, 1.0),
    ("Dyna Maze, 14-step path", 2_000, 0.01), ("Dyna Maze, 14-step path", 1_252, 1.0),
    ("Pendulum-v1", 2_000, 100.0), ("Pendulum-v1", 1_400, 92.3), ("Shortcut Maze", 100_000, 1_000.0),
)

_BUDGET_MISTAKES = {
    "strict": "A method exactly at the budget meets it: the budget is an upper limit that may be "
              "reached, not one that must be beaten.",
    "any_task": "Keep only the rows of the task asked about: the table holds four tasks.",
    "steps_only": "Both budgets must hold: the compute per real step counts too.",
    "ms_only": "Both budgets must hold: the real steps to solve count too.",
    "unsolved_at_budget": "A row whose median run did not solve (infinite real steps; the figure draws it "
                          "at its budget) meets no budget.",
    "unordered": "Order the methods by real steps to solve, fewest first (ties: the cheaper first).",
}


def _within_with(mistake: str, rows: list, task: str, max_steps: float, max_ms: float) -> list[str]:
    """methods_within_budget made with one of _BUDGET_MISTAKES (a key of it; "" for none)."""
    fits = []
    for r in rows:
        if r.task != task and mistake != "any_task":
            continue
        if r.real_steps_to_solve is None or r.ms_per_real_step is None:
            continue
        steps = r.real_steps_to_solve
        if math.isinf(steps) and mistake == "unsolved_at_budget" and r.budget is not None:
            steps = r.budget
        if mistake == "strict":
            ok = steps < max_steps and r.ms_per_real_step < max_ms
        else:
            ok = ((steps <= max_steps or mistake == "ms_only")
                  and (r.ms_per_real_step <= max_ms or mistake == "steps_only"))
        if ok:
            fits.append((steps, r.ms_per_real_step, r.method))
    if mistake != "unordered":
        fits.sort(key=lambda f: (f[0], f[1]))
    return [method for _, _, method in fits]


@never_raises
def check_methods_within_budget(student_fn: Callable) -> bool:
    """Check fn(rows, task, max_real_steps, max_ms_per_real_step) -> list of method names against
    summary.methods_within_budget, on the course's table and several budgets."""
    from mbrl_helpers.course import summary

    name = "methods_within_budget"
    rows = summary.build_table()
    answers, first_wrong = [], None
    for i, (task, max_steps, max_ms) in enumerate(_BUDGETS):
        expected = summary.methods_within_budget(rows, task, max_steps, max_ms)
        got, error = call(student_fn, list(rows), task, max_steps, max_ms)
        case = f"Input: task={task!r}, max_real_steps={max_steps:,}, max_ms_per_real_step={max_ms}."
        if error:
            return report(False, name, f"{case}\n{error}")
        if not isinstance(got, (list, tuple)) or not all(isinstance(m, str) for m in got):
            return report(False, name, f"{case}\nReturn a list of the methods' names (the rows' `method` "
                                       f"strings); got {got!r:.120}.")
        answers.append(list(got))
        if list(got) != expected and first_wrong is None:
            first_wrong = (i, case, expected, list(got))
    if first_wrong is None:
        return report(True, name)
    i, case, expected, got = first_wrong
    hint = f"Expected {expected}, got {got}."
    for mistake, why in _BUDGET_MISTAKES.items():       # the mistake that explains every answer
        if all(_within_with(mistake, rows, *budget) == answer
               for budget, answer in zip(_BUDGETS, answers, strict=True)):
            hint += " " + why
            break
    return report(False, name, f"{case}\n{hint}")


# (task, method, baseline) pairs whose compute ratio the check asks for.
_RATIO_CASES = (
    ("Dyna Maze", "MCTS (UCT), perfect simulator", "Dyna-Q, n = 50"),
    ("CartPole-v1", "simple MBRL", "DQN, 4 updates/step"),
    ("CartPole-v1", "MCTS (UCT), perfect simulator", "DQN, 1 update/step"),
    ("Dyna Maze", "Dyna-Q, n = 5", "Q-learning (Dyna-Q, n = 0)"),
    ("CartPole-v1", "MPC (CEM, H = 30) + terminal value", "DQN, 6 updates/step (updates-matched to MPC)"),
)


def _ratio_wrong_versions(rows: list, task: str, method: str, baseline: str) -> dict[str, float]:
    """Common mistakes in compute_ratio, each named by the hint it earns."""
    from mbrl_helpers.course.summary import find

    a, b = find(rows, task, method), find(rows, task, baseline)
    return {
        "The ratio is the method's compute over the baseline's, not the other way round.":
            b.ms_per_real_step / a.ms_per_real_step,
        "Compare compute per real step (milliseconds), not real steps to solve.":
            a.real_steps_to_solve / b.real_steps_to_solve,
        "'How many times' asks for a ratio, not a difference.":
            a.ms_per_real_step - b.ms_per_real_step,
    }


@never_raises
def check_compute_ratio(student_fn: Callable) -> bool:
    """Check fn(rows, task, method, baseline) -> float against summary.compute_ratio."""
    from mbrl_helpers.course import summary

    name = "compute_ratio"
    rows = summary.build_table()
    for task, method, baseline in _RATIO_CASES:
        expected = summary.compute_ratio(rows, task, method, baseline)
        got, error = call(student_fn, list(rows), task, method, baseline)
        case = f"Input: task={task!r}, method={method!r}, baseline={baseline!r}."
        got_value, error = number(got, error)
        if error:
            return report(False, name, f"{case}\n{error}")
        if not np.isclose(got_value, expected, rtol=1e-9):
            hint = f"Expected {expected:,.4g}, got {got_value:,.4g}."
            for why, wrong in _ratio_wrong_versions(rows, task, method, baseline).items():
                if np.isclose(got_value, wrong, rtol=1e-9):
                    hint += " " + why
                    break
            return report(False, name, f"{case}\n{hint}")
    return report(True, name)
