"""Pictures of a search: the MCTS tree and the root statistics (matplotlib only, no graphviz).

Nodes are sized by visits and shaded by their value (light = low, dark = high,
so the picture reads in greyscale); the path the search would follow, the most
visited child at every level, is drawn thick in vermillion. Terminal nodes
(the model said the episode ended) are squares.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from mbrl_helpers.course import plots
from mbrl_helpers.course.plots import COLOURS, VALUE_CMAP
from mbrl_helpers.planners.mcts import SearchResult, Tree


def tree_layout(tree: Tree) -> tuple[np.ndarray, np.ndarray]:
    """x, y positions (n_nodes,) of a tidy drawing: leaves left to right by action, parents
    centred over their children; y is the depth (root 0)."""
    n = tree.size
    x = np.zeros(n)
    depth = tree.depth_of()
    next_leaf = 0.0
    # iterative post-order walk, children in action order
    stack: list[tuple[int, bool]] = [(0, False)]
    while stack:
        node, done = stack.pop()
        kids = [int(k) for k in tree.children[node] if k >= 0]
        if not kids:
            x[node], next_leaf = next_leaf, next_leaf + 1.0
        elif done:
            x[node] = 0.5 * (x[kids[0]] + x[kids[-1]])
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
    return x, depth.astype(float)


def principal_path(tree: Tree) -> list[int]:
    """Nodes from the root following the most visited child (ties: lowest action)."""
    path = [0]
    while True:
        kids = tree.children[path[-1]]
        kids = kids[kids >= 0]
        if kids.size == 0 or tree.visits[kids].max() == 0:
            return path
        path.append(int(kids[np.argmax(tree.visits[kids])]))


def node_values(tree: Tree, gamma: float) -> np.ndarray:
    """(n_nodes,) Q of the edge into each node (r + gamma * mean return); the root's mean return."""
    n = tree.size
    visits = np.maximum(tree.visits[:n], 1)
    q = tree.reward[:n] + gamma * tree.value_sum[:n] / visits
    q[0] = tree.value_sum[0] / visits[0]
    return q


def draw_tree(tree: Tree, *, gamma: float, ax: Axes | None = None, title: str = "Search tree",
              value_label: str = "Q: estimated return") -> Figure:
    """Draw the tree on ax: node area ~ visits, shade ~ value, the most visited path highlighted."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4.5))
    else:
        fig = ax.figure
    n = tree.size
    x, y = tree_layout(tree)
    values = node_values(tree, gamma)
    segments = [((x[tree.parent[k]], y[tree.parent[k]]), (x[k], y[k])) for k in range(1, n)]
    ax.add_collection(LineCollection(segments, colors="#999999", linewidths=0.6, zorder=1))
    best = principal_path(tree)
    ax.plot(x[best], y[best], color=COLOURS[4], linewidth=3, zorder=2, solid_capstyle="round")
    sizes = 8 + 250 * tree.visits[:n] / max(tree.visits[0], 1)
    terminal = tree.terminal[:n]
    vmin, vmax = float(values.min()), float(values.max())
    if vmax <= vmin:
        vmax = vmin + 1e-9
    images = [ax.scatter(x[mask], y[mask], s=sizes[mask], c=values[mask], cmap=VALUE_CMAP,
                         vmin=vmin, vmax=vmax, marker=marker, edgecolors="#333333",
                         linewidths=0.5, zorder=3)
              for mask, marker in ((~terminal, "o"), (terminal, "s"))]
    fig.colorbar(images[0], ax=ax, fraction=0.04, pad=0.02, label=value_label)
    ax.set_xlim(x.min() - 1, x.max() + 1)
    ax.set_ylim(y.max() + 0.7, -0.7)
    ax.set_xticks([])  # x is only a drawing position; ticks would cost time and say nothing
    ax.set_xlabel("nodes, left to right in action order (no unit)")
    ax.set_ylabel("depth (model steps from the root)")
    ax.set_title(title)
    handles = [
        Line2D([], [], color=COLOURS[4], linewidth=3, label="most visited path"),
        Line2D([], [], marker="o", linestyle="", markerfacecolor="white",
               markeredgecolor="#333333", label="node (area ~ visits)"),
        Line2D([], [], marker="s", linestyle="", markerfacecolor="white",
               markeredgecolor="#333333", label="terminal node"),
    ]
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
    return fig


HATCHES = ("", "//", "..", "xx", "\\\\", "++")


def draw_root_statistics(result: SearchResult, *, ax: Axes | None = None,
                         action_names: Sequence[str] | None = None) -> Figure:
    """Bars of root visit counts per action, each labelled with its Q; the chosen action dark."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.5, 4.5))
    else:
        fig = ax.figure
    n_actions = result.visit_counts.shape[0]
    names = list(action_names) if action_names is not None else [str(a) for a in range(n_actions)]
    for a in range(n_actions):
        chosen = a == result.action
        ax.bar(a, result.visit_counts[a], color=COLOURS[2] if chosen else "#DDDDDD",
               edgecolor="#333333", hatch=HATCHES[a % len(HATCHES)],
               label="chosen action" if chosen else None)
        q = result.q_values[a]
        ax.annotate("Q untried" if np.isnan(q) else f"Q = {q:.2f}", (a, result.visit_counts[a]),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                    textcoords="offset points")
    ax.set_xticks(range(n_actions), names)
    ax.set_xlabel("root action")
    ax.set_ylabel("visits (simulations)")
    ax.set_ylim(0, max(1, result.visit_counts.max()) * 1.15)
    ax.set_title("Root statistics")
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def search_figure(result: SearchResult, *, gamma: float, title: str,
                  action_names: Sequence[str] | None = None) -> Figure:
    """The tree beside the root statistics, in one figure."""
    if result.tree is None:
        raise ValueError("search_figure needs an MCTS result with a tree; rollout planning has none")
    fig, (tree_ax, root_ax) = plt.subplots(
        1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [3.2, 1]})
    draw_tree(result.tree, gamma=gamma, ax=tree_ax, title=title)
    draw_root_statistics(result, ax=root_ax, action_names=action_names)
    # fixed margins: tight_layout would draw the figure twice (a slider must redraw fast)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.91, wspace=0.28)
    return fig


def draw_sweep(ax: Axes, xs: Sequence[float], curves: dict[str, np.ndarray], *, xlabel: str,
               title: str, log_x: bool = False) -> None:
    """One line per planner: the mean over seeds at each x, bars from min to max.

    curves: label -> (len(xs), n_seeds) results. The y label is left to the caller.
    """
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        mean = values.mean(axis=1)
        errors = np.stack([mean - values.min(axis=1), values.max(axis=1) - mean])
        ax.errorbar(xs, mean, yerr=errors, label=label, capsize=3, linewidth=1.8, markersize=6,
                    **plots.style(i))
    if log_x:
        ax.set_xscale("log")
    ax.set_xticks(list(xs), [str(x) for x in xs])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
