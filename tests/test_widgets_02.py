"""Notebook 02's slider callback and figures, called directly (no browser)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from mbrl_helpers.agents.dyna_q_plus import DYNA_Q_PLUS
from mbrl_helpers.course import plots, widgets
from mbrl_helpers.worlds.envs import make_scaled_dyna_maze


def test_kappa_figure_draws_dyna_q_and_dyna_q_plus():
    fig = widgets.kappa_figure(1e-3, runs=2, steps=3500)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert "kappa = 0.001" in ax.get_title()
    assert [line.get_label() for line in ax.get_lines()[:2]] == ["Dyna-Q", "Dyna-Q+, kappa = 0.001"]
    assert ax.get_xlabel() and ax.get_ylabel()
    plt.close(fig)


def test_kappa_figure_reads_the_cache_after_precomputing():
    """After precompute_kappas a slider move only draws (its speed is measured in benchmarks/)."""
    widgets.precompute_kappas((0.0, 3e-3), runs=2, steps=3500)
    info = widgets.shortcut_maze_mean.cache_info()
    fig = widgets.kappa_figure(3e-3, runs=2, steps=3500)
    fig.canvas.draw()
    assert widgets.shortcut_maze_mean.cache_info().misses == info.misses
    assert not widgets.shortcut_maze_mean(DYNA_Q_PLUS, 3e-3, 2, 3500, 0).flags.writeable
    plt.close(fig)


def test_kappa_figure_rejects_a_negative_kappa():
    with pytest.raises(ValueError, match="kappa"):
        widgets.kappa_figure(-1e-3)


def test_slider_values_include_the_notebooks_default():
    assert 1e-3 in widgets.KAPPA_SLIDER and 0.0 in widgets.KAPPA_SLIDER


def test_update_heatmaps_and_updates_by_size():
    maze = make_scaled_dyna_maze(2)
    counts = np.arange(maze.n_states).reshape(maze.n_rows, maze.n_cols)
    fig = plots.update_heatmaps(maze, {"a": counts, "b": 2 * counts}, suptitle="where")
    assert len(fig.axes) == 3 and "total" in fig.axes[0].get_title()
    plt.close(fig)
    fig = plots.plot_updates_by_size(np.array([47, 188]), {"x": np.array([10, 100]), "y": np.array([5, 9])},
                                     title="sizes")
    assert fig.axes[0].get_yscale() == "log" and fig.axes[0].get_title() == "sizes"
    plt.close(fig)
