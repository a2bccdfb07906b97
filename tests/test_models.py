"""Neural dynamics models (mbrl_helpers.learning.models) on tiny data.

Also notebook 03's checks and slider callback.
"""

from __future__ import annotations

import functools

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mbrl_helpers.course import widgets  # noqa: E402
from mbrl_helpers.course.checks import lesson03_neural_models  # noqa: E402
from mbrl_helpers.learning import data, models  # noqa: E402

torch.set_num_threads(1)
FAST = dict(hidden=32, max_epochs=30, patience=5, batch_size=64, lr=3e-3)


def linear_transitions(n: int = 600, seed: int = 0, discrete: bool = True) -> data.Transitions:
    """s' = s + A s + B a (a known linear system), r = s[0], never terminates."""
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(n, 2))
    a_matrix = np.array([[0.0, 0.1], [-0.2, 0.0]])
    if discrete:
        actions = rng.integers(2, size=n)
        push = np.column_stack([np.zeros(n), 0.3 * (2 * actions - 1)])
    else:
        actions = rng.uniform(-1, 1, size=(n, 1))
        push = np.column_stack([np.zeros(n), 0.3 * actions[:, 0]])
    next_states = states + states @ a_matrix.T + push
    return data.Transitions(states, actions, states[:, 0].copy(), next_states, np.zeros(n, bool))


@functools.cache
def linear_model(discrete: bool = True, ensemble_size: int = 1) -> models.Ensemble:
    config = models.ModelConfig(ensemble_size=ensemble_size, termination="never", **FAST)
    return models.train_ensemble(linear_transitions(discrete=discrete), config, seed=0, progress=False)


# -- fitting ---------------------------------------------------------------------------------

@pytest.mark.parametrize("discrete", [True, False])
def test_fits_a_known_linear_system(discrete):
    test = linear_transitions(300, seed=1, discrete=discrete)
    error = models.one_step_error(linear_model(discrete).as_step_fn(), test)
    assert error.normalized.max() < 0.02, error.normalized
    assert error.reward_mse < 0.01
    assert error.termination_accuracy == 1.0


def test_history_records_train_and_held_out_losses():
    history = linear_model().history
    assert len(history.train) == len(history.holdout) >= 1
    assert history.holdout[-1] < history.holdout[0]
    assert 0 <= history.best_epoch[0] < len(history.holdout)


def test_training_is_deterministic_given_the_seed():
    config = models.ModelConfig(termination="never", **{**FAST, "max_epochs": 3})
    transitions = linear_transitions(200)
    first, second = (models.train_ensemble(transitions, config, seed=4, progress=False) for _ in range(2))
    states, actions = transitions.states[:20], transitions.actions[:20]
    other = models.train_ensemble(transitions, config, seed=5, progress=False)
    first, second, other = (m.predict(states, actions).next_states for m in (first, second, other))
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


def test_accepts_a_replay_buffer_dict():
    transitions = linear_transitions(100)
    config = models.ModelConfig(termination="never", **{**FAST, "max_epochs": 2})
    model = models.train_ensemble(transitions.as_dict(), config, seed=0, progress=False)
    assert model.state_dim == 2 and model.action_dim == 2 and model.discrete


# -- normalisation ---------------------------------------------------------------------------

def test_normalisation_round_trips_and_standardises():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3)) * [0.01, 1.0, 100.0] + [5.0, -2.0, 0.0]
    norm = models.Normalizer.fit(x)
    z = norm.normalize(x)
    assert np.allclose(z.mean(axis=0), 0, atol=1e-9) and np.allclose(z.std(axis=0), 1)
    assert np.allclose(norm.denormalize(z), x)


def test_constant_column_is_left_unscaled():
    x = np.column_stack([np.arange(5.0), np.full(5, 1.0)])
    mean, std = models.normalisation_stats(x)
    assert std[1] == 1.0 and mean[1] == 1.0
    assert np.isfinite(models.Normalizer(mean, std).normalize(x)).all()


# -- shapes and the step-function interface ----------------------------------------------------

@pytest.mark.parametrize("discrete", [True, False])
def test_step_fn_shapes_and_dtypes(discrete):
    model = linear_model(discrete, ensemble_size=3)
    batch = linear_transitions(7, seed=2, discrete=discrete)
    for dtype in (np.float64, np.float32):
        for member in ("mean", "random", None, 2):
            step = model.as_step_fn(member)
            next_states, rewards, terminated = step(batch.states.astype(dtype), batch.actions)
            assert next_states.shape == (7, 2) and next_states.dtype == dtype
            assert rewards.shape == (7,) and rewards.dtype == np.float64
            assert terminated.shape == (7,) and terminated.dtype == bool
    prediction = model.predict(batch.states, batch.actions)
    assert prediction.next_states.shape == (3, 7, 2) and prediction.rewards.shape == (3, 7)
    assert model.disagreement(batch.states, batch.actions).shape == (7,)


def test_discrete_actions_are_one_hot_and_continuous_passed_through():
    states = np.zeros((3, 2))
    one_hot = models.model_inputs(states, np.array([0, 1, 1]), 2, True)
    assert one_hot[:, 2:].tolist() == [[1, 0], [0, 1], [0, 1]]
    continuous = models.model_inputs(states, np.array([[0.5], [-1.0], [2.0]]), 1, False)
    assert continuous[:, 2].tolist() == [0.5, -1, 2]


def test_ensemble_is_one_batched_forward_pass():
    net = models.EnsembleMLP(4, 3, 2, hidden=8, layers=2)
    assert net.hidden[0].weight.shape == (4, 3, 8)
    x = torch.randn(4, 5, 3)
    out = net(x)
    assert out.shape == (4, 5, 2)
    # member 1 alone, computed by hand, equals row 1 of the batched pass
    h = x[1]
    for layer in net.hidden:
        h = torch.nn.functional.silu(h @ layer.weight[1] + layer.bias[1])
    assert torch.allclose(out[1], h @ net.out.weight[1] + net.out.bias[1], atol=1e-6)


def test_spread_is_zero_when_members_are_identical():
    model = linear_model(ensemble_size=3)
    same = models.Ensemble(model.config, model.state_dim, model.action_dim, model.discrete,
                           models.build_network(model.config, 2, 2), model.input_norm, model.target_norm)
    with torch.no_grad():
        for param in same.net.parameters():
            param.copy_(param[0:1].expand_as(param))
    batch = linear_transitions(20, seed=3)
    assert np.allclose(same.disagreement(batch.states, batch.actions), 0, atol=1e-12)  # zero up to rounding
    assert np.all(model.disagreement(batch.states, batch.actions) > 0)


def test_disagreement_grows_far_from_the_data():
    model = linear_model(ensemble_size=3)
    near = linear_transitions(50, seed=4)
    far = near.states * 20
    spread_near = model.disagreement(near.states, near.actions).mean()
    assert model.disagreement(far, near.actions).mean() > 3 * spread_near


def test_probabilistic_members_predict_a_std_and_can_sample():
    config = models.ModelConfig(ensemble_size=2, probabilistic=True, termination="never",
                                **{**FAST, "max_epochs": 5})
    model = models.train_ensemble(linear_transitions(200), config, seed=0, progress=False)
    batch = linear_transitions(10, seed=5)
    prediction = model.predict(batch.states, batch.actions)
    assert (prediction.next_state_std > 0).all() and prediction.next_state_std.shape == (2, 10, 2)
    mean_step, sampled_step = model.as_step_fn(), model.as_step_fn(sample=True, seed=1)
    means, samples = (step(batch.states, batch.actions)[0] for step in (mean_step, sampled_step))
    assert not np.allclose(means, samples)


def test_gaussian_nll_is_minimised_by_the_true_variance():
    target = torch.tensor([1.0])
    values = [models.gaussian_nll(torch.tensor([0.0]), torch.tensor([np.log(v)]), target).item()
              for v in (0.5, 1.0, 2.0)]
    assert values[1] < values[0] and values[1] < values[2]


def test_cartpole_termination_rule():
    states = np.array([[0, 0, 0, 0], [2.5, 0, 0, 0], [0, 0, -0.22, 0], [-2.39, 0, 0.2, 0]], float)
    assert models.cartpole_terminated(states).tolist() == [False, True, True, False]


def test_termination_rule_is_used_when_chosen():
    transitions = linear_transitions(100)
    config = models.ModelConfig(termination="cartpole", **{**FAST, "max_epochs": 1})
    model = models.train_ensemble(
        data.Transitions(np.c_[transitions.states, transitions.states], transitions.actions,
                         transitions.rewards, np.c_[transitions.next_states, transitions.next_states],
                         transitions.terminated),
        config, seed=0, progress=False)
    states = np.zeros((2, 4))
    states[1, 0] = 10.0  # far beyond x = 2.4 m: the rule must say terminated
    assert model.as_step_fn()(states, np.array([0, 0]))[2].tolist() == [False, True]


# -- save / load -------------------------------------------------------------------------------

def test_save_load_round_trips(tmp_path):
    model = linear_model(ensemble_size=3)
    path = str(tmp_path / "model.pt")
    model.save(path)
    loaded = models.Ensemble.load(path)
    batch = linear_transitions(10, seed=6)
    assert loaded.config == model.config
    before = model.as_step_fn()(batch.states, batch.actions)
    after = loaded.as_step_fn()(batch.states, batch.actions)
    for a, b in zip(before, after, strict=True):
        assert np.array_equal(a, b)


# -- bad input ----------------------------------------------------------------------------------

def test_bad_inputs_raise_clear_errors():
    step = linear_model().as_step_fn()
    with pytest.raises(ValueError, match=r"states must be a float array of shape \(B, 2\)"):
        step(np.zeros((3, 5)), np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="states"):
        step(np.zeros(2), np.zeros(1, np.int64))
    with pytest.raises(TypeError, match="actions must be an int64 array of shape"):
        step(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"actions must be in 0\.\.1"):
        step(np.zeros((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"actions must have shape \(3, 1\)"):
        linear_model(False).as_step_fn()(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="member must be"):
        linear_model().as_step_fn("median")
    with pytest.raises(ValueError, match="sample=True needs probabilistic"):
        linear_model().as_step_fn(sample=True)
    with pytest.raises(ValueError, match="termination must be one of"):
        models.ModelConfig(termination="sometimes")
    with pytest.raises(ValueError, match="ensemble_size must be >= 1"):
        models.ModelConfig(ensemble_size=0)
    with pytest.raises(ValueError, match="need at least 10 transitions"):
        models.train_ensemble(linear_transitions(5), progress=False)
    with pytest.raises(TypeError, match="data must be"):
        models.train_ensemble([1, 2, 3], progress=False)


# -- evaluation ---------------------------------------------------------------------------------

def perfect_linear_step(states, actions):
    """The true system of linear_transitions, as a step function."""
    a_matrix = np.array([[0.0, 0.1], [-0.2, 0.0]])
    push = np.column_stack([np.zeros(len(states)), 0.3 * (2 * np.asarray(actions) - 1)])
    return states + states @ a_matrix.T + push, states[:, 0].copy(), np.zeros(len(states), bool)


def test_one_step_error_is_zero_for_the_true_system_and_one_for_predicting_no_change():
    test = linear_transitions(200, seed=7)
    assert np.allclose(models.one_step_error(perfect_linear_step, test).normalized, 0)
    mean_delta = (test.next_states - test.states).mean(axis=0)
    constant = models.one_step_error(lambda s, a: (s + mean_delta, s[:, 0], np.zeros(len(s), bool)), test)
    assert np.allclose(constant.normalized, 1)


def test_open_loop_rollout_feeds_its_own_predictions_and_stops_at_termination():
    starts = np.array([[0.45, 1.0], [0.0, 0.0]])
    actions = np.array([[1, 1, 1], [0, 1, 0]])
    rollout = models.open_loop_rollout(lesson03_neural_models._toy_step, starts, actions)
    assert rollout.states.shape == (2, 4, 2) and np.array_equal(rollout.states[:, 0], starts)
    assert rollout.alive[0].tolist() == [True, False, False, False]      # x = 0.55 > 0.5 after step 1
    assert np.allclose(rollout.states[0, 1:], [[0.55, 1.1]] * 3)         # held after termination
    assert rollout.rewards[0, 1:].tolist() == [0, 0]
    by_hand = starts[1]
    for t in range(3):
        by_hand = lesson03_neural_models._toy_step(by_hand[None], actions[1, t:t + 1])[0][0]
        assert np.allclose(rollout.states[1, t + 1], by_hand)


def test_rollout_error_ignores_steps_after_the_real_episode_ended():
    real = data.Trajectories(np.zeros((2, 3, 1)), np.zeros((2, 2), np.int64),
                             np.array([[True, True, True], [True, True, False]]))
    predicted = models.Rollout(np.array([[[0.0], [1.0], [2.0]], [[0.0], [3.0], [99.0]]]), np.zeros((2, 2)),
                               np.ones((2, 3), bool))
    assert np.allclose(models.rollout_error(predicted, real, scale=np.array([1.0])), [0, 2, 2])


# The exercise checks of notebook 03 are tested in tests/test_checks_lesson03.py.

# -- notebook 03's slider callback ---------------------------------------------------------------

def test_rollout_depth_figure_draws_and_rejects_bad_depth():
    real = data.collect_trajectories("CartPole-v1", 2, 12, data.cartpole_balancing_policy(), seed=0)
    predicted = models.open_loop_rollout(models_perfect_cartpole, real.states[:, 0], real.actions)
    fig = widgets.rollout_depth_figure(5, 1, real=real, predicted=predicted)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 4 and "depth k = 5" in fig._suptitle.get_text()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    assert len(axes[0].lines[1].get_xdata()) == 6   # start + 5 predicted steps
    plt.close(fig)
    with pytest.raises(ValueError, match="depth must be in"):
        widgets.rollout_depth_figure(13, 0, real=real, predicted=predicted)


def models_perfect_cartpole(states, actions):
    from mbrl_helpers.worlds.simulators import cartpole_step

    return cartpole_step(np.asarray(states, np.float64), np.asarray(actions, np.int64))
