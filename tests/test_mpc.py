"""MPC with learned models (mbrl_helpers.planners.mpc): planners, scoring, trajectory sampling, the loop."""

import gymnasium as gym
import numpy as np
import pytest

import mbrl_helpers  # noqa: F401  (fixes torch's kernels before torch loads)
from mbrl_helpers.learning import data, models
from mbrl_helpers.planners import mpc
from mbrl_helpers.worlds.simulators import cartpole_step

CARTPOLE = gym.make("CartPole-v1")
PENDULUM = gym.make("Pendulum-v1")
TINY = dict(samples=20, iterations=2, warmup_steps=60)


def tiny_config(env: gym.Env, **changes) -> mpc.MPCConfig:
    base = mpc.default_config(env)
    small_model = models.ModelConfig(ensemble_size=2, hidden=16, termination=base.model.termination,
                                     max_epochs=3, patience=2)
    return mpc.replace(base, horizon=5, value_updates=10, eval_episodes=1, max_episode_steps=30,
                       model=small_model, **{**TINY, **changes})


# -- configuration and spaces -------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "error"), [
    ("planner", "mppi", ValueError), ("horizon", 0, ValueError), ("samples", 2.5, TypeError),
    ("elite_fraction", 0.0, ValueError), ("propagation", "ts2", ValueError), ("gamma", 1.5, ValueError),
])
def test_config_rejects_bad_values_naming_the_parameter(field, value, error):
    with pytest.raises(error, match=field):
        mpc.MPCConfig(**{field: value})


def test_default_config_per_kind_of_action_space():
    cartpole, pendulum = mpc.default_config(CARTPOLE), mpc.default_config("Pendulum-v1")
    assert cartpole.model.termination == "cartpole" and cartpole.terminal_value
    assert pendulum.model.termination == "never" and pendulum.solved_return == -200
    assert mpc.default_config(gym.make("Acrobot-v1")).model.termination == "learned"


def test_wrong_kind_of_env_is_a_clear_type_error():
    with pytest.raises(TypeError, match="observation space"):
        mpc.ActionSpace.of(gym.make("mbrl/DynaMaze-v0"))
    with pytest.raises(TypeError, match="env must be"):
        mpc.run_mbrl(42, episodes=1, seed=0)


# -- the CEM update ------------------------------------------------------------------------------

def test_refit_categorical_is_the_elites_action_shares():
    probs = np.full((2, 2), 0.5)
    elites = np.array([[0, 1], [0, 1], [1, 1], [0, 0]])
    new = mpc.refit_categorical(probs, elites)
    assert np.allclose(new, [[0.75, 0.25], [0.25, 0.75]])
    smoothed = mpc.refit_categorical(probs, elites, smoothing=0.5)
    assert np.allclose(smoothed, [[0.625, 0.375], [0.375, 0.625]])
    floored = mpc.refit_categorical(probs, np.zeros((4, 2), np.int64), min_probability=0.1)
    assert np.allclose(floored.sum(axis=1), 1) and floored.min() > 0.09


def test_refit_gaussian_uses_elite_mean_and_population_std():
    mean, std = np.zeros((1, 1)), np.ones((1, 1))
    elites = np.array([[[1.0]], [[3.0]]])
    new_mean, new_std = mpc.refit_gaussian(mean, std, elites)
    assert new_mean[0, 0] == 2.0 and new_std[0, 0] == 1.0
    new_mean, new_std = mpc.refit_gaussian(mean, std, elites, smoothing=0.5)
    assert new_mean[0, 0] == 1.0 and new_std[0, 0] == 1.0


# -- scoring ---------------------------------------------------------------------------------------

def counter_model(states, actions):
    """A toy model: the state counts steps; reward = the action; terminal when the count reaches 2."""
    nxt = states + 1
    return nxt, np.asarray(actions, np.float64), nxt[:, 0] >= 2


def test_scores_stop_after_a_predicted_termination():
    actions = np.array([[1, 1, 1, 1], [0, 1, 1, 1], [1, 0, 0, 0]])
    scores = mpc.score_sequences(counter_model, np.zeros(1), actions)
    assert scores.returns.tolist() == [2.0, 1.0, 1.0]   # the terminal step's reward counts, then nothing
    assert scores.alive[0, 0].tolist() == [True, True, False, False, False]
    discounted = mpc.score_sequences(counter_model, np.zeros(1), actions, gamma=0.5)
    assert discounted.returns.tolist() == [1.5, 0.5, 1.0]


def test_terminal_value_only_for_particles_alive_at_the_end():
    def never(states, actions):
        return states, np.zeros(len(states)), np.zeros(len(states), bool)

    actions = np.zeros((3, 4), np.int64)
    alive = mpc.score_sequences(never, np.zeros(1), actions, gamma=0.5, value=lambda s: np.full(len(s), 8.0))
    assert np.allclose(alive.returns, 0.5 ** 4 * 8)
    dead = mpc.score_sequences(counter_model, np.zeros(1), actions, value=lambda s: np.full(len(s), 8.0))
    assert np.allclose(dead.returns, 0)


def test_ts1_reshuffles_particles_between_members_each_step():
    seen = []

    def spy(states, actions):
        seen.append(states.copy())
        return states, np.zeros(len(states)), np.zeros(len(states), bool)

    start = np.zeros(1)
    mpc.score_sequences(spy, start, np.zeros((4, 3), np.int64), particles=2, ts1_rng=np.random.default_rng(0))
    assert len(seen) == 3 and all(s.shape == (8, 1) for s in seen)


# -- the ensemble as a step function ---------------------------------------------------------------

@pytest.fixture(scope="module")
def cartpole_ensemble():
    d = data.collect_transitions("CartPole-v1", 300, seed=0)
    config = models.ModelConfig(ensemble_size=3, hidden=16, termination="cartpole", max_epochs=3)
    return d, models.train_ensemble(d, config, 0, n_actions=2, progress=False)


def test_member_blocks_match_each_members_prediction(cartpole_ensemble):
    d, ensemble = cartpole_ensemble
    states, actions = d.states[:30], d.actions[:30]
    predicted = ensemble.predict(states, actions)
    nxt, rew, term = mpc.member_step_fn(ensemble, "tsinf")(states, actions)
    for e in range(3):
        block = slice(10 * e, 10 * (e + 1))
        assert np.allclose(nxt[block], predicted.next_states[e, block], atol=1e-5)
        assert np.allclose(rew[block], predicted.rewards[e, block], atol=1e-5)
    mean_next, _, mean_term = mpc.member_step_fn(ensemble, "mean")(states, actions)
    assert np.allclose(mean_next, predicted.next_states.mean(0), atol=1e-5)
    assert mean_term.dtype == bool and term.shape == (30,)
    with pytest.raises(ValueError, match="multiple"):
        mpc.member_step_fn(ensemble, "ts1")(states[:4], actions[:4])


def test_continuous_actions_go_through_the_member_step(tmp_path):
    d = data.collect_transitions("Pendulum-v1", 200, seed=0)
    config = models.ModelConfig(ensemble_size=2, hidden=16, termination="never", max_epochs=2)
    ensemble = models.train_ensemble(d, config, 0, progress=False)
    nxt, _, term = mpc.member_step_fn(ensemble, "tsinf")(d.states[:10], d.actions[:10])
    predicted = ensemble.predict(d.states[:10], d.actions[:10])
    assert np.allclose(nxt[:5], predicted.next_states[0, :5], atol=1e-5) and not term.any()


# -- planning ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("planner", ["cem", "random"])
def test_planner_on_the_true_model_pushes_towards_the_falling_pole(planner):
    config = mpc.replace(mpc.default_config(CARTPOLE), planner=planner, horizon=10, samples=64)
    space = mpc.ActionSpace.of(CARTPOLE)
    for theta, push in ((0.15, 1), (-0.15, 0)):
        plan = mpc.plan(cartpole_step, np.array([0.0, 0.0, theta, 0.0]), space, config,
                        np.random.default_rng(0))
        assert plan.scores.returns[plan.elites[0]] == plan.scores.returns.max()
        if planner == "cem":   # random shooting acts any plan that survives H steps (they tie)
            assert plan.action == push
        assert plan.samples.shape == (64, 10) and len(plan.elites) == config.n_elites


def test_continuous_cem_keeps_actions_in_bounds_and_warm_starts():
    space = mpc.ActionSpace.of(PENDULUM)
    config = mpc.replace(mpc.default_config(PENDULUM), horizon=6, samples=30)

    def reward_for_torque(states, actions):
        return states, -np.square(np.asarray(actions)[:, 0] - 1.5), np.zeros(len(states), bool)

    rng = np.random.default_rng(0)
    first = mpc.plan(reward_for_torque, np.zeros(3), space, config, rng)
    assert np.all(np.abs(first.samples) <= 2.0)
    second = mpc.plan(reward_for_torque, np.zeros(3), space, config, rng, previous=first.distribution)
    assert abs(float(second.action[0]) - 1.5) < abs(float(first.action[0]) - 1.5) + 0.2
    assert abs(float(second.action[0]) - 1.5) < 0.5


def test_shifted_distribution_moves_one_step_and_refreshes_the_end():
    space = mpc.ActionSpace.of(CARTPOLE)
    config = mpc.replace(mpc.default_config(CARTPOLE), horizon=3)
    probs = np.array([[1.0, 0.0], [0.9, 0.1], [0.2, 0.8]])
    assert np.allclose(mpc.shifted(probs, space, config), [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])


# -- the loop ----------------------------------------------------------------------------------------

def test_run_mbrl_cartpole_shapes_and_same_seed_same_result():
    config = tiny_config(CARTPOLE)
    first = mpc.run_mbrl("CartPole-v1", episodes=2, seed=3, config=config)
    again = mpc.run_mbrl("CartPole-v1", episodes=2, seed=3, config=config)
    assert first.returns.shape == first.real_steps.shape == (2,)
    assert first.real_steps.dtype == np.int64 and first.real_steps[0] > config.warmup_steps
    assert np.array_equal(first.returns, again.returns)
    assert np.array_equal(first.eval_returns, again.eval_returns)
    assert np.array_equal(first.model_error, again.model_error)
    assert first.updates > first.model_updates > 0   # the terminal value's TD updates count too
    assert np.all(first.plan_ms >= first.model_ms)


def test_run_mbrl_pendulum_and_a_changed_cartpole():
    result = mpc.run_mbrl("Pendulum-v1", episodes=1, seed=0, config=tiny_config(PENDULUM, warmup_steps=40))
    assert result.returns[0] < 0 and result.real_steps[0] == 40 + 30
    heavy = gym.make("CartPole-v1")
    heavy.unwrapped.length = 0.8   # a longer pole: the model learns it from data
    changed = mpc.run_mbrl(heavy, episodes=1, seed=0, config=tiny_config(CARTPOLE))
    assert changed.returns.shape == (1,)


def test_keywords_override_the_lesson_defaults():
    result = mpc.run_mbrl("CartPole-v1", episodes=1, seed=0, planner="random", horizon=4,
                          config=tiny_config(CARTPOLE), terminal_value=False)
    assert result.config.planner == "random" and result.config.horizon == 4
    assert result.updates == result.model_updates


def test_true_model_and_fit_once_variants_run():
    config = tiny_config(CARTPOLE)
    true = mpc.run_mbrl("CartPole-v1", episodes=1, seed=0, config=config, true_model=cartpole_step)
    assert true.model_updates == 0
    once = mpc.run_mbrl("CartPole-v1", episodes=2, seed=0, config=config, refit=False)
    assert 0 < once.model_updates
