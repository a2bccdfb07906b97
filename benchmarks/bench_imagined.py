"""Notebook 04's numbers: real steps to solve CartPole-v1, model-free DQN vs learning from a model.

    python3 course.py run benchmarks/bench_imagined.py --part model_free   # DQN, 1 and 4 updates/step
    python3 course.py run benchmarks/bench_imagined.py --part model_based  # simple MBRL and Dyna-DQN
    python3 course.py run benchmarks/bench_imagined.py --part grid         # the slider's k x h grid
    python3 course.py run benchmarks/bench_imagined.py --report    # table + figure from what was measured
    python3 course.py run benchmarks/bench_imagined.py --quick     # checks the code runs (CI)

(model_free and model_based: 5 seeds each; grid: 2 seeds.)

Each part appends every finished run to mbrl_helpers/results/imagined.<part>.json
(so a part can run in the background and be resumed: finished runs are skipped).
--report merges them into imagined.json, writes the table imagined.md and the
figure imagined.png. "Solved" = mean greedy return over 5 real evaluation
episodes >= 475, evaluated every 1,000 real steps (simple MBRL: after every
round), the same for every method; a run stops once solved.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

# before torch: importing mbrl_helpers fixes torch's CPU kernels (mbrl_helpers.core.reproducibility)
import mbrl_helpers  # noqa: E402, F401

# isort: split
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine_info, markdown_header  # noqa: E402

from mbrl_helpers.agents import dqn, imagined  # noqa: E402
from mbrl_helpers.results import results_dir  # noqa: E402

RESULTS = results_dir()   # the package's committed results (mbrl_helpers/results/)
# Version of imagined.json's keys; mbrl_helpers.course.summary checks it. Bump it when they change.
SCHEMA = 1
SEEDS = (0, 1, 2, 3, 4)
MODEL_FREE_BUDGET = 40_000     # real steps per model-free run at most
MODEL_BASED_BUDGET = 10_000    # real steps per Dyna-DQN run at most
SIMPLE_BUDGET = 6_000          # real steps per simple-MBRL run at most (1,000 random + 10 rounds of 500)
GRID_BUDGET = MODEL_BASED_BUDGET
GRID_SEEDS = (0, 1)
GRID_K = (0, 16, 64)           # imagined transitions per real step (slider values)
GRID_H = (1, 3, 5)             # rollout length (slider values)
# Grid points measured by the grid part; (16, 3) and (64, 5) come from the model_based part
# (5 seeds) and k = 0 from the replay-matched DQN runs of the model_free part.
GRID_EXTRA = ((64, 1), (16, 5), (64, 3), (16, 1))

Runner = Callable[[int], dqn.RunResult]


def dqn_run(updates_per_step: int, budget: int) -> Runner:
    config = dqn.DQNConfig(updates_per_step=updates_per_step, max_steps=budget)
    return lambda seed: dqn.train_dqn(config, seed, label=f"DQN, {updates_per_step} update(s)/step")


def dyna_run(k: int, h: int, budget: int, *, updates_per_step: int = 4,
             max_disagreement: float | None = None) -> Runner:
    dqn_config = dqn.DQNConfig(updates_per_step=updates_per_step, max_steps=budget)
    config = imagined.DynaConfig(imagined_per_step=k, rollout_length=h, max_disagreement=max_disagreement)
    return lambda seed: imagined.run_dyna_dqn(dqn_config, config, seed, label=f"Dyna-DQN k={k} h={h}")


def simple_mbrl_run(budget: int, quick: bool = False) -> Runner:
    config = imagined.SimpleMBRLConfig(rounds=1 + (budget - 1_000) // 500)
    if quick:
        config = imagined.SimpleMBRLConfig(initial_random_steps=200, steps_per_round=100, rounds=2,
                                           updates_per_round=50, refresh_every=25)
    return lambda seed: imagined.run_simple_mbrl(config, seed, label="simple MBRL")


def parts(quick: bool = False) -> dict[str, dict[str, Runner]]:
    mf, mb = (MODEL_FREE_BUDGET, MODEL_BASED_BUDGET) if not quick else (1_200, 1_200)
    return {
        "model_free": {
            "DQN, 1 update/step": dqn_run(1, mf),
            "DQN, 4 updates/step (replay-matched)": dqn_run(4, mf),
        },
        "model_based": {
            "simple MBRL (policy trained only in the model, rounds of 500 real steps)":
                simple_mbrl_run(SIMPLE_BUDGET, quick),
            "Dyna-DQN, k=16, h=3, 4 updates/step": dyna_run(16, 3, mb),
            "Dyna-DQN, k=64, h=5, 4 updates/step": dyna_run(64, 5, mb),
            # longer rollouts, each stopped where the ensemble's spread exceeds 0.2 (about twice its
            # 99th percentile on the training data; 1 m beyond the data it is about 1.2)
            "Dyna-DQN, k=64, h=10, disagreement guard 0.2, 4 updates/step": dyna_run(64, 10, mb,
                                                                                    max_disagreement=0.2),
        },
        "grid": {f"k={k} h={h}": dyna_run(k, h, GRID_BUDGET if not quick else 1_500) for k, h in GRID_EXTRA},
    }


def as_dict(result: dqn.RunResult) -> dict:
    return {"label": result.label, "seed": result.seed, "eval_steps": result.eval_steps.tolist(),
            "eval_returns": result.eval_returns.tolist(), "steps_to_solve": result.steps_to_solve,
            "real_steps": result.real_steps, "updates": result.updates,
            "wall_time": round(result.wall_time, 2), "extra": result.extra}


def run_part(part: str, seeds: tuple[int, ...], quick: bool = False, only: str = "") -> dict:
    """Run every (config, seed) of a part not yet in its results file; save after each run.

    only: run just the configs whose name contains it (its own file, merged by --report).
    """
    torch.set_num_threads(1)
    suffix = f".{only.split(',')[0].replace(' ', '_').replace('/', '_')}" if only else ""
    folder = RESULTS if not quick else Path(tempfile.mkdtemp())   # quick runs leave no results behind
    path = folder / f"imagined.{part}{suffix}.json"
    stored = json.loads(path.read_text()) if path.exists() and not quick else {"runs": {}}
    stored["machine"] = machine_info(("numpy", "torch", "gymnasium"))
    for name, runner in parts(quick)[part].items():
        if only and only not in name:
            continue
        done = {r["seed"] for r in stored["runs"].get(name, [])}
        for seed in seeds:
            if seed in done:
                continue
            result = runner(seed)
            stored["runs"].setdefault(name, []).append(as_dict(result))
            print(f"{part} | {name} | seed {seed}: solved at {result.steps_to_solve} real steps, "
                  f"{result.updates} updates, {result.wall_time:.0f} s", flush=True)
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps(stored))
    return stored


def summarise(runs: dict[str, list[dict]], budgets: dict[str, int]) -> list[dict]:
    rows = []
    for name, results in runs.items():
        summary = imagined.steps_to_solve_summary([r["steps_to_solve"] for r in results], budgets[name])
        real = sum(r["real_steps"] for r in results)
        rows.append({"method": name, **summary,
                     "updates_per_real_step": round(sum(r["updates"] for r in results) / real, 2),
                     "imagined_per_real_step":
                         round(sum(r["extra"].get("imagined", 0) for r in results) / real, 1),
                     "wall_time_median": float(np.median([r["wall_time"] for r in results])),
                     "ms_per_real_step": round(1000 * sum(r["wall_time"] for r in results) / real, 2)})
    return rows


def fmt_steps(value: float, budget: int) -> str:
    return f"> {budget:,}" if not np.isfinite(value) else f"{value:,.0f}"


BUDGETS = {"DQN": MODEL_FREE_BUDGET, "simple MBRL": SIMPLE_BUDGET, "Dyna-DQN": MODEL_BASED_BUDGET}


def budget_of(name: str) -> int:
    return next(b for prefix, b in BUDGETS.items() if name.startswith(prefix))


def load_runs(pattern: str) -> tuple[dict, dict]:
    """{config name: runs sorted by seed} from every results file matching pattern; and machine info."""
    runs, machine = {}, {}
    for path in sorted(RESULTS.glob(pattern)):
        stored = json.loads(path.read_text())
        machine = stored.get("machine", machine)
        for name, results in stored["runs"].items():
            runs[name] = sorted(runs.get(name, []) + results, key=lambda r: r["seed"])
    return runs, machine


def truncated(run: dict, budget: int) -> dict:
    """A run as if its budget had been `budget` real steps (for the k = 0 grid curves)."""
    keep = [i for i, s in enumerate(run["eval_steps"]) if s <= budget]
    solved = run["steps_to_solve"] if run["steps_to_solve"] is not None and run["steps_to_solve"] <= budget \
        else None
    return {**run, "eval_steps": [run["eval_steps"][i] for i in keep],
            "eval_returns": [run["eval_returns"][i] for i in keep], "steps_to_solve": solved}


def write_grid(main_runs: dict) -> dict:
    """imagined.grid.json: the slider's (k, h) curves, from the grid, model-based and model-free parts."""
    grid_runs, _ = load_runs("imagined.grid.*.json")
    out = {}
    for name, runs in main_runs.items():
        if name.startswith("DQN, 4 updates"):
            for h in GRID_H:
                out[f"k=0 h={h}"] = [truncated(r, GRID_BUDGET) for r in runs]
        for k, h in ((16, 3), (64, 5)):
            if name.startswith(f"Dyna-DQN, k={k}, h={h},"):
                out[f"k={k} h={h}"] = runs
    out.update(grid_runs)
    grid = {"budget": GRID_BUDGET, "k": list(GRID_K), "h": list(GRID_H), "updates_per_step": 4,
            "runs": {key: [{k: r[k] for k in ("seed", "eval_steps", "eval_returns", "steps_to_solve")}
                           for r in runs] for key, runs in sorted(out.items())}}
    (RESULTS / "imagined.grid.json").write_text(json.dumps(grid))
    return grid


def slider_latency(grid: dict) -> float:
    """Median seconds for one slider move (draw the figure of a measured (k, h))."""
    import matplotlib.pyplot as plt

    from mbrl_helpers.course import widgets

    key = next((k for k in grid["runs"] if not k.startswith("k=0 ")), next(iter(grid["runs"])))
    k, h = (int(part[2:]) for part in key.split())
    times = []
    for _ in range(5):
        start = time.perf_counter()
        fig = widgets.imagined_grid_figure(k, h, grid=grid)
        fig.canvas.draw()
        times.append(time.perf_counter() - start)
        plt.close(fig)
    return float(np.median(times))


def report() -> dict:
    """Merge the parts' files into imagined.json; write imagined.md, imagined.png, imagined.grid.json."""
    runs, machine = load_runs("imagined.model_*.json")
    order = ["DQN, 1 update/step", "DQN, 4 updates/step (replay-matched)"]
    names = sorted(runs, key=lambda n: (order.index(n) if n in order else len(order), n))
    runs = {name: runs[name] for name in names}
    budgets = {name: budget_of(name) for name in runs}
    rows = summarise(runs, budgets)
    merged = {"schema": SCHEMA, "machine": machine, "runs": runs, "budgets": budgets, "table": rows,
              "solved_definition": "mean greedy return over 5 real episodes >= 475, evaluated every "
                                   "1,000 real steps (simple MBRL: after every round of 500)"}
    (RESULTS / "imagined.json").write_text(json.dumps(merged))
    grid = write_grid(runs)
    lines = [
        "# Notebook 04: real steps to solve CartPole-v1",
        "",
        "Solved = mean greedy return over 5 real evaluation episodes >= 475, evaluated every 1,000",
        "real steps (simple MBRL: after each round of 500); runs stop once solved. Quartiles over",
        "seeds; an unsolved run counts as more than its budget. Regenerate: see the docstring of",
        "`benchmarks/bench_imagined.py`. The machine was shared with other jobs: wall times are rough.",
        "",
        "| method | seeds | solved | median real steps to 475 | quartiles | budget | "
        "updates / real step | imagined / real step | median wall time (s) | ms / real step |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        b = row["budget"]
        lines.append(
            f"| {row['method']} | {row['runs']} | {row['solved']} | {fmt_steps(row['median'], b)} | "
            f"{fmt_steps(row['q25'], b)} - {fmt_steps(row['q75'], b)} | {b:,} | "
            f"{row['updates_per_real_step']} | {row['imagined_per_real_step']} | "
            f"{row['wall_time_median']:.0f} | {row['ms_per_real_step']} |")
    lines += ["", f"Slider callback latency (widgets.imagined_grid_figure, drawn from the grid file): "
              f"median {slider_latency(grid) * 1000:.0f} ms over 5 moves."]
    lines += ["", "Slider grid (k imagined transitions per real step, rollout length h; 4 updates per real",
              f"step; budget {GRID_BUDGET:,} real steps): real steps to 475 per seed", ""]
    for key, grid_runs in grid["runs"].items():
        lines.append(f"- {key}: {[r['steps_to_solve'] for r in grid_runs]}")
    lines += ["", "Machine:", "", markdown_header(machine)]
    (RESULTS / "imagined.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if runs:
        from mbrl_helpers.course import plots

        curves = {name: [(np.asarray(r["eval_steps"]), np.asarray(r["eval_returns"])) for r in rs]
                  for name, rs in runs.items()}
        fig = plots.learning_curves_figure(
            curves, max_steps=MODEL_FREE_BUDGET,
            title="CartPole-v1: greedy return vs real steps (median, band = quartiles over seeds)")
        fig.savefig(RESULTS / "imagined.png", dpi=110)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("model_free", "model_based", "grid"))
    parser.add_argument("--only", default="", help="run only the configs whose name contains this")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.quick:
        for part in ("model_free", "model_based"):
            run_part(part, (0,), quick=True)
    elif args.part:
        run_part(args.part, GRID_SEEDS if args.part == "grid" else SEEDS, only=args.only)
    if args.report:
        report()
    print(f"{time.perf_counter() - start:.0f} s elapsed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
