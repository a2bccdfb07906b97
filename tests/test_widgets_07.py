"""Notebook 07's slider callback, called directly (no browser)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from mbrl_helpers.agents import dyna_mcts
from mbrl_helpers.course import widgets


def test_dyna_mcts_figure_draws_the_agents_at_one_budget():
    fig = widgets.dyna_mcts_figure(5, 0, runs=2, episodes=5)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()[:3]]
    assert labels[0] == "Dyna-Q, n = 5" and "current state" in labels[1] and "visited" in labels[2]
    assert "5 model calls" in ax.get_title()
    plt.close(fig)
    fig = widgets.dyna_mcts_figure(2, 10, runs=2, episodes=5)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "rollouts of 10" in labels[1] and not any("visited" in label for label in labels)
    plt.close(fig)


def test_dyna_mcts_curves_are_the_agents_own_and_cached():
    got = widgets.dyna_mcts_mean_steps("mcts", 5, 0, 1, 2, 5, 7)      # a seed no other test uses
    want = dyna_mcts.dyna_mcts_curves("mcts", 5, 0, runs=2, episodes=5, seed=7)
    np.testing.assert_array_equal(got, want)
    misses = widgets.dyna_mcts_mean_steps.cache_info().misses
    widgets.dyna_mcts_figure(5, 0, runs=2, episodes=5, seed=7)
    assert widgets.dyna_mcts_mean_steps.cache_info().misses == misses + 2   # Dyna-Q and the split
    assert not got.flags.writeable


def test_dyna_mcts_figure_rejects_bad_sliders():
    with pytest.raises(ValueError, match="budget"):
        widgets.dyna_mcts_figure(0)
    with pytest.raises(ValueError, match="rollout_depth"):
        widgets.dyna_mcts_figure(5, -1)
