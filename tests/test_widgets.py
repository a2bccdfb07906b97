import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mbrl_helpers.agents import tabular  # noqa: E402
from mbrl_helpers.course import plots, widgets  # noqa: E402
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze  # noqa: E402


def curve_data(fig):
    return [line.get_ydata() for line in fig.axes[0].get_lines() if line.get_label()[0] != "_"]


def test_planning_steps_figure_draws_k_beside_q_learning():
    fig = widgets.planning_steps_figure(50, runs=5, episodes=20)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["k = 0 (Q-learning)", "k = 50 planning steps"]
    expected = tabular.run_dyna_q(GridMaze(DYNA_MAZE_LAYOUT), planning_steps=50, episodes=20,
                                  runs=5, seed=0).mean_steps
    np.testing.assert_allclose(curve_data(fig)[1], expected[1:])  # drawn from episode 2
    assert "k = 50" in fig.axes[0].get_title()
    plt.close(fig)


def test_moving_the_slider_changes_the_figure():
    a = widgets.planning_steps_figure(0, runs=5, episodes=20)
    b = widgets.planning_steps_figure(5, runs=5, episodes=20)
    assert len(curve_data(a)) == 1 and len(curve_data(b)) == 2
    assert not np.array_equal(curve_data(b)[0], curve_data(b)[1])
    plt.close("all")


def test_slider_callback_rejects_bad_k():
    with pytest.raises(ValueError, match="k must be >= 0, got -1"):
        widgets.planning_steps_figure(-1)


def test_interactive_figure_redraws_on_slider_change():
    ipywidgets = pytest.importorskip("ipywidgets")
    calls = []

    def callback(k):
        calls.append(k)
        fig, _ = plt.subplots()
        return fig

    slider = ipywidgets.IntSlider(value=1, min=0, max=3, continuous_update=False)
    box = widgets.interactive_figure(callback, k=slider)
    slider.value = 3
    assert calls == [1, 3]
    assert box.children[0] is slider


def test_a_failing_slider_callback_shows_its_error_beside_the_slider():
    ipywidgets = pytest.importorskip("ipywidgets")

    def callback(k):
        if k == 2:
            raise ValueError("k must not be 2, got 2")
        fig, _ = plt.subplots()
        return fig

    slider = ipywidgets.IntSlider(value=1, min=0, max=3, continuous_update=False)
    box = widgets.interactive_figure(callback, k=slider)
    slider.value = 2  # must not raise into the kernel log
    output = box.children[-1]
    (shown,) = output.outputs
    assert "callback(k=2)" in shown["text"] and "ValueError: k must not be 2" in shown["text"]


def test_a_corrupt_results_file_is_named(tmp_path):
    bad = tmp_path / "imagined.grid.json"
    bad.write_text('{"runs": {"k=16 h=3": [')
    with pytest.raises(ValueError, match="imagined.grid.json is not valid JSON.*regenerate"):
        widgets.load_imagined_grid(str(bad))


def test_draw_maze_arrows_follow_the_greedy_policy():
    maze = GridMaze(["S..G"])
    q = np.zeros((4, 4))
    q[0, 3] = q[1, 3] = 0.5
    fig = plots.draw_maze(maze, q, title="t", show_values=True, path=[0, 1, 2, 3])
    arrows = [c for c in fig.axes[0].texts if getattr(c, "arrow_patch", None) is not None]
    assert len(arrows) == 2  # only states with a positive value get an arrow
    plt.close(fig)


def test_precompute_fills_the_cache_the_slider_reads():
    widgets.dyna_maze_mean_steps.cache_clear()
    widgets.precompute_planning_steps([0, 5], runs=2, episodes=3)
    assert widgets.dyna_maze_mean_steps.cache_info().currsize == 2
    widgets.planning_steps_figure(5, runs=2, episodes=3)
    assert widgets.dyna_maze_mean_steps.cache_info().misses == 2  # the figure was drawn from the cache
    plt.close("all")
    with pytest.raises(ValueError, match="k must be >= 0"):
        widgets.precompute_planning_steps([-5])
