"""Notebook 08's summary table, read from the committed benchmark results (never typed in).

Every results file (package data in mbrl_helpers/results/, found by mbrl_helpers.results)
carries "schema": N, the version of its keys. This
module knows, per file, the schema it expects, the keys it reads, the command that regenerates
it, and one extractor that turns the file into table rows (or headline facts). A missing file,
an older schema or a missing key raises an error that names the file and that command.

    rows = summary.build_table()              # list[Row], one per method and task
    facts = summary.build_facts()             # {"mcts.compiled_speedup": 113.0, ...}
    summary.table_markdown(rows)              # the table as markdown
    summary.efficiency_figure(rows)           # real steps to solve vs compute per real step
    summary.methods_within_budget(rows, "CartPole-v1", 5_000, 40.0)   # what meets a budget
    summary.recorded_run_hours()              # {"mpc": 5.2, ...}: what regenerating costs
    summary.readme_section()                  # README's "Results at a glance" text

To add a results file (e.g. notebook 07's): write an extractor `rows_<name>(data) -> list[Row]`
(or facts), and add one ResultsFile to RESULTS_FILES.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mbrl_helpers import results
from mbrl_helpers.course.plots import COLOURS, MARKERS
from mbrl_helpers.results import MissingResultsError  # noqa: F401 - callers catch summary.MissingResultsError


class StaleResultsError(ValueError):
    """A results file was written by an older version of its benchmark (older schema)."""


@dataclass(frozen=True)
class Row:
    """One method on one task, as measured.

    real_steps_to_solve: median over runs (real environment steps); math.inf when the median
    run did not solve the task within `budget`; None where "solved" is not defined (Shortcut Maze).
    model_calls_per_real_step: planning updates, imagined transitions or simulated search steps
    per real step (0 for model-free). ms_per_real_step: milliseconds of compute per real step on
    the machine named in the results file, learning and planning included (CPU time for the tabular
    and search rows; wall time of one-thread torch runs for the CartPole learners).
    """

    task: str
    method: str
    model: str            # "none", "tabular, learned", "neural ensemble, learned", "perfect simulator"
    real_env: str         # what the real environment is used for
    planning: str         # "none", "background (Dyna)", "decision-time search", ...
    real_steps_to_solve: float | None
    solved: int
    runs: int
    budget: int | None
    model_calls_per_real_step: float | None   # None: not measured
    ms_per_real_step: float | None   # None: not measured
    outcome: str          # the final result, in words with its number
    when_model_wrong: str
    source: str           # the results file's name


@dataclass(frozen=True)
class ResultsFile:
    """What the summary expects of one results file, and how it reads it."""

    name: str                                     # mbrl_helpers/results/<name>.json
    schema: int                                   # the schema the extractors below were written for
    keys: tuple[str, ...]                         # top-level keys they read
    command: str                                  # the command that regenerates the file
    rows: Callable[[dict], list[Row]] = field(default=lambda data: [])
    facts: Callable[[dict], dict[str, float]] = field(default=lambda data: {})


def load_results(spec: ResultsFile, folder: Path | str | None = None) -> dict:
    """The parsed JSON of spec's file, after checking it exists, its schema and its keys.

    Raises MissingResultsError (no file), StaleResultsError (no or older "schema": regenerate),
    ValueError (newer schema than this module knows, or a key missing).
    """
    data = results.load_json(f"{spec.name}.json", folder=folder, command=spec.command)
    path = results.results_path(f"{spec.name}.json", folder=folder, command=spec.command)
    found = data.get("schema")
    if not isinstance(found, int) or found < spec.schema:
        raise StaleResultsError(f"stale results file {path}: schema {found!r}, expected {spec.schema}; "
                                f"regenerate it with `{spec.command}`")
    if found > spec.schema:
        raise ValueError(f"results file {path} has schema {found}, newer than the {spec.schema} that "
                         "mbrl_helpers.course.summary reads: update its extractor")
    missing = [key for key in spec.keys if key not in data]
    if missing:
        raise StaleResultsError(f"stale results file {path}: keys {missing} missing; "
                                f"regenerate it with `{spec.command}`")
    return data


def median_steps(steps: list[int | None]) -> float:
    """Median of real steps to solve; an unsolved run (None) counts as more than any solved one."""
    return float(np.median([math.inf if s is None else s for s in steps]))


# -- one extractor per results file ----------------------------------------------------------

def facts_dyna_q(data: dict) -> dict[str, float]:
    """01: the compiled Dyna-Q's speed."""
    return {"dyna_q.speedup_vs_plain_python": data["speedup_vs_plain_python"],
            "dyna_q.figure_8_2_seconds": data["figure_8_2_seconds"]}


def facts_tabular_02(data: dict) -> dict[str, float]:
    """02: the changing mazes and Example 8.4, timed."""
    return {"tabular_02.all_three_seconds": data["all_three_seconds"],
            "tabular_02.speedup_vs_plain_python": data["speedup_vs_plain_python"]}


def facts_models(data: dict) -> dict[str, float]:
    """03: one-step error of the CartPole models (normalised MSE) and learned termination."""
    rows = {(r["env"], r["ensemble_size"]): r for r in data["rows"]}
    ensemble = rows[("CartPole-v1", max(e for env, e in rows if env == "CartPole-v1"))]
    return {"models.cartpole_ensemble_nmse": ensemble["nmse_mean"],
            "models.cartpole_termination_accuracy": ensemble["termination_accuracy"]}


def facts_mcts(data: dict) -> dict[str, float]:
    """06: UCT simulations per second at depth 20, compiled vs the naive reference."""
    sps = data["simulations_per_second"]["20"]
    naive = sps["naive reference (objects + env deepcopy)"]
    compiled = sps["package, compiled path"]
    sweep = data["cartpole_100_sims_steps_by_seed"]["MCTS normalised, depth 20"]
    return {"mcts.compiled_sims_per_second": compiled, "mcts.compiled_speedup": round(compiled / naive, 1),
            "mcts.cartpole_full_episodes": sum(s == 500 for s in sweep), "mcts.cartpole_seeds": len(sweep)}


IMAGINED = {   # imagined.json's method name -> (short name, model, planning, when the model is wrong)
    "DQN, 1 update/step": ("DQN, 1 update/step", "none", "none", "no model"),
    "DQN, 4 updates/step (replay-matched)": ("DQN, 4 updates/step", "none", "none", "no model"),
    "simple MBRL (policy trained only in the model, rounds of 500 real steps)":
        ("simple MBRL", "neural ensemble, learned", "policy trained only in the model", ""),
}


def rows_imagined(data: dict) -> list[Row]:
    """04: CartPole-v1 learners, real steps to a mean greedy return of 475 (5 seeds each)."""
    out = []
    for r in data["table"]:
        name = r["method"]
        short, model, planning, wrong = IMAGINED.get(name, (
            name.replace(", 4 updates/step", "").replace("disagreement guard", "guard"),
            "neural ensemble, learned", "background (Dyna, branched rollouts)", ""))
        if not wrong:
            wrong = (f"model bias: {r['solved']} of {r['runs']} runs solved within "
                     f"{r['budget']:,} real steps")
        out.append(Row(
            task="CartPole-v1", method=short, model=model,
            real_env="every transition trains the agent" if model == "none" else
            "transitions train the model" + (" and the agent" if "Dyna" in planning else ""),
            planning=planning, real_steps_to_solve=float(r["median"]), solved=r["solved"],
            runs=r["runs"], budget=r["budget"], model_calls_per_real_step=r["imagined_per_real_step"],
            ms_per_real_step=r["ms_per_real_step"],
            outcome=f"solved {r['solved']} of {r['runs']}", when_model_wrong=wrong, source="imagined"))
    return out


def rows_methods(data: dict) -> list[Row]:
    """08: the Dyna Maze learners and planners, UCT on CartPole, and the Shortcut Maze."""
    out = []
    for name, r in data["dyna_maze"].items():
        search = name.startswith("MCTS")
        learned = name.startswith(("Dyna", "prioritized"))
        out.append(Row(
            task="Dyna Maze", method=name,
            model="perfect simulator" if search else "tabular, learned" if learned else "none",
            real_env="acting only" if search else "every transition trains Q" +
            (" and the model" if learned else ""),
            planning="decision-time search" if search else "background (Dyna)" if learned else "none",
            real_steps_to_solve=median_steps(r["real_steps_to_solve"]), solved=r["solved"],
            runs=r["runs"], budget=None, model_calls_per_real_step=r["model_calls_per_real_step"],
            ms_per_real_step=r["cpu_ms_per_real_step"], outcome=f"solved {r['solved']} of {r['runs']}",
            when_model_wrong="needs the true model (07: a learned one)" if search else
            "see Shortcut Maze" if learned else "no model", source="methods"))
    r = data["cartpole"]["MCTS (UCT), perfect simulator"]
    out.append(Row(
        task="CartPole-v1", method="MCTS (UCT), perfect simulator", model="perfect simulator",
        real_env="acting only", planning="decision-time search",
        real_steps_to_solve=median_steps(r["real_steps_to_solve"]), solved=r["solved"], runs=r["runs"],
        budget=None, model_calls_per_real_step=r["model_calls_per_real_step"],
        ms_per_real_step=r["cpu_ms_per_real_step"], outcome=f"solved {r['solved']} of {r['runs']}",
        when_model_wrong="needs the true model (07: a learned one)", source="methods"))
    for name, r in data["shortcut_maze"].items():
        before, after = np.mean(r["reward_before_switch"]), np.mean(r["reward_after_switch"])
        plus = "+" in name
        out.append(Row(
            task="Shortcut Maze", method=name, model="tabular, learned", real_env="every transition "
            "trains Q and the model", planning="background (Dyna)" + (", exploration bonus" if plus else ""),
            real_steps_to_solve=None, solved=0, runs=r["runs"], budget=None,
            model_calls_per_real_step=r["model_calls_per_real_step"],
            ms_per_real_step=r["cpu_ms_per_real_step"],
            outcome=f"reward {before:.0f} before, {after:.0f} after the shortcut opens",
            when_model_wrong=("bonus re-tries old model entries: " if plus else
                              "model keeps the old wall: ") + f"{after:.0f} reward after the switch",
            source="methods"))
    return out


def facts_methods(data: dict) -> dict[str, float]:
    """08: the numbers the decision guide quotes from the common-task benchmark."""
    maze = data["dyna_maze"]
    cut = data["shortcut_maze"]
    after = {name: float(np.mean(r["reward_after_switch"])) for name, r in cut.items()}
    return {"methods.load_average": data["load_average_1min_after"],
            "methods.shortcut_dyna_q_after": after["Dyna-Q, n = 10"],
            "methods.shortcut_dyna_q_plus_after": after["Dyna-Q+, n = 10"],
            "methods.maze_mcts_episode_steps_median": float(np.median(
                maze["MCTS (UCT), perfect simulator"]["episode_steps"]))}


def _optimal_steps(stats: dict) -> float:
    """dyna_mcts.json's steps_to_optimal -> median real steps (inf when the median run never got there)."""
    return math.inf if stats["median"] is None else float(stats["median"])


def rows_dyna_mcts(data: dict) -> list[Row]:
    """07: Dyna-MCTS vs Dyna-Q at equal budgets B of model calls per real step (ablations left out).

    Its "solved" is stricter than bench_methods': the greedy path is a 14-step (shortest) path,
    so its Dyna Maze rows form a task of their own.
    """
    out = []
    maze = data["dyna_maze"]
    for budget, agents in sorted(maze.items(), key=lambda item: item[0] != "q-learning"):
        if budget == "q-learning":
            stats = agents["steps_to_optimal"]
            out.append(Row(
                task="Dyna Maze, 14-step path", method="Q-learning (Dyna-Q, n = 0)", model="none",
                real_env="every transition trains Q", planning="none",
                real_steps_to_solve=_optimal_steps(stats), solved=stats["found"], runs=stats["runs"],
                budget=None, model_calls_per_real_step=0.0, ms_per_real_step=None,
                outcome=f"reached the 14-step path in {stats['found']} of {stats['runs']}",
                when_model_wrong="no model", source="dyna_mcts"))
            continue
        for label, r in agents.items():
            if not label.startswith("Dyna-"):
                continue                  # "... <variant>" rows are ablations of the row above them
            stats = r["steps_to_optimal"]
            dyna_q = label.startswith("Dyna-Q")
            out.append(Row(
                task="Dyna Maze, 14-step path",
                method=f"Dyna-Q, n = {budget}" if dyna_q else f"{label}, B = {budget}",
                model="tabular, learned", real_env="every transition trains Q and the model",
                planning="background (Dyna)" if dyna_q else "background search (Dyna-MCTS)",
                real_steps_to_solve=_optimal_steps(stats), solved=stats["found"], runs=stats["runs"],
                budget=None, model_calls_per_real_step=r["model_calls_per_real_step"],
                ms_per_real_step=1000 * r["seconds_per_real_step"],
                outcome=f"reached the 14-step path in {stats['found']} of {stats['runs']}",
                when_model_wrong="see Shortcut Maze", source="dyna_mcts"))
    cut = data["shortcut_maze"]
    for budget, agents in cut["budgets"].items():
        for label, r in agents.items():
            if not label.startswith("Dyna-"):
                continue
            dyna_q = label.startswith("Dyna-Q")
            found, runs = r["shortcut_found_runs"], cut["runs"]
            wrong = f"shortcut found in {found} of {runs} runs"
            if found and r["goals_before_switch_if_not"] is not None:
                wrong += (f" (those reached the goal {r['goals_before_switch_if_found']:.0f} times "
                          f"before the change, the others {r['goals_before_switch_if_not']:.0f})")
            out.append(Row(
                task="Shortcut Maze", method=f"Dyna-Q, n = {budget}" if dyna_q else f"{label}, B = {budget}",
                model="tabular, learned", real_env="every transition trains Q and the model",
                planning="background (Dyna)" if dyna_q else "background search (Dyna-MCTS)",
                real_steps_to_solve=None, solved=0, runs=runs, budget=None,
                model_calls_per_real_step=float(budget), ms_per_real_step=None,
                outcome=(f"reward {r['goals_before_switch']:.0f} before, {r['goals_after_switch']:.0f} after "
                         "the shortcut opens"),
                when_model_wrong=wrong, source="dyna_mcts"))
    return out


def _transitions(model: str) -> int:
    """Real transitions a learned model was fitted on, from its name ("learned, 2,000 ..."); 0 if none."""
    found = re.search(r"(\d[\d,]*)", model)
    return int(found.group(1).replace(",", "")) if found else 0


def rows_learned_mcts(data: dict) -> list[Row]:
    """07: batched PUCT on CartPole-v1 with the true model or a learned ensemble, one row per model at
    its best rollout depth (by mean return). Real steps to solve = the model's data + the first episode."""
    settings, solved_at = data["settings"], data["solved"]
    out = []
    for model, by_depth in data["returns"].items():
        best = int(np.argmax([np.mean(r) for r in by_depth]))
        returns = by_depth[best]
        data_steps = _transitions(model)
        steps = [data_steps + int(r) if r >= solved_at else None for r in returns]
        real_steps = sum(sum(r) for r in by_depth)          # one real step per unit of return
        learned = model != "true simulator"
        out.append(Row(
            task="CartPole-v1",
            method=f"PUCT ({settings['n_simulations']} sims), {model}, depth {settings['depths'][best]}",
            model="neural ensemble, learned" if learned else "perfect simulator",
            real_env="transitions train the model; then acting only" if learned else "acting only",
            planning="decision-time search", real_steps_to_solve=median_steps(steps),
            solved=sum(s is not None for s in steps), runs=len(returns),
            budget=data_steps + settings["max_steps"],            # the model's data + one episode
            model_calls_per_real_step=None, ms_per_real_step=1000 * data["seconds"][model] / real_steps,
            outcome=f"solved {sum(s is not None for s in steps)} of {len(returns)}; mean return "
                    f"{np.mean(returns):.0f}",
            when_model_wrong=(f"mean return {np.mean(returns):.0f} against the true model's "
                              f"{np.mean(data['returns']['true simulator'][best]):.0f} at the same depth")
            if learned else "needs the true model", source="learned_mcts"))
    return out


def rows_alphazero(data: dict) -> list[Row]:
    """07: the AlphaZero-style agent (PUCT on a learned model, value and prior nets) on CartPole-v1."""
    out = []
    for r in data["table"]:
        if not r["method"].startswith("AlphaZero"):
            continue                      # its DQN rows are copies of imagined.json's
        out.append(Row(
            task="CartPole-v1", method=r["method"], model="neural ensemble, learned",
            real_env="transitions train the model and the nets", planning="decision-time search (PUCT)",
            real_steps_to_solve=float(r["median"]), solved=r["solved"], runs=r["runs"], budget=r["budget"],
            model_calls_per_real_step=r["model_calls_per_real_step"], ms_per_real_step=r["ms_per_real_step"],
            outcome=f"solved {r['solved']} of {r['runs']}",
            when_model_wrong=f"{r['solved']} of {r['runs']} runs solved within {r['budget']:,} real steps",
            source="alphazero"))
    return out


MPC_ROWS = {   # mpc.json's method -> the overview's name, its model and planning (the lesson's rows only)
    "MPC, CEM, H = 30, N = 50, learned ensemble + terminal value":
        ("MPC (CEM, H = 30) + terminal value", "neural ensemble, learned", "decision-time (MPC, CEM)"),
    "MPC, CEM, learned ensemble":
        ("MPC (CEM, H = 20)", "neural ensemble, learned", "decision-time (MPC, CEM)"),
    "DQN, 6 updates/step (updates-matched to MPC)":
        ("DQN, 6 updates/step (updates-matched to MPC)", "none", "none"),
    "DQN, 7 updates/step (updates-matched to simple MBRL)":
        ("DQN, 7 updates/step (updates-matched to simple MBRL)", "none", "none"),
}


def rows_mpc(data: dict) -> list[Row]:
    """05: model-predictive control in the model-based RL loop (CartPole-v1, Pendulum-v1) and the
    DQN controls that make as many gradient updates per real step."""
    out = []
    for r in data["table"]:
        if r["method"] not in MPC_ROWS:
            continue                      # ablations and the first, shorter-horizon setting
        short, model, planning = MPC_ROWS[r["method"]]
        learned = model != "none"
        trains = "the model" + (" and the terminal value" if "terminal" in short else "")
        out.append(Row(
            task=r["task"], method=short, model=model,
            real_env=f"transitions train {trains}" if learned else "every transition trains the agent",
            planning=planning, real_steps_to_solve=float(r["median"]), solved=r["solved"], runs=r["runs"],
            budget=r["budget"], model_calls_per_real_step=r["model_calls_per_real_step"],
            ms_per_real_step=r["ms_per_real_step"], outcome=f"solved {r['solved']} of {r['runs']}",
            when_model_wrong=(f"replans every real step, refits every episode: {r['solved']} of {r['runs']} "
                              f"runs solved within {r['budget']:,} real steps") if learned else "no model",
            source="mpc"))
    return out


RESULTS_FILES: tuple[ResultsFile, ...] = (
    ResultsFile("dyna_q", 1, ("machine", "speedup_vs_plain_python", "figure_8_2_seconds"),
                "python3 course.py run benchmarks/bench_dyna_q.py", facts=facts_dyna_q),
    ResultsFile("tabular_02", 1, ("machine", "all_three_seconds", "speedup_vs_plain_python"),
                "python3 course.py run benchmarks/bench_tabular_02.py", facts=facts_tabular_02),
    ResultsFile("models", 1, ("machine", "rows"), "python3 course.py run benchmarks/bench_models.py",
                facts=facts_models),
    ResultsFile("imagined", 1, ("machine", "table"),
                "python3 course.py run benchmarks/bench_imagined.py --report", rows=rows_imagined),
    ResultsFile("mpc", 1, ("machine", "table"),
                "python3 course.py run benchmarks/bench_mpc.py --report", rows=rows_mpc),
    ResultsFile("mcts", 1, ("machine", "simulations_per_second", "cartpole_100_sims_steps_by_seed"),
                "python3 course.py run benchmarks/bench_mcts.py", facts=facts_mcts),
    ResultsFile("methods", 1, ("machine", "dyna_maze", "cartpole", "shortcut_maze",
                               "load_average_1min_after"),
                "python3 course.py run benchmarks/bench_methods.py", rows=rows_methods, facts=facts_methods),
    ResultsFile("dyna_mcts", 1, ("machine", "dyna_maze", "shortcut_maze"),
                "python3 course.py run benchmarks/bench_dyna_mcts.py", rows=rows_dyna_mcts),
    ResultsFile("learned_mcts", 1, ("machine", "settings", "returns", "seconds", "solved"),
                "python3 course.py run benchmarks/bench_learned_mcts.py", rows=rows_learned_mcts),
    ResultsFile("alphazero", 1, ("machine", "table"),
                "python3 course.py run benchmarks/bench_alphazero.py --report", rows=rows_alphazero),
)
TASK_ORDER = ("Dyna Maze", "Dyna Maze, 14-step path", "Shortcut Maze", "CartPole-v1", "Pendulum-v1")


def build_table(folder: Path | str | None = None) -> list[Row]:
    """Every row of every results file, grouped by task (Dyna Maze, Shortcut Maze, CartPole-v1)."""
    rows, seen = [], set()
    for spec in RESULTS_FILES:
        for row in spec.rows(load_results(spec, folder)):
            if (row.task, row.method) not in seen:     # one row per method and task: the first file wins
                seen.add((row.task, row.method))
                rows.append(row)
    return sorted(rows, key=lambda r: TASK_ORDER.index(r.task) if r.task in TASK_ORDER else len(TASK_ORDER))


def build_facts(folder: Path | str | None = None) -> dict[str, float]:
    """The headline numbers of every results file, keyed "<file>.<name>"."""
    return {k: v for spec in RESULTS_FILES for k, v in spec.facts(load_results(spec, folder)).items()}


def machines(folder: Path | str | None = None) -> dict[str, str]:
    """Results file name -> "date, cpu, cores" of the machine it was measured on."""
    out = {}
    for spec in RESULTS_FILES:
        m = load_results(spec, folder)["machine"]
        out[spec.name] = f"{m['date']}, {m['cpu']}, {m['cores']} cores"
    return out


def _seconds_recorded(data: object) -> float:
    """Sum of every "wall_time" (seconds, one per run) and "total_seconds" in a results file."""
    if isinstance(data, dict):
        return sum(value if key in ("wall_time", "total_seconds") and isinstance(value, (int, float))
                   else _seconds_recorded(value) for key, value in data.items())
    if isinstance(data, list):
        return sum(_seconds_recorded(value) for value in data)
    return 0.0


def recorded_run_hours(folder: Path | str | None = None) -> dict[str, float]:
    """Hours of wall time the benchmarks recorded, per results family ("imagined", "mpc", ...).

    A resumable benchmark writes each part to its own file (<family>.<part>...json) and merges
    them into <family>.json; the parts are summed, never the merged file as well, so no run counts
    twice. A family without part files counts its own file. Families recording no time are left out.
    """
    folder = Path(folder) if folder is not None else results.results_dir()
    files = sorted(folder.glob("*.json"))
    hours: dict[str, float] = {}
    for family in sorted({f.name.split(".")[0] for f in files}):
        parts = [f for f in files if f.name.startswith(family + ".") and f.name != family + ".json"]
        counted = parts or [folder / f"{family}.json"]
        seconds = sum(_seconds_recorded(json.loads(f.read_text())) for f in counted)
        if seconds > 0:
            hours[family] = seconds / 3600
    return hours


def find(rows: list[Row], task: str, method: str) -> Row:
    """The row of `method` on `task`; KeyError naming both if there is none."""
    for row in rows:
        if row.task == task and row.method == method:
            return row
    raise KeyError(f"no row for method {method!r} on task {task!r}")


def methods_within_budget(rows: list[Row], task: str, max_real_steps: float,
                          max_ms_per_real_step: float) -> list[str]:
    """The methods whose median run solved `task` within both budgets, fewest real steps first.

    A row qualifies when its real_steps_to_solve is at most max_real_steps and its
    ms_per_real_step at most max_ms_per_real_step. A row without either number (None) or whose
    median run did not solve (real_steps_to_solve = inf) never does. Ties in real steps: the
    cheaper per real step first. Returns the rows' method names.
    """
    fits = [r for r in rows if r.task == task and r.real_steps_to_solve is not None
            and r.ms_per_real_step is not None and r.real_steps_to_solve <= max_real_steps
            and r.ms_per_real_step <= max_ms_per_real_step]
    return [r.method for r in sorted(fits, key=lambda r: (r.real_steps_to_solve, r.ms_per_real_step))]


def compute_ratio(rows: list[Row], task: str, method: str, baseline: str) -> float:
    """How many times the baseline's compute per real step `method` spends on `task`:
    ms_per_real_step(method) / ms_per_real_step(baseline) (both rows must have a time)."""
    return find(rows, task, method).ms_per_real_step / find(rows, task, baseline).ms_per_real_step


def format_steps(row: Row) -> str:
    """Median real steps to solve as text: '1,234', '> 10,000' (unsolved) or 'n/a'."""
    if row.real_steps_to_solve is None:
        return "n/a"
    if math.isinf(row.real_steps_to_solve):
        return f"> {row.budget:,}" if row.budget else "unsolved"
    return f"{row.real_steps_to_solve:,.0f}"


def format_number(value: float | None) -> str:
    """Three significant figures, thousands separated: 0.00123, 1.5, 1,530; 'n/a' for None."""
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table_markdown(rows: list[Row], *, long: bool = True) -> str:
    """The table as markdown; long=False leaves out the descriptive columns (for the README)."""
    head = ["task", "method", "model", "planning", "real steps to solve (median)", "solved",
            "model calls / real step", "ms / real step", "when the model is wrong"]
    if not long:
        head = ["task", "method", "real steps to solve (median)", "model calls / real step",
                "ms / real step", "result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    for r in rows:
        solved = "n/a" if r.real_steps_to_solve is None else f"{r.solved} of {r.runs}"
        cells = ([r.task, r.method, r.model, r.planning, format_steps(r), solved,
                  format_number(r.model_calls_per_real_step), format_number(r.ms_per_real_step),
                  r.when_model_wrong] if long else
                 [r.task, r.method, format_steps(r), format_number(r.model_calls_per_real_step),
                  format_number(r.ms_per_real_step), r.outcome])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def efficiency_figure(rows: list[Row]) -> Figure:
    """Real steps to solve (y) against ms of compute per real step (x), log scales, one point per row.

    Points are numbered, each with its own label placed where it overlaps no other label or
    point (place_labels); the legend beside the axes names each number. Rows without a "solved"
    definition (Shortcut Maze) or without a time are left out; a row whose median run did not solve
    within its budget is drawn at the budget as an open marker (a lower bound).
    """
    fig, ax = plt.subplots(figsize=(10, 8.5))
    drawn = [r for r in rows if r.real_steps_to_solve is not None and r.ms_per_real_step is not None]
    tasks = [t for t in TASK_ORDER if any(r.task == t for r in drawn)]
    points: list[tuple[float, float, str]] = []     # (x, y, label) of every numbered point
    for i, task in enumerate(tasks):
        ax.plot([], [], " ", label=f"{task}:")        # a heading in the legend
        for r in (r for r in drawn if r.task == task):
            unsolved = math.isinf(r.real_steps_to_solve)
            y = r.budget if unsolved else r.real_steps_to_solve
            if y is None:
                continue
            number = len(points) + 1
            ax.scatter(r.ms_per_real_step, y, s=60, marker=MARKERS[i],
                       facecolors="none" if unsolved else COLOURS[i + 1], edgecolors=COLOURS[i + 1],
                       linewidths=1.5, zorder=3,
                       label=f"{number}  {r.method}" + (" (unsolved)" if unsolved else ""))
            points.append((r.ms_per_real_step, y, str(number)))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compute per real step: milliseconds (log scale; the benchmark machine)")
    ax.set_ylabel("real environment steps to solve (median, log scale)")
    ax.set_title("Sample efficiency vs compute: lower is fewer real steps, left is cheaper")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=7.5, frameon=False,
              title="open marker: the median run did not solve the task; drawn at its budget",
              title_fontsize=8)
    fig.tight_layout()
    place_labels(ax, points)        # after the layout: labels are placed in the final pixel positions
    return fig


# Where a point's label may go: rings of offsets (in points, from the point to the label's centre),
# nearest first; within a ring, right, upper right, up, ... so that a label sits beside its point
# when there is room, and further out, joined to it by a thin line, when there is not.
_LABEL_RINGS = (9.0, 15.0, 22.0, 30.0, 40.0, 52.0, 66.0)
_LABEL_ANGLES = np.deg2rad([0, 30, 330, 60, 300, 90, 270, 120, 240, 150, 210, 180])


def place_labels(ax: plt.Axes, points: list[tuple[float, float, str]], fontsize: float = 8.5,
                 marker_radius: float = 6.0) -> list[tuple[float, float]]:
    """Annotate each point (x, y, label) in data coordinates, without overlaps, greedily.

    Each label takes the first offset of _LABEL_RINGS x _LABEL_ANGLES where its box (as the
    figure's renderer draws it) overlaps no label placed before it, no point's
    marker (a square of marker_radius points) and stays inside the axes. Returns the offsets
    used, (dx, dy) in points per label; labels away from their point get a thin connecting line.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72.0
    centres = ax.transData.transform([(x, y) for x, y, _ in points])     # (P, 2) pixels
    inside = ax.get_window_extent()
    boxes: list[tuple[float, float, float, float]] = []                 # placed labels, pixels
    marker = marker_radius * px_per_pt

    def free(x0: float, y0: float, x1: float, y1: float) -> bool:
        if x0 < inside.x0 or x1 > inside.x1 or y0 < inside.y0 or y1 > inside.y1:
            return False
        if any(x0 < bx1 and bx0 < x1 and y0 < by1 and by0 < y1 for bx0, by0, bx1, by1 in boxes):
            return False
        return not any(x0 < cx + marker and cx - marker < x1 and y0 < cy + marker and cy - marker < y1
                       for cx, cy in centres)

    offsets = []
    for (x, y, label), (cx, cy) in zip(points, centres, strict=True):
        probe = ax.text(0, 0, label, fontsize=fontsize)          # the label's size as it will be drawn
        size = probe.get_window_extent(renderer)
        probe.remove()
        half_w, half_h = size.width / 2 + 1, size.height / 2 + 1
        candidates = [(r * math.cos(a), r * math.sin(a)) for r in _LABEL_RINGS for a in _LABEL_ANGLES]
        dx, dy = candidates[0]
        for ox, oy in candidates:
            lx, ly = cx + ox * px_per_pt, cy + oy * px_per_pt
            if free(lx - half_w, ly - half_h, lx + half_w, ly + half_h):
                dx, dy = ox, oy
                break
        lx, ly = cx + dx * px_per_pt, cy + dy * px_per_pt
        boxes.append((lx - half_w, ly - half_h, lx + half_w, ly + half_h))
        far = math.hypot(dx, dy) > _LABEL_RINGS[0] + 1
        ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", ha="center", va="center",
                    fontsize=fontsize, zorder=4,
                    arrowprops={"arrowstyle": "-", "lw": 0.6, "color": "#777777", "shrinkA": 3, "shrinkB": 5}
                    if far else None)
        offsets.append((dx, dy))
    return offsets


if __name__ == "__main__":
    print(table_markdown(build_table()))
