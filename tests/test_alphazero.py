import numpy as np
import pytest
import torch

from mbrl_helpers.agents import alphazero as az
from mbrl_helpers.learning import models
from mbrl_helpers.planners import puct
from mbrl_helpers.worlds import simulators as sim

TINY = az.AlphaZeroConfig(
    n_simulations=8, batch_size=4, hidden=16, train_every=100, updates_per_phase=20, train_batch=32,
    n_step=10, random_steps=100, refit_every=100, max_steps=300, eval_every=300, eval_episodes=1,
    model=models.ModelConfig(ensemble_size=2, hidden=16, termination="cartpole", max_epochs=2, patience=1))


# -- value targets by hand ---------------------------------------------------------------------
def test_n_step_targets_by_hand():
    rewards = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    terminated = np.array([False, True, False, False, False])   # episode 1 ends by falling at t=1
    truncated = np.array([False, False, False, True, False])    # episode 2 cut by the time limit at t=3
    next_v = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    g = 0.5
    targets = az.value_targets(rewards, terminated, truncated, next_v, g, n_step=2)
    np.testing.assert_allclose(targets, [
        1 + g * 2,                        # the fall ends the return: no bootstrap
        2,
        3 + g * 4 + g * g * 40,           # cut by the time limit: bootstrap from V(s'_3)
        4 + g * 40,
        5 + g * 50,                       # the stream's end: bootstrap from V(s'_4)
    ])
    one_step = az.value_targets(rewards, terminated, truncated, next_v, g, n_step=1)
    np.testing.assert_allclose(one_step, rewards + g * next_v * ~terminated)
    monte_carlo = az.value_targets(rewards, terminated, truncated, next_v, g, n_step=None)
    assert monte_carlo[2] == pytest.approx(3 + g * 4 + g * g * 40)
    assert monte_carlo[0] == pytest.approx(2.0)


def test_value_targets_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="terminated"):
        az.value_targets(np.ones(3), np.zeros(2, bool), np.zeros(3, bool), np.zeros(3), 0.9, 2)
    with pytest.raises(ValueError, match="n_step"):
        az.value_targets(np.ones(3), np.zeros(3, bool), np.zeros(3, bool), np.zeros(3), 0.9, 0)


# -- the network and its evaluator -------------------------------------------------------------
def test_network_evaluator_makes_one_torch_call_per_batch():
    torch.manual_seed(0)
    net = az.PolicyValueNet(4, 2, hidden=16)
    forwards = []
    net.register_forward_hook(lambda module, inputs, output: forwards.append(inputs[0].shape[0]))
    evaluator = az.network_evaluator(net, value_scale=100.0)
    result = puct.batched_search(sim.cartpole_step, np.array([0.0, 0.0, 0.02, 0.0]), evaluator,
                                 n_actions=2, n_simulations=64, batch_size=16)
    assert evaluator.calls == result.evaluator_calls == len(forwards)
    assert len(forwards) < 64 // 2                       # far fewer than one call per node
    assert sum(forwards) == 1 + result.tree.size - 1 - int(result.tree.terminal[:result.tree.size].sum())
    priors, values = evaluator(np.zeros((3, 4)))
    np.testing.assert_allclose(priors.sum(axis=1), 1.0)
    assert priors.dtype == values.dtype == np.float64 and values.shape == (3,)
    assert np.all((values >= 0) & (values <= 100.0))     # the sigmoid head times value_scale


def test_losses_decrease_on_fixed_data():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    states = rng.normal(size=(256, 4))
    right = (states[:, 2] > 0).astype(float)             # a policy to learn: push where the pole leans
    policies = np.stack([1 - right, right], axis=1) * 0.8 + 0.1
    targets = 1 / (1 + np.exp(-states[:, 0]))             # a value to learn, in the head's units
    net = az.PolicyValueNet(4, 2, hidden=16)
    net.set_normalizer(states)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    data = (states, policies, np.ones(256, bool), targets)
    kwargs = {"batch": 64, "value_weight": 1.0, "rng": rng}
    first = az.train_network(net, optimizer, *data, updates=5, **kwargs)
    az.train_network(net, optimizer, *data, updates=80, **kwargs)
    last = az.train_network(net, optimizer, *data, updates=5, **kwargs)
    assert last[0] < first[0] - 0.05
    assert last[1] < 0.5 * first[1]


def test_random_play_steps_carry_no_policy_loss():
    net = az.PolicyValueNet(4, 2, hidden=8)
    s = torch.zeros(4, 4)
    p = torch.tensor([[1.0, 0.0]] * 4)
    policy_loss, _ = az.network_losses(net, s, p, torch.zeros(4), torch.zeros(4))
    assert policy_loss.item() == 0.0


# -- the loop -----------------------------------------------------------------------------------
def test_tiny_training_run_smoke():
    result = az.train_alphazero(TINY, seed=0)
    assert result.real_steps == 300
    assert result.eval_steps.tolist() == [300]
    assert 8 <= result.eval_returns[0] <= 500
    extra = result.extra
    assert extra["simulations_per_step"] == 8.0           # every searched step ran its budget
    assert extra["searched_steps"] == 200                 # the first 100 steps were random play
    assert 1 <= extra["model_calls_per_step"] <= 8
    assert 1 <= extra["network_calls_per_step"] <= 9
    assert extra["model_refits"] == 3                     # at 100, 200 and 300
    log = extra["log"]
    assert log["step"] == [100, 200, 300]
    assert all(len(v) == 3 for v in log.values())
    assert np.isnan(log["prior_agreement"][0])            # nothing searched before the first phase
    assert 0 <= log["prior_agreement"][1] <= 1 and log["value_rmse"][1] >= 0
    assert result.updates == 3 * TINY.updates_per_phase


def test_config_errors_name_the_parameter():
    with pytest.raises(ValueError, match="n_simulations"):
        az.AlphaZeroConfig(n_simulations=0)
    with pytest.raises(ValueError, match="gamma"):
        az.AlphaZeroConfig(gamma=1.0)
    with pytest.raises(ValueError, match="random_steps"):
        az.AlphaZeroConfig(random_steps=5)
    with pytest.raises(ValueError, match="normalise"):
        az.AlphaZeroConfig(normalise="global")
    with pytest.raises(TypeError, match="net"):
        az.network_evaluator("net")
