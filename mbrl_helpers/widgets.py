"""The plain functions behind the notebooks' sliders, and the one helper that wires them.

A callback takes the slider values as keyword arguments and returns a
matplotlib Figure. Tests call callbacks directly; notebooks only wire sliders
to them with `interactive_figure`. Results are cached, so moving a slider back
to a value already seen redraws at once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mbrl_helpers import plots, tabular
from mbrl_helpers.envs import DYNA_MAZE_LAYOUT, GridMaze
from mbrl_helpers.validation import check_int


@lru_cache(maxsize=512)
def dyna_maze_mean_steps(planning_steps: int, runs: int, episodes: int, seed: int) -> np.ndarray:
    """Mean steps per episode, (episodes,), of Dyna-Q on the Dyna Maze (cached; read-only)."""
    result = tabular.run_dyna_q(
        GridMaze(DYNA_MAZE_LAYOUT), planning_steps=planning_steps, episodes=episodes,
        runs=runs, seed=seed,
    )
    mean = result.mean_steps
    mean.flags.writeable = False
    return mean


K_SLIDER = range(0, 101, 5)  # the k values notebook 01's slider offers


def precompute_planning_steps(
    ks: range | list[int] = K_SLIDER, *, runs: int = 30, episodes: int = 50, seed: int = 0
) -> None:
    """Fill the cache for these k, so the slider only has to draw (about 0.1 s a move)."""
    from tqdm.auto import tqdm

    for k in tqdm(list(ks), desc="precomputing k"):
        check_int("k", k, low=0)
        dyna_maze_mean_steps(k, runs, episodes, seed)


def planning_steps_figure(k: int, *, runs: int = 30, episodes: int = 50, seed: int = 0) -> Figure:
    """Slider callback of notebook 01: steps per episode for k planning steps beside k = 0.

    k: planning steps per real step, 0..100 on the slider (any k >= 0 works).
    Averaged over `runs` agents (the book's 30). Returns the figure.
    """
    check_int("k", k, low=0)
    curves = {"k = 0 (Q-learning)": dyna_maze_mean_steps(0, runs, episodes, seed)}
    if k != 0:
        curves[f"k = {k} planning steps"] = dyna_maze_mean_steps(k, runs, episodes, seed)
    fig = plots.plot_steps_per_episode(
        curves, title=f"Dyna-Q with k = {k} planning steps ({runs} runs)"
    )
    return fig


def interactive_figure(callback: Callable[..., Figure], **sliders):  # -> ipywidgets.VBox
    """Sliders above an output area that shows callback(**slider values).

    Each slider should have continuous_update=False, so the figure is redrawn
    once, on release. Returns the widget box to display.
    """
    import ipywidgets
    from IPython.display import display

    output = ipywidgets.Output()

    def redraw(_change: object = None) -> None:
        fig = callback(**{name: slider.value for name, slider in sliders.items()})
        with output:
            output.clear_output(wait=True)
            display(fig)
        plt.close(fig)  # drawn once in the output area, not again by the inline backend

    for slider in sliders.values():
        slider.observe(redraw, names="value")
    redraw()
    return ipywidgets.VBox([*sliders.values(), output])


# == notebook 05: the MCTS slider (simulations, rollout depth, c) ================
# Appended section. One search from a fixed CartPole state, redrawn as a tree.

MCTS_WIDGET_STATE = (0.0, 0.0, 0.05, 0.0)  # x (m), x_dot (m/s), theta (rad), theta_dot (rad/s)


def mcts_tree_figure(n_simulations: int = 100, depth: int = 20, c: float = 1.0, *,
                     seed: int = 0) -> Figure:
    """Slider callback of notebook 05: one UCT search from MCTS_WIDGET_STATE, drawn.

    n_simulations: 1..500 on the slider; depth: rollout depth 1..50; c >= 0.
    Returns the tree beside the root statistics (well under 0.5 s; see benchmarks).
    """
    from mbrl_helpers import mcts, simulators, tree_plot

    result = mcts.mcts_search(
        simulators.cartpole_step, np.array(MCTS_WIDGET_STATE), n_actions=2,
        n_simulations=n_simulations, depth=depth, c=c, seed=seed,
    )
    return tree_plot.search_figure(
        result, gamma=1.0, action_names=("push left", "push right"),
        title=f"UCT on CartPole: {n_simulations} simulations, rollout depth {depth}, c = {c:g}",
    )
