"""Figures of the course: the book's curves and maze drawings (matplotlib).

Colours are Okabe-Ito (safe for colour-blind readers) and every curve also has
its own line style and marker, so figures read in greyscale too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from mbrl_helpers.core.curves import curve_on_grid
from mbrl_helpers.worlds.envs import ACTION_DELTAS, GridMaze

# Okabe & Ito (2008), the palette recommended for colour-blind readers.
COLOURS = (
    "#000000",  # black
    "#E69F00",  # orange
    "#0072B2",  # blue
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
)
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (1, 1)), (0, (3, 1, 1, 1)), "-")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

# Light to dark sequential map for values (greyscale-safe: lightness grows with value).
# Kept light enough that black arrows stay readable on the darkest cell.
VALUE_CMAP = LinearSegmentedColormap.from_list("value", ["#FFFFFF", "#CFE8F7", "#7CC3EC", "#3A9BD5"])


def style(i: int) -> dict:
    """Colour, line style and marker of the i-th curve of a figure."""
    return {
        "color": COLOURS[i % len(COLOURS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


def plot_steps_per_episode(
    curves: Mapping[str, np.ndarray],
    *,
    first_episode: int = 2,
    optimum: int | None = 14,
    ax: Axes | None = None,
    title: str = "Dyna Maze: steps per episode (Figure 8.2)",
    ylim: tuple[float, float] | None = (0, 800),
) -> Figure:
    """Steps per episode, one curve per label, as in the book's Figure 8.2.

    curves: label -> (episodes,) mean steps per episode (episode 1 first).
    first_episode: the first episode drawn (the book starts at 2: episode 1
    is a random walk of about the same length for every agent).
    optimum: draw the shortest path length as a reference line.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.2))
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.12, top=0.92)  # no tight_layout: 2x faster
    else:
        fig = ax.figure
    for i, (label, steps) in enumerate(curves.items()):
        steps = np.asarray(steps, dtype=float)
        episodes = np.arange(1, steps.shape[0] + 1)
        shown = episodes >= first_episode
        ax.plot(episodes[shown], steps[shown], label=label, markevery=5, markersize=5,
                linewidth=1.8, **style(i))
    if optimum is not None:
        ax.axhline(optimum, color="#777777", linewidth=1, linestyle=(0, (2, 2)))
        ax.annotate(f"shortest path: {optimum} steps", xy=(0.99, optimum), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", fontsize=8, color="#555555")
    ax.set_xlabel("episode")
    ax.set_ylabel("steps per episode (mean over runs)")
    ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return fig


def draw_maze(
    maze: GridMaze,
    q: np.ndarray | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    show_values: bool = False,
    path: Sequence[int] | None = None,
) -> Figure:
    """Draw a maze: walls dark, S and G labelled; optionally a policy, values and a path.

    q: (n_states, 4) action values. An arrow shows the greedy action in every
    state whose best value is positive (where all values are 0 the agent has
    no preference, as in the book's Figure 8.3). Ties draw every best arrow.
    show_values: shade each open cell by max_a q(s, a).
    path: cell indices to draw as a line (e.g. from tabular.greedy_path).
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.6 * maze.n_cols + 0.6, 0.6 * maze.n_rows + 0.5))
    else:
        fig = ax.figure
    rows, cols = maze.n_rows, maze.n_cols
    if show_values and q is not None:
        values = np.asarray(q).max(axis=1).reshape(rows, cols)
        values = np.where(maze.walls, np.nan, values)
        image = ax.imshow(values, cmap=VALUE_CMAP, vmin=0, vmax=max(1e-9, np.nanmax(values)),
                          extent=(-0.5, cols - 0.5, rows - 0.5, -0.5))
        fig.colorbar(image, ax=ax, fraction=0.035, pad=0.02, label=r"$\max_a Q(s, a)$")
    wall_rows, wall_cols = np.nonzero(maze.walls)
    for r, c in zip(wall_rows, wall_cols, strict=True):
        ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, color="#404040"))
    for label, cell in [("S", maze.start)] + [("G", g) for g in maze.goals]:
        r, c = maze.to_cell(cell)
        # in the cell's corner, so a policy arrow drawn from its centre stays visible
        ax.text(c - 0.42, r - 0.4, label, ha="left", va="top", fontsize=10, fontweight="bold",
                color=COLOURS[4] if label == "G" else COLOURS[2])
    if q is not None:
        q = np.asarray(q)
        for s in maze.open_states():
            best = q[s].max()
            if best <= 0 or maze.is_goal(s):
                continue
            r, c = maze.to_cell(s)
            for a in np.flatnonzero(q[s] == best):
                d_row, d_col = ACTION_DELTAS[a]
                ax.annotate("", xy=(c + 0.38 * d_col, r + 0.38 * d_row), xytext=(c, r),
                            arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.3})
    if path is not None and len(path) > 1:
        cells = np.array([maze.to_cell(s) for s in path])
        ax.plot(cells[:, 1], cells[:, 0], color=COLOURS[1], linewidth=3, alpha=0.8,
                solid_capstyle="round", label=f"greedy path ({len(path) - 1} steps)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), frameon=False, fontsize=8)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="#BBBBBB", linewidth=0.6)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def policy_comparison(
    maze: GridMaze, q_by_label: Mapping[str, np.ndarray], *, suptitle: str | None = None
) -> Figure:
    """Side-by-side greedy policies, e.g. Figure 8.3 (n = 0 vs n = 50)."""
    fig, axes = plt.subplots(1, len(q_by_label), figsize=(5.2 * len(q_by_label), 3.8))
    for ax, (label, q) in zip(np.atleast_1d(axes), q_by_label.items(), strict=True):
        n_arrows = int((np.asarray(q).max(axis=1) > 0).sum())
        noun = "state" if n_arrows == 1 else "states"
        draw_maze(maze, q, ax=ax, title=f"{label}: {n_arrows} {noun} with a preferred action")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


# == notebook 02: changing mazes, Dyna-Q+, prioritized sweeping ===================

def plot_cumulative_reward(
    curves: Mapping[str, np.ndarray],
    *,
    switch_step: int,
    title: str,
    ax: Axes | None = None,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Cumulative reward per real step, one curve per label (the book's Figures 8.4 and 8.5).

    curves: label -> (steps,) cumulative reward averaged over runs (goals reached).
    switch_step: where the walls change; drawn as a vertical line.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.2))
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.12, top=0.92)
    else:
        fig = ax.figure
    for i, (label, curve) in enumerate(curves.items()):
        curve = np.asarray(curve, dtype=float)
        stride = max(1, curve.shape[0] // 600)  # ~600 points per line: same picture, faster to draw
        steps = np.arange(1, curve.shape[0] + 1)[stride - 1 :: stride]
        ax.plot(steps, curve[stride - 1 :: stride], label=label, linewidth=1.8,
                markevery=max(1, steps.shape[0] // 8), markersize=5, **style(i))
    ax.axvline(switch_step, color="#777777", linewidth=1, linestyle=(0, (2, 2)))
    ax.annotate(f"walls change\n(step {switch_step})", xy=(switch_step, 0.97),
                xycoords=("data", "axes fraction"), ha="right", va="top", fontsize=8, color="#555555")
    ax.set_xlabel("real time steps")
    ax.set_ylabel("cumulative reward (goals reached, mean over runs)")
    ax.set_title(title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(0.0, 0.9))
    ax.grid(alpha=0.3)
    return fig


def plot_updates_by_size(
    n_states: np.ndarray,
    updates: Mapping[str, np.ndarray],
    *,
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """Updates until near-optimal against maze size, log-log (the book's Example 8.4 figure).

    n_states: (n_sizes,) open cells of each maze; updates: label -> (n_sizes,) mean updates.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.2))
        fig.subplots_adjust(left=0.12, right=0.98, bottom=0.12, top=0.92)
    else:
        fig = ax.figure
    for i, (label, values) in enumerate(updates.items()):
        ax.plot(n_states, values, label=label, linewidth=1.8, markersize=6, **style(i))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(n_states, [str(int(n)) for n in n_states])
    ax.minorticks_off()
    ax.set_xlabel("maze size (open cells, log scale)")
    ax.set_ylabel("Q updates until greedy path <= 1.2 x shortest (log)")
    ax.set_title(title)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3, which="both")
    return fig


def update_heatmaps(
    maze: GridMaze, panels: Mapping[str, np.ndarray], *, suptitle: str | None = None,
    colorbar_label: str = "count per cell (log scale)", ncols: int | None = None,
) -> Figure:
    """Counts on the maze side by side (e.g. real visits and Q updates per cell), one colour scale.

    panels: label -> (n_rows, n_cols) counts; ncols panels per row (default: all in one row).
    Walls dark; cells never counted white; the colour map (viridis, reversed so
    larger is darker) reads in greyscale.
    """
    from matplotlib.colors import LogNorm

    n = len(panels)
    ncols = n if ncols is None else ncols
    nrows = -(-n // ncols)
    height = (3.6 * maze.n_rows / maze.n_cols + 0.8) * nrows + 0.5
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.0 * ncols + 0.8, height), squeeze=False)
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    top = max(1, max(int(np.max(p)) for p in panels.values()))
    norm = LogNorm(vmin=1, vmax=top)
    cmap = plt.get_cmap("viridis_r").with_extremes(bad="white")
    image = None
    for ax, (label, counts) in zip(axes[:n], panels.items(), strict=True):
        counts = np.asarray(counts, dtype=float)
        shown = np.where(counts > 0, counts, np.nan)
        image = ax.imshow(shown, cmap=cmap, norm=norm, interpolation="nearest")
        walls = np.where(maze.walls, 1.0, np.nan)
        ax.imshow(walls, cmap=LinearSegmentedColormap.from_list("wall", ["#404040", "#404040"]),
                  interpolation="nearest")
        labels = [("S", maze.start, COLOURS[2]), ("G", maze.goals[0], COLOURS[4])]
        for text, cell, colour in labels:
            r, c = maze.to_cell(cell)
            ax.text(c, r, text, ha="center", va="center", fontsize=8, fontweight="bold", color=colour,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
        ax.set_title(f"{label}\n(total {int(counts.sum()):,})", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=list(axes[:n]), fraction=0.025, pad=0.02, label=colorbar_label)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


RunCurves = list  # list of (eval_steps (E,), eval_returns (E,)) pairs, one per seed


def learning_curves_figure(curves: dict[str, RunCurves], *, max_steps: int = 40_000,  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
                           solved_return: float = 475.0, title: str = "CartPole-v1: learning curves",
                           ylim: tuple[float, float] = (0, 520), grid_step: float = 500,
                           xlabel: str = "real environment steps (evaluation episodes not counted)",
                           ylabel: str = "greedy return (mean of 5 real episodes)",
                           baselines: dict[str, float] | None = None, ax: Axes | None = None) -> Figure:
    """Median (line) and quartiles (band) over seeds of the evaluation return vs real environment steps.

    curves: label -> one (eval_steps (E,), eval_returns (E,)) pair per seed. The curves are read
    every `grid_step` real steps (curve_on_grid): a run that stopped when solved keeps its last
    evaluation afterwards; each method is drawn up to its last evaluation (its budget).
    baselines: label -> a return drawn as a horizontal line (e.g. a random policy's). Legend
    below the axes.
    """
    baselines = baselines or {}
    if ax is None:
        lines = len(curves) + len(baselines)
        height = 3.6 + 0.19 * lines   # inches: the axes, plus one legend line per curve below
        fig, ax = plt.subplots(figsize=(7.5, height))
        fig.subplots_adjust(left=0.1, right=0.98, bottom=(0.65 + 0.19 * lines) / height,
                            top=1 - 0.35 / height)
    else:
        fig = ax.figure
    grid = np.arange(0, max_steps + grid_step / 2, grid_step)
    for i, (label, runs) in enumerate(curves.items()):
        values = np.stack([curve_on_grid(s, r, grid) for s, r in runs])
        # drawn up to the method's last evaluation (its budget), not beyond
        end = max(int(np.asarray(s)[-1]) for s, _ in runs if len(s))
        seen = ~np.isnan(values).all(axis=0) & (grid <= max(end, grid[1]))
        with np.errstate(all="ignore"):
            q25, median, q75 = np.nanpercentile(values[:, seen], [25, 50, 75], axis=0)
        seeds = f"{len(runs)} seed" + ("s" if len(runs) != 1 else "")
        ax.plot(grid[seen], median, label=f"{label} ({seeds})", linewidth=1.8, markersize=4,
                markevery=max(1, int(seen.sum()) // 8), **style(i))
        ax.fill_between(grid[seen], q25, q75, color=COLOURS[i % len(COLOURS)], alpha=0.15,
                        linewidth=0)
    for j, (label, value) in enumerate(baselines.items(), start=len(curves)):
        ax.axhline(value, label=label, linewidth=1.5, color=COLOURS[j % len(COLOURS)],
                   linestyle=LINESTYLES[j % len(LINESTYLES)])
    ax.axhline(solved_return, color="#777777", linewidth=1, linestyle=(0, (2, 2)))
    ax.annotate(f"solved: {solved_return:g}", xy=(0.99, solved_return), xycoords=("axes fraction", "data"),
                ha="right", va="top", fontsize=8, color="#555555")
    ax.set_xlim(0, max_steps)
    ax.set_ylim(*ylim)
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{x / 1000:g}k")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.legend(*ax.get_legend_handles_labels(), frameon=False, fontsize=8, loc="lower left",
               bbox_to_anchor=(0.08, 0.0))
    ax.grid(alpha=0.3)
    return fig
