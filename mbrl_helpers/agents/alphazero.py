"""An AlphaZero-style agent for CartPole that searches a learned model (MuZero-like, no latent states).

Read top to bottom, in the order the loop uses the pieces:

    AlphaZeroConfig     every hyperparameter, in one frozen dataclass
    PolicyValueNet      a small MLP with a prior head (logits over actions) and a value head
    network_evaluator   the net behind puct's evaluator interface: ONE torch call per batch
    value_targets       n-step (or Monte Carlo) returns, bootstrapped from the net's value
    train_network       gradient steps on (state, visit-count policy, value target)
    search_action       one decision: batched PUCT on the learned model, leaves judged by the net
    evaluate_agent      mean return of the greedy search over N real episodes (notebook 04's protocol)
    train_alphazero     the loop: act by search in real CartPole, store, refit the model, train the net

The search normalises Q over each node's own value and its children ("siblings", as
mctx's default): over the whole tree the range spans terminal states (value 0) and long
survivals (~1 / (1 - gamma)), and the small difference between pushing left and right at
the root would vanish into it, leaving the visit counts (the policy targets and the
action) to the prior. In short exploratory runs (seeds 0-2, 5,000 real steps; not a
benchmark) "siblings" reached 475 on two seeds, "tree" on one.

The model is mbrl_helpers.learning.models' ensemble (5 x 64 hidden, CartPole's termination rule),
trained on the real transitions so far and refit every `refit_every` real steps; before
`random_steps` real steps the agent acts uniformly at random. Each real step stores the
state, the search's visit-count distribution and the real reward. The network learns
the visit counts (cross-entropy) and n-step value targets (squared error). Values are
learned in units of (1 - gamma) x return, so CartPole's values lie in [0, 1]; the
evaluator scales them back to returns for the search.

"Greedy" for this agent: the search without root noise, acting by most visits, with the
current model and network. Evaluation episodes are not training data. "Solved" is
notebook 04's: mean return over 5 real episodes >= 475, evaluated every 1,000 real steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
from numba import njit
from torch import nn

from mbrl_helpers.agents import dqn
from mbrl_helpers.core.validation import check_int, check_number, check_unit_interval
from mbrl_helpers.learning import models
from mbrl_helpers.planners import puct
from mbrl_helpers.worlds.simulators import StepFn

# The dynamics model of notebook 04 (imagined.MODEL): 5 MLPs of 64 hidden units predicting
# state deltas and rewards; termination by CartPole's known rule.
MODEL = models.ModelConfig(ensemble_size=5, hidden=64, termination="cartpole", max_epochs=15, patience=3)


@dataclass(frozen=True)
class AlphaZeroConfig:
    """Every hyperparameter of the AlphaZero-style loop (defaults small enough for a CPU)."""

    # search
    n_simulations: int = 32             # simulations per real decision
    batch_size: int = 16                # leaves per round: one model call + one network call
    c: float = 1.25                     # PUCT constant
    normalise: str = "siblings"         # Q normalisation of the search (puct.batched_search)
    gamma: float = 0.99                 # discount of search and value targets
    dirichlet_alpha: float = 0.3        # root noise while training (0: none); never when evaluating
    noise_fraction: float = 0.25        # weight of the noise in the root prior
    sample_actions: bool = False        # while training, act by sampling the visit counts (temperature 1)
    # network
    hidden: int = 64                    # units in each of the two hidden layers
    lr: float = 1e-3                    # Adam step size
    weight_decay: float = 1e-4
    train_every: int = 250              # real steps between training phases
    updates_per_phase: int = 500        # gradient steps per training phase
    train_batch: int = 128              # samples per gradient step
    n_step: int | None = None           # value target horizon (None: Monte Carlo to the episode's end)
    value_weight: float = 1.0           # weight of the value loss against the policy loss
    # model
    model: models.ModelConfig = MODEL
    random_steps: int = 500             # uniformly random real steps before the first model
    refit_every: int = 500              # real steps between model refits
    max_model_transitions: int = 5_000  # the model trains on the newest this many transitions
    # budget and evaluation (notebook 04's protocol)
    max_steps: int = 10_000             # real environment steps of one run
    eval_every: int = 1_000
    eval_episodes: int = 5
    solved_return: float = 475.0
    stop_when_solved: bool = True

    def __post_init__(self) -> None:
        for name in ("n_simulations", "batch_size", "hidden", "train_every", "updates_per_phase",
                     "train_batch", "max_steps", "eval_every", "eval_episodes", "refit_every",
                     "max_model_transitions"):
            check_int(name, getattr(self, name), low=1)
        check_int("random_steps", self.random_steps, low=20)   # the model needs some data first
        if self.n_step is not None:
            check_int("n_step", self.n_step, low=1)
        check_number("c", self.c, low=0)
        check_unit_interval("gamma", self.gamma)
        if self.gamma >= 1:
            raise ValueError(f"gamma must be < 1 (values are learned in units of 1 - gamma), "
                             f"got {self.gamma}")
        check_number("dirichlet_alpha", self.dirichlet_alpha, low=0)
        check_unit_interval("noise_fraction", self.noise_fraction)
        for name in ("lr", "weight_decay", "value_weight"):
            check_number(name, getattr(self, name), low=0)
        if self.normalise not in ("tree", "siblings"):
            raise ValueError(f"normalise must be 'tree' or 'siblings', got {self.normalise!r}")
        if not isinstance(self.model, models.ModelConfig):
            raise TypeError(f"model must be a models.ModelConfig, got {type(self.model).__name__}")

    @property
    def value_scale(self) -> float:
        """Return per unit of the value head: 1 / (1 - gamma)."""
        return 1.0 / (1.0 - self.gamma)


# -- the network --------------------------------------------------------------------------------
class PolicyValueNet(nn.Module):
    """MLP trunk -> prior logits (B, A) and scaled value (B,) for states (B, D).

    Inputs are standardised by state_mean / state_std (buffers, set from the data by
    set_normalizer). The value head is a sigmoid: values in units of (1 - gamma) x return.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64) -> None:
        super().__init__()
        check_int("obs_dim", obs_dim, low=1)
        check_int("n_actions", n_actions, low=1)
        check_int("hidden", hidden, low=1)
        self.n_actions = n_actions
        self.trunk = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(),
                                   nn.Linear(hidden, hidden), nn.Tanh())
        self.prior_head = nn.Linear(hidden, n_actions)
        self.value_head = nn.Linear(hidden, 1)
        self.register_buffer("state_mean", torch.zeros(obs_dim))
        self.register_buffer("state_std", torch.ones(obs_dim))

    def set_normalizer(self, states: np.ndarray) -> None:
        """Standardise inputs with the mean and std of states (N, D)."""
        mean, std = models.normalisation_stats(np.asarray(states, dtype=np.float64))
        self.state_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.state_std.copy_(torch.as_tensor(std, dtype=torch.float32))

    def forward(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk((states - self.state_mean) / self.state_std)
        return self.prior_head(h), torch.sigmoid(self.value_head(h)).squeeze(-1)


class NetworkEvaluator:
    """puct's evaluator backed by a PolicyValueNet: one torch forward pass per call.

    Returns (priors (B, A) float64 = softmax of the logits, values (B,) float64 in
    return units = value head x value_scale). `calls` counts the forward passes.
    """

    def __init__(self, net: PolicyValueNet, value_scale: float) -> None:
        if not isinstance(net, PolicyValueNet):
            raise TypeError(f"net must be a PolicyValueNet, got {type(net).__name__}")
        check_number("value_scale", value_scale, low=0)
        self.net, self.value_scale, self.calls = net, float(value_scale), 0

    def __call__(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls += 1
        with torch.no_grad():
            logits, values = self.net(torch.as_tensor(np.asarray(states), dtype=torch.float32))
            priors = torch.softmax(logits.double(), dim=-1).numpy()
        return priors / priors.sum(axis=1, keepdims=True), values.double().numpy() * self.value_scale


def network_evaluator(net: PolicyValueNet, value_scale: float = 100.0) -> NetworkEvaluator:
    """The net as a puct evaluator (value_scale: return per unit of the value head, 1/(1-gamma))."""
    return NetworkEvaluator(net, value_scale)


# -- targets and training -----------------------------------------------------------------------
@njit(cache=True)
def _n_step_returns(rewards, terminated, ends, next_values, gamma, n):
    out = np.empty(rewards.shape[0])
    last = rewards.shape[0] - 1
    for t in range(rewards.shape[0]):
        g, discount = 0.0, 1.0
        for k in range(n):
            i = t + k
            g += discount * rewards[i]
            discount *= gamma
            if terminated[i]:
                break
            if ends[i] or i == last or k == n - 1:
                g += discount * next_values[i]
                break
        out[t] = g
    return out


def value_targets(rewards: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                  next_values: np.ndarray, gamma: float, n_step: int | None) -> np.ndarray:
    """(T,) n-step returns of a stream of T real transitions, oldest first.

    G_t = r_t + gamma r_{t+1} + ... + gamma^(m-1) r_{t+m-1} + gamma^m V(s'_{t+m-1}), with
    m = n_step, cut at the episode's end: no bootstrap after `terminated` (the pole fell),
    a bootstrap from next_values after `truncated` (time limit) or at the stream's end
    (an episode still running). next_values (T,) = V(s'_t) in return units.
    n_step None: Monte Carlo, i.e. up to the episode's end.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    shape = rewards.shape
    for name, arr in (("terminated", terminated), ("truncated", truncated), ("next_values", next_values)):
        if np.shape(arr) != shape:
            raise ValueError(f"{name} must have the rewards' shape {shape}, got {np.shape(arr)}")
    check_unit_interval("gamma", gamma)
    n = shape[0] + 1 if n_step is None else n_step
    check_int("n_step", n, low=1)
    if shape[0] == 0:
        return np.zeros(0)
    return _n_step_returns(rewards, np.asarray(terminated, np.bool_), np.asarray(truncated, np.bool_),
                           np.asarray(next_values, np.float64), float(gamma), int(n))


def network_losses(net: PolicyValueNet, states: torch.Tensor, policies: torch.Tensor,
                   has_policy: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(policy cross-entropy, value squared error), each a mean over the batch.

    policies (B, A) visit-count targets (has_policy (B,) masks out random-play steps);
    values (B,) targets in units of the value head.
    """
    logits, predicted = net(states)
    ce = -(policies * torch.log_softmax(logits, dim=-1)).sum(-1)
    policy_loss = (ce * has_policy).sum() / has_policy.sum().clamp(min=1.0)
    return policy_loss, ((predicted - values) ** 2).mean()


def train_network(net: PolicyValueNet, optimizer: torch.optim.Optimizer, states: np.ndarray,  # noqa: PLR0913 - the net, its data columns, then keyword-only settings
                  policies: np.ndarray, has_policy: np.ndarray, targets: np.ndarray, *, updates: int,
                  batch: int, value_weight: float, rng: np.random.Generator) -> tuple[float, float]:
    """`updates` Adam steps on uniform minibatches; returns the mean (policy, value) loss."""
    s = torch.as_tensor(states, dtype=torch.float32)
    p = torch.as_tensor(policies, dtype=torch.float32)
    m = torch.as_tensor(has_policy, dtype=torch.float32)
    v = torch.as_tensor(targets, dtype=torch.float32)
    totals = np.zeros(2)
    for _ in range(updates):
        idx = torch.as_tensor(rng.integers(len(states), size=min(batch, len(states))))
        policy_loss, value_loss = network_losses(net, s[idx], p[idx], m[idx], v[idx])
        optimizer.zero_grad()
        (policy_loss + value_weight * value_loss).backward()
        optimizer.step()
        totals += (policy_loss.item(), value_loss.item())
    return float(totals[0] / updates), float(totals[1] / updates)


# -- acting -------------------------------------------------------------------------------------
def search_action(step_fn: StepFn, evaluator: puct.Evaluator, state: np.ndarray, config: AlphaZeroConfig,
                  n_actions: int, *, explore: bool, seed: int | None = None) -> puct.BatchedSearchResult:
    """One decision by batched PUCT on the model; root noise only when `explore`."""
    return puct.batched_search(
        step_fn, np.asarray(state, dtype=np.float64), evaluator, n_actions=n_actions,
        n_simulations=config.n_simulations, batch_size=config.batch_size, c=config.c,
        gamma=config.gamma, seed=seed, dirichlet_alpha=config.dirichlet_alpha if explore else 0.0,
        noise_fraction=config.noise_fraction, check_model=False, normalise=config.normalise)


def evaluate_agent(step_fn: StepFn, evaluator: puct.Evaluator, config: AlphaZeroConfig, *,
                   env_id: str = "CartPole-v1", seed: int = 0) -> float:
    """Mean undiscounted return of the greedy search over config.eval_episodes real episodes.

    Episode i is reset with seed + i (as dqn.evaluate); no root noise, act by most visits.
    """
    returns = []
    for i in range(config.eval_episodes):
        env = gym.make(env_id)
        returns.append(puct.run_episode(
            env, step_fn, evaluator, seed=seed + i, n_simulations=config.n_simulations,
            batch_size=config.batch_size, c=config.c, gamma=config.gamma, normalise=config.normalise,
        ).total_reward)
        env.close()
    return float(np.mean(returns))


# -- the training loop ---------------------------------------------------------------------------
@dataclass
class Experience:
    """Real steps so far, oldest first, as growing lists (arrays via `arrays`)."""

    states: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    rewards: list = field(default_factory=list)
    next_states: list = field(default_factory=list)
    terminated: list = field(default_factory=list)
    truncated: list = field(default_factory=list)
    policies: list = field(default_factory=list)      # visit-count distribution (uniform in random play)
    searched: list = field(default_factory=list)      # False for random-play steps (no policy target)
    priors: list = field(default_factory=list)        # the net's prior at the root (before noise)
    root_values: list = field(default_factory=list)   # the net's value at the root (return units)

    def __len__(self) -> int:
        return len(self.states)

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: np.asarray(getattr(self, name)) for name in self.__dataclass_fields__}


def model_data(exp: Experience, newest: int) -> dict[str, np.ndarray]:
    """The newest real transitions in models.train_ensemble's dict format."""
    a = {k: np.asarray(getattr(exp, k)[-newest:]) for k in ("states", "actions", "rewards",
                                                              "next_states", "terminated")}
    a["actions"] = a["actions"].astype(np.int64)
    return a


def train_alphazero(config: AlphaZeroConfig = AlphaZeroConfig(), seed: int = 0, *,  # noqa: C901 - the training loop read top to bottom (validation, early stopping, logging) in one place
                    env_id: str = "CartPole-v1", label: str = "AlphaZero-style") -> dqn.RunResult:
    """Train the agent on env_id for config.max_steps real steps (or until solved).

    Each real step: before config.random_steps act at random; after, search the learned
    model from the real state (root noise on), act by most visits, and store (state,
    visit counts, real reward). Every refit_every steps refit the model; every
    train_every steps train the net on all real steps so far (n-step value targets
    bootstrapped from the current net). Evaluates the greedy search every eval_every
    real steps. Deterministic given seed.

    Returns a dqn.RunResult (updates = gradient steps of the net) whose `extra` holds
    per-real-step costs (simulations, model calls, network calls), seconds spent in
    model fitting and evaluating, and `log`, one entry per training phase, measured on the
    real steps new since the previous phase, before the net trains on them (held out):
        step                 real step of the phase
        value_rmse           RMS error of the net's value at the states acted from vs their
                             value targets (return units)
        value_rmse_baseline  the targets' std there: the error of predicting their mean
        prior_agreement      fraction of those steps where the prior's argmax = the search's action
        policy_loss, value_loss  mean training losses of the phase (after the measurement)
    """
    check_int("seed", seed, low=0)
    if not isinstance(config, AlphaZeroConfig):
        raise TypeError(f"config must be an AlphaZeroConfig, got {type(config).__name__}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = gym.make(env_id)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise TypeError(f"the agent needs a Discrete action space, got {env.action_space}")
    n_actions = int(env.action_space.n)
    obs_dim = int(np.prod(env.observation_space.shape))
    net = PolicyValueNet(obs_dim, n_actions, config.hidden)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    evaluator = network_evaluator(net, config.value_scale)
    exp = Experience()
    step_fn: StepFn | None = None
    log: dict[str, list] = {key: [] for key in ("step", "value_rmse", "value_rmse_baseline",
                                                "prior_agreement", "policy_loss", "value_loss")}
    sims = model_calls = net_calls_search = 0
    updates, refits, fit_seconds, eval_seconds = 0, 0, 0.0, 0.0
    eval_steps, eval_returns, solved_at = [], [], None
    trained_upto = 0
    start = time.perf_counter()
    state, _ = env.reset(seed=seed)
    step = 0
    for step in range(1, config.max_steps + 1):
        # act: random play first, then search on the learned model
        if step_fn is None:
            action = int(rng.integers(n_actions))
            policy, searched = np.full(n_actions, 1.0 / n_actions), False
            prior, root_value = np.full(n_actions, 1.0 / n_actions), 0.0
        else:
            before = evaluator.calls
            result = search_action(step_fn, evaluator, state, config, n_actions, explore=True,
                                   seed=int(rng.integers(2**31)))
            action, policy, searched = result.action, result.policy(), True
            if config.sample_actions:
                action = int(rng.choice(n_actions, p=policy))
            net_calls_search += evaluator.calls - before
            sims += result.simulations
            model_calls += result.model_calls
            prior, root_value = evaluator(state[None])       # logged only: what the net says here
            evaluator.calls -= 1                              # (not part of the search's cost)
            prior, root_value = prior[0], float(root_value[0])
        next_state, reward, terminated, truncated, _ = env.step(action)
        for name, value in (("states", state), ("actions", action), ("rewards", float(reward)),
                            ("next_states", next_state), ("terminated", terminated),
                            ("truncated", truncated), ("policies", policy), ("searched", searched),
                            ("priors", prior), ("root_values", root_value)):
            getattr(exp, name).append(value)
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()

        # refit the model on the real transitions so far
        if step >= config.random_steps and (step_fn is None or step % config.refit_every == 0):
            t0 = time.perf_counter()
            ensemble = models.train_ensemble(model_data(exp, config.max_model_transitions), config.model,
                                             seed + 1000 * refits, n_actions=n_actions, progress=False)
            step_fn = ensemble.as_step_fn("mean")
            refits += 1
            fit_seconds += time.perf_counter() - t0

        # train the network on everything so far; first measure it on the steps it has not seen
        if step >= config.random_steps and step % config.train_every == 0:
            data = exp.arrays()
            net.set_normalizer(data["states"])   # the states reached widen as the agent improves
            with torch.no_grad():
                _, next_v = net(torch.as_tensor(data["next_states"], dtype=torch.float32))
            targets = value_targets(data["rewards"], data["terminated"], data["truncated"],
                                    next_v.double().numpy() * config.value_scale, config.gamma, config.n_step)
            new = slice(trained_upto, len(exp))
            fresh_searched = data["searched"][new]
            log["step"].append(step)
            error = (data["root_values"][new] - targets[new])[fresh_searched]
            log["value_rmse"].append(float(np.sqrt(np.mean(error ** 2))) if error.size else float("nan"))
            log["value_rmse_baseline"].append(float(np.std(targets[new][fresh_searched]))
                                              if error.size else float("nan"))
            agree = (np.argmax(data["priors"][new], 1) == np.argmax(data["policies"][new], 1))[fresh_searched]
            log["prior_agreement"].append(float(agree.mean()) if agree.size else float("nan"))
            policy_loss, value_loss = train_network(
                net, optimizer, data["states"], data["policies"], data["searched"],
                targets / config.value_scale, updates=config.updates_per_phase, batch=config.train_batch,
                value_weight=config.value_weight, rng=rng)
            log["policy_loss"].append(policy_loss)
            log["value_loss"].append(value_loss)
            updates += config.updates_per_phase
            trained_upto = len(exp)

        if step % config.eval_every == 0:
            t0 = time.perf_counter()
            eval_steps.append(step)
            if step_fn is None:   # no model yet: the random policy is what the agent has
                eval_returns.append(float("nan"))
            else:
                calls = evaluator.calls
                eval_returns.append(evaluate_agent(step_fn, evaluator, config, env_id=env_id,
                                                   seed=10_000 * (seed + 1) + step))
                evaluator.calls = calls
            eval_seconds += time.perf_counter() - t0
            if solved_at is None and eval_returns[-1] >= config.solved_return:
                solved_at = step
                if config.stop_when_solved:
                    break
    env.close()
    searched_steps = max(1, int(np.sum(exp.searched)))
    extra = {
        "simulations_per_step": sims / searched_steps,
        "model_calls_per_step": model_calls / searched_steps,
        "network_calls_per_step": net_calls_search / searched_steps,
        "searched_steps": int(np.sum(exp.searched)),
        "model_refits": refits,
        "model_fit_seconds": fit_seconds,
        "eval_seconds": eval_seconds,
        "log": log,
    }
    return dqn.RunResult(label, seed, np.array(eval_steps), np.array(eval_returns), solved_at, step, updates,
                         time.perf_counter() - start, extra)
