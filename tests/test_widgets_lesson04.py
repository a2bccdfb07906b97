"""Notebook 04's k and h sliders: with k = 0 nothing is imagined, so h must visibly change nothing."""

from __future__ import annotations

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

from mbrl_helpers.course import widgets


def fake_grid():
    def run(seed, solved):
        steps = np.arange(1000, 6001, 1000)
        return {"seed": seed, "eval_steps": steps.tolist(),
                "eval_returns": np.minimum(500, steps / solved * 475).tolist()}
    return {"budget": 6000, "runs": {"k=0 h=1": [run(0, 6000)], "k=0 h=3": [run(0, 6000)],
                                     "k=16 h=1": [run(0, 3000)], "k=16 h=3": [run(0, 4000)]}}


def test_the_k_zero_figure_says_that_h_changes_nothing():
    titles = set()
    for h in (1, 3):
        fig = widgets.imagined_grid_figure(0, h, grid=fake_grid())
        titles.add(fig.axes[0].get_title())
        assert len(fig.legends[0].get_texts()) == 1   # the baseline alone
        plt.close(fig)
    assert len(titles) == 1, "with k = 0 the figure must not depend on h"
    (title,) = titles
    assert "nothing is imagined" in title and "h changes nothing" in title
    fig = widgets.imagined_grid_figure(16, 3, grid=fake_grid())
    assert "h changes nothing" not in fig.axes[0].get_title()
    plt.close(fig)


def test_the_h_slider_is_disabled_exactly_while_k_is_zero():
    k_slider = ipywidgets.SelectionSlider(options=[0, 16], value=16)
    h_slider = ipywidgets.SelectionSlider(options=[1, 3], value=3)
    widgets.disable_h_when_k_is_zero(k_slider, h_slider)
    assert not h_slider.disabled
    k_slider.value = 0
    assert h_slider.disabled
    k_slider.value = 16
    assert not h_slider.disabled


def test_the_h_slider_starts_disabled_when_k_starts_at_zero():
    k_slider = ipywidgets.SelectionSlider(options=[0, 16], value=0)
    h_slider = ipywidgets.SelectionSlider(options=[1, 3], value=3)
    widgets.disable_h_when_k_is_zero(k_slider, h_slider)
    assert h_slider.disabled
