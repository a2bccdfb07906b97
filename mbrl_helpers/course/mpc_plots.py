"""Figures and slider callbacks of the MPC lesson (plain functions returning matplotlib figures).

    load_mpc_results(name)        the committed mpc.json or mpc.grid.json (mbrl_helpers.results)
    mpc_curves_figure(curves, ...)  evaluation return vs real steps, median and quartiles over seeds
                                  (plots.learning_curves_figure with the MPC lesson's axes)
    grid_figure(horizon, samples, env_id, grid)   the H x N slider: return and ms per step
    plans_figure(plan, ...)       the sampled plans' imagined trajectories at one real state
    plan_angle(states, env_id)    the angle the figures draw: CartPole's pole, Pendulum's pendulum
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mbrl_helpers import results
from mbrl_helpers.core.validation import check_int
from mbrl_helpers.course import plots


def load_mpc_results(name: str = "mpc.json", folder: Path | str | None = None) -> dict:
    """A committed results file of benchmarks/bench_mpc.py (mpc.json or mpc.grid.json), read through
    mbrl_helpers.results (MissingResultsError, naming the command that makes it, if absent)."""
    return results.load_json(name, folder=folder)


def mpc_curves_figure(curves: dict[str, list[tuple[np.ndarray, np.ndarray]]], *, max_steps: int,
                      solved_return: float, title: str, ylim: tuple[float, float],
                      baselines: dict[str, float] | None = None) -> Figure:
    """Median (line) and quartiles (band) over seeds of the evaluation return vs real steps.

    curves: label -> one (real_steps (E,), eval_returns (E,)) pair per seed, E evaluations (one after
    each training episode); real steps include the warm-up and exclude evaluation episodes. The
    course's learning-curve figure (plots.learning_curves_figure), read on a fine grid because
    episodes end at any step. baselines: label -> a return drawn as a horizontal line.
    """
    return plots.learning_curves_figure(
        curves, max_steps=max_steps, solved_return=solved_return, title=title, ylim=ylim,
        grid_step=max_steps / 300,
        xlabel="real environment steps (warm-up included, evaluation episodes not counted)",
        ylabel="return (mean of 5 real evaluation episodes)", baselines=baselines)


def grid_figure(horizon: int = 15, samples: int = 100, *, env_id: str = "CartPole-v1",
                grid: dict | None = None) -> Figure:
    """Slider callback: MPC with planning horizon H and N sampled sequences, read from the grid.

    Left: mean real return vs H, one line per N (the chosen N bold, the chosen cell marked);
    right: planning ms per real step vs H. Only draws precomputed numbers (well under 0.5 s).
    """
    grid = grid if grid is not None else load_mpc_results("mpc.grid.json")
    check_int("horizon", horizon, low=1)
    check_int("samples", samples, low=1)
    g = grid[env_id]
    if horizon not in g["horizons"] or samples not in g["samples"]:
        raise ValueError(f"(H, N) = ({horizon}, {samples}) is not in the precomputed grid; H must be one "
                         f"of {g['horizons']} and N one of {g['samples']}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8))
    hs = np.array(g["horizons"])
    for i, n in enumerate(g["samples"]):
        cells = [g["cells"][f"H={h} N={n}"] for h in hs]
        ret = [np.mean(c["returns"]) for c in cells]
        ms = [c["ms_per_step"] for c in cells]
        width = 2.4 if n == samples else 1.0
        alpha = 1.0 if n == samples else 0.45
        for ax, y in ((left, ret), (right, ms)):
            ax.plot(hs, y, label=f"N = {n}", linewidth=width, alpha=alpha, markersize=4, **plots.style(i))
    cell = g["cells"][f"H={horizon} N={samples}"]
    left.plot([horizon], [np.mean(cell["returns"])], "o", markersize=12, markerfacecolor="none",
              markeredgecolor="black")
    right.plot([horizon], [cell["ms_per_step"]], "o", markersize=12, markerfacecolor="none",
               markeredgecolor="black")
    left.set_xlabel("planning horizon H (model steps)")
    left.set_ylabel(f"mean real return ({g['episodes']} episodes of {g.get('episode_steps', 'all')} steps)")
    right.set_xlabel("planning horizon H (model steps)")
    right.set_ylabel("planning time (ms per real step, 1 thread)")
    right.set_yscale("log")
    left.legend(frameon=False, fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.suptitle(f"{env_id}, model frozen after {g['train_steps']:,} real steps: H = {horizon}, "
                 f"N = {samples} -> return {np.mean(cell['returns']):.0f}, {cell['ms_per_step']:.0f} ms "
                 "per step", fontsize=10)
    fig.tight_layout()
    return fig


def plan_angle(states: np.ndarray, env_id: str) -> np.ndarray:
    """The angle drawn (rad), states (..., T, D) -> (..., T): CartPole's pole angle (index 2);
    Pendulum's atan2(sin, cos) (0 upright, +-pi hanging), unwrapped along the time axis so a
    pendulum turning through the bottom is drawn as a smooth curve, not a jump from pi to -pi."""
    states = np.asarray(states)
    if env_id.startswith("Pendulum"):
        return np.unwrap(np.arctan2(states[..., 1], states[..., 0]), axis=-1)
    return states[..., 2]


def plans_figure(plan: object, *, env_id: str = "CartPole-v1", dt: float = 0.02, max_drawn: int = 100,
                 title: str = "") -> Figure:
    """The last CEM iteration's sampled plans from one real state (mpc.Plan): the imagined angle of
    every sequence (grey; one line per sequence, the mean over its particles), the elites (colour),
    and the members' spread along the best elite (band: min-max over particles)."""
    states = plan.scores.states               # (P, N, H + 1, D)
    angle = plan_angle(states, env_id)        # (P, N, H + 1)
    alive = plan.scores.alive
    mean = np.where(alive, angle, np.nan)
    with warnings.catch_warnings():          # a step where every particle has ended is NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(mean, axis=0)       # (N, H + 1)
    t = np.arange(angle.shape[2]) * dt
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    elites = set(int(e) for e in plan.elites)
    drawn = [i for i in range(mean.shape[0]) if i not in elites][:max_drawn]
    for j, i in enumerate(drawn):
        ax.plot(t, mean[i], color="#999999", linewidth=0.6, alpha=0.5,
                label="sampled plans" if j == 0 else None)
    for j, i in enumerate(plan.elites):
        ax.plot(t, mean[i], color=plots.COLOURS[2], linewidth=1.4, linestyle="--",
                label="elites" if j == 0 else None)
    best = int(plan.elites[0])
    ax.fill_between(t, angle[:, best].min(axis=0), angle[:, best].max(axis=0), color=plots.COLOURS[1],
                    alpha=0.35, label="best plan: spread over ensemble members")
    ax.plot(t, mean[best], color=plots.COLOURS[4], linewidth=2.2, label="best plan")
    if env_id.startswith("CartPole"):
        ax.axhline(0.2095, color="black", linewidth=0.8, linestyle=":")
        ax.axhline(-0.2095, color="black", linewidth=0.8, linestyle=":", label="12 degrees: episode ends")
        ax.set_ylabel("imagined pole angle (rad)")
    else:
        ax.set_ylabel("imagined pendulum angle (rad, 0 = upright)")
    ax.set_xlabel("time into the plan (s)")
    ax.set_title(title or f"{env_id}: the plans of one MPC step ({mean.shape[0]} sequences, "
                          f"{len(plan.elites)} elites)", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
