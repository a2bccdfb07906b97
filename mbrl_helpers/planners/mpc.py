"""Model-predictive control with a learned ensemble, in the model-based RL loop.

Plan forward from the current real state with a model, act the first action of
the best plan, observe the real next state, plan again (PETS, Chua et al. 2018;
CS285 homework 4). The pieces, in the order the loop uses them:

    MPCConfig            every knob of the planner and the loop, in one frozen dataclass;
                         default_config(env) picks the lesson's setting per kind of action space
    ActionSpace          what a planner needs to know about the actions (discrete n, or Box bounds)
    member_step_fn       an Ensemble behind the course's step interface, each member propagating
                         its own block of the batch (trajectory sampling), one forward pass per call
    score_sequences      the MPC objective of N action sequences: discounted model reward until a
                         predicted termination, plus a learned terminal value
    elite_indices, cem_refit_categorical   keep the best sequences; one discrete CEM update
    refit_categorical, refit_gaussian   the CEM update from the elites
    plan                 random shooting or CEM from one real state -> Plan (action, statistics)
    ValueFunction        V(s) learned by TD(0) on the real transitions (the terminal value)
    run_mbrl             warm-up, then per episode: refit, act by MPC in the real env, store

The model is any step function `step(states, actions) -> (next_states, rewards, terminated)`
(see simulators.py): states (B, D) float64; actions (B,) int64 for a Discrete action space
or (B, A) float64 for a Box one. A perfect simulator and a learned ensemble plug in the same way.

Shapes used below: N sampled sequences, H horizon steps, P particles per sequence (P = E
ensemble members for trajectory sampling, 1 for the member mean), D state dimensions,
A action dimensions, K actions of a Discrete space.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from mbrl_helpers.core.validation import check_int, check_number, check_unit_interval
from mbrl_helpers.learning import models
from mbrl_helpers.learning.data import Transitions, make_env
from mbrl_helpers.worlds.simulators import StepFn

PLANNERS = ("cem", "random")
PROPAGATIONS = ("ts1", "tsinf", "mean")

# -- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MPCConfig:
    """Every knob of MPC in the model-based RL loop (defaults: the CartPole-v1 lesson setting)."""

    planner: str = "cem"              # "cem" (cross-entropy method) or "random" (random shooting)
    horizon: int = 30                 # H: model steps planned ahead from the current state
    samples: int = 50                 # N: action sequences sampled per iteration
    iterations: int = 3               # CEM refits per real step (random shooting uses 1)
    elite_fraction: float = 0.1       # share of the N sequences kept as elites
    smoothing: float = 0.1            # CEM: new = smoothing * old + (1 - smoothing) * elite statistics
    min_probability: float = 0.02     # discrete CEM: floor of each action's probability (keeps exploring)
    init_std: float = 0.5             # continuous CEM: initial std as a fraction of the action range
    warm_start: bool = True           # start from the previous plan shifted by one step
    propagation: str = "tsinf"        # "ts1", "tsinf" (PETS' trajectory sampling) or "mean" of members
    gamma: float = 0.99               # discount of the planned rewards and of the terminal value
    terminal_value: bool = True       # add gamma^H V(s_H) of a learned value at the plan's end
    value_updates: int = 1_000        # TD(0) updates of V per refit (batch value_batch)
    value_batch: int = 256            # transitions per value update
    value_target_every: int = 50      # value updates between copies to the target network
    warmup_steps: int = 200           # real steps of a uniformly random policy before the first fit
    max_episode_steps: int | None = None   # cut training episodes short (None: the env's own limit)
    model: models.ModelConfig = field(default_factory=lambda: models.ModelConfig(
        ensemble_size=5, hidden=32, termination="cartpole", max_epochs=40, patience=5))
    eval_episodes: int = 5            # real evaluation episodes after each training episode
    solved_return: float = 475.0      # mean evaluation return that counts as solved
    stop_when_solved: bool = True     # end the run at the first solved evaluation

    def __post_init__(self) -> None:
        if self.planner not in PLANNERS:
            raise ValueError(f"planner must be one of {PLANNERS}, got {self.planner!r}")
        if self.propagation not in PROPAGATIONS:
            raise ValueError(f"propagation must be one of {PROPAGATIONS}, got {self.propagation!r}")
        for name in ("horizon", "samples", "iterations", "value_batch", "value_target_every",
                     "eval_episodes"):
            check_int(name, getattr(self, name), low=1)
        check_int("value_updates", self.value_updates, low=0)
        check_int("warmup_steps", self.warmup_steps, low=10)
        if self.max_episode_steps is not None:
            check_int("max_episode_steps", self.max_episode_steps, low=1)
        check_unit_interval("elite_fraction", self.elite_fraction, low_open=True)
        check_unit_interval("smoothing", self.smoothing)
        check_unit_interval("gamma", self.gamma)
        check_number("init_std", self.init_std, low=0)
        check_number("min_probability", self.min_probability, low=0)
        if not isinstance(self.model, models.ModelConfig):
            raise TypeError(f"model must be a models.ModelConfig, got {type(self.model).__name__}")

    @property
    def n_elites(self) -> int:
        return max(1, int(round(self.elite_fraction * self.samples)))


def _is_cartpole(env: gym.Env) -> bool:
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv

    base = env.unwrapped
    return (isinstance(base, CartPoleEnv) and math.isclose(base.x_threshold, models.CARTPOLE_X_LIMIT)
            and math.isclose(base.theta_threshold_radians, models.CARTPOLE_THETA_LIMIT))


def _never_terminates(env: gym.Env) -> bool:
    from gymnasium.envs.classic_control.pendulum import PendulumEnv

    return isinstance(env.unwrapped, PendulumEnv)


def default_config(env: str | gym.Env) -> MPCConfig:
    """The lesson's setting for this env: discrete actions as for CartPole-v1, Box actions as for
    Pendulum-v1. Termination: CartPole's known rule, "never" for Pendulum, else learned."""
    env = make_env(env)
    space = ActionSpace.of(env)
    termination = "cartpole" if _is_cartpole(env) else "never" if _never_terminates(env) else "learned"
    if space.discrete:
        return MPCConfig(model=replace(MPCConfig().model, termination=termination))
    return MPCConfig(
        horizon=20, samples=100, iterations=3, elite_fraction=0.1, smoothing=0.1, propagation="tsinf",
        terminal_value=False, warmup_steps=200, solved_return=-200.0,
        model=models.ModelConfig(ensemble_size=5, hidden=32, termination=termination, max_epochs=40,
                                 patience=5))


# -- actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpace:
    """Discrete(K): n = K; Box: low, high (A,) float64 bounds."""

    discrete: bool
    n: int = 0
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    @classmethod
    def of(cls, env: gym.Env) -> ActionSpace:
        """The action space of a gymnasium env; TypeError for anything but Discrete or 1-d Box."""
        space = env.action_space
        if not isinstance(env.observation_space, gym.spaces.Box) or len(env.observation_space.shape) != 1:
            raise TypeError(f"MPC needs a 1-d Box observation space, got {env.observation_space}")
        if isinstance(space, gym.spaces.Discrete):
            return cls(True, n=int(space.n))
        if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            return cls(False, low=space.low.astype(np.float64), high=space.high.astype(np.float64))
        raise TypeError(f"MPC needs a Discrete or 1-d Box action space, got {space}")

    @property
    def dim(self) -> int:
        """K for Discrete (one-hot width), A for Box."""
        return self.n if self.discrete else len(self.low)


# -- the model as a step function, one member per block of the batch ---------------------------------


class ModelClock:
    """CPU seconds spent inside model calls (so planning time splits into model and planner).

    CPU time of this process (time.process_time), not wall time: on a machine shared with other
    jobs it still measures what one thread of planning costs."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0


def member_step_fn(ensemble: models.Ensemble, propagation: str = "tsinf",
                   clock: ModelClock | None = None) -> StepFn:
    """The ensemble behind the step interface, one batched forward pass per call.

    "tsinf"/"ts1": states (B, D) with B = E * M are read as E blocks of M rows; block e is
    propagated by member e (the planner reshuffles particles between blocks for TS1).
    "mean": every member sees all B rows and the step returns the members' mean.
    Returns next_states (B, D) float64, rewards (B,) float64, terminated (B,) bool.
    For speed the input and output normalisation are folded into the first and last layers'
    weights (the same function as Ensemble.predict, up to float32 rounding).
    """
    if propagation not in PROPAGATIONS:
        raise ValueError(f"propagation must be one of {PROPAGATIONS}, got {propagation!r}")
    e, d, k = ensemble.size, ensemble.state_dim, ensemble.action_dim
    cfg = ensemble.config
    layers = [*ensemble.net.hidden, ensemble.net.out]
    weights = [layer.weight.detach().double() for layer in layers]
    biases = [layer.bias.detach().double() for layer in layers]
    in_mean = torch.as_tensor(ensemble.input_norm.mean)
    in_std = torch.as_tensor(ensemble.input_norm.std)
    # first layer on raw inputs: W' = W / std, b' = b - (mean / std) @ W
    biases[0] = biases[0] - ((in_mean / in_std)[None, None, :] @ weights[0])
    weights[0] = weights[0] / in_std[None, :, None]
    # last layer to raw targets (delta and reward): W' = W * std, b' = b * std + mean
    out_mean = torch.as_tensor(ensemble.target_norm.mean)
    out_std = torch.as_tensor(ensemble.target_norm.std)
    n_out = weights[-1].shape[2]
    scale = torch.ones(n_out, dtype=torch.float64)
    shift = torch.zeros(n_out, dtype=torch.float64)
    scale[:d + 1], shift[:d + 1] = out_std, out_mean
    weights[-1], biases[-1] = weights[-1] * scale, biases[-1] * scale + shift
    weights = [w.float().contiguous() for w in weights]
    biases = [b.float().contiguous() for b in biases]
    # a discrete action enters as a one-hot: its first-layer term is a row of W (gathered, not multiplied)
    action_rows = weights[0][:, d:, :] if ensemble.discrete else None
    state_weight = weights[0][:, :d, :] if ensemble.discrete else weights[0]

    def step(states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start = time.process_time()
        s = torch.from_numpy(np.ascontiguousarray(states, np.float32))
        rows = len(s)
        m = rows if propagation == "mean" else rows // e
        if propagation != "mean" and rows % e:
            raise ValueError(f"with trajectory sampling the batch must be a multiple of the "
                             f"{e} members, got {rows}")
        x = s.expand(e, -1, -1) if propagation == "mean" else s.reshape(e, m, d)
        if ensemble.discrete:
            a = torch.from_numpy(np.asarray(actions, np.int64))
            a = a.expand(e, -1) if propagation == "mean" else a.reshape(e, m)
            h = torch.baddbmm(biases[0], x, state_weight)
            h += torch.gather(action_rows, 1, a[..., None].expand(-1, -1, action_rows.shape[2]))
        else:
            a = torch.from_numpy(np.asarray(actions, np.float32).reshape(rows, k))
            a = a.expand(e, -1, -1) if propagation == "mean" else a.reshape(e, m, k)
            h = torch.baddbmm(biases[0], torch.cat([x, a], dim=2), weights[0])
        for w, b in zip(weights[1:-1], biases[1:-1], strict=True):
            h = torch.baddbmm(b, nn.functional.silu(h), w)
        out = torch.baddbmm(biases[-1], nn.functional.silu(h), weights[-1])
        if propagation == "mean":
            p_term = out[..., -1].sigmoid().mean(0) if cfg.termination == "learned" else None
            out = out.mean(0)
        else:
            out = out.reshape(rows, n_out)
            p_term = out[:, -1].sigmoid() if cfg.termination == "learned" else None
        nxt = out[:, :d] + s if cfg.predict_delta else out[:, :d]
        if cfg.termination == "cartpole":
            term = ((nxt[:, 0].abs() > models.CARTPOLE_X_LIMIT)
                    | (nxt[:, 2].abs() > models.CARTPOLE_THETA_LIMIT))
            term = term.numpy()
        elif cfg.termination == "learned":
            term = p_term.numpy() > 0.5
        else:
            term = np.zeros(rows, bool)
        result = nxt.numpy().astype(np.float64), out[:, d].numpy().astype(np.float64), term
        if clock is not None:
            clock.seconds += time.process_time() - start
            clock.calls += 1
        return result

    step.members = e if propagation != "mean" else 1   # particles per sequence the planner should use
    return step


# -- scoring --------------------------------------------------------------------------------------------

ValueFn = Callable[[np.ndarray], np.ndarray]   # V(states (B, D)) -> (B,)


class Scores(NamedTuple):
    """returns (N,) mean over particles; states (P, N, H + 1, D) the imagined states;
    alive (P, N, H + 1) bool, False after a predicted termination."""

    returns: np.ndarray
    states: np.ndarray
    alive: np.ndarray


def score_sequences(step_fn: StepFn, state: np.ndarray, actions: np.ndarray, *, particles: int = 1,
                    gamma: float = 1.0, value: ValueFn | None = None,
                    ts1_rng: np.random.Generator | None = None) -> Scores:
    """The MPC objective of N action sequences from one real state, by the model.

    state (D,); actions (N, H) int64 or (N, H, A) float64. Each sequence is rolled out by
    `particles` particles at once (one step_fn call of P * N rows per horizon step, particle p
    in block p). J = mean over particles of sum_t gamma^t r_t, where r_t counts only while
    the particle is alive (the terminal step's reward counts, nothing after it), plus
    gamma^H V(s_H) for particles still alive at the end. ts1_rng: reshuffle the particles
    among the blocks before every step (PETS' TS1); None keeps each in its block (TS-infinity).
    """
    actions = np.asarray(actions)
    n, horizon = actions.shape[:2]
    d = len(state)
    states = np.empty((particles, n, horizon + 1, d))
    alive = np.ones((particles, n, horizon + 1), bool)
    states[:, :, 0] = state
    total = np.zeros((particles, n))
    for t in range(horizon):
        current = states[:, :, t]
        if ts1_rng is not None and particles > 1:   # each sequence's particles swap members at random
            order = np.argsort(ts1_rng.random((particles, n)), axis=0)
            current = np.take_along_axis(current, order[..., None], axis=0)
            states[:, :, t] = current
            alive[:, :, t] = np.take_along_axis(alive[:, :, t], order, axis=0)
        a = np.broadcast_to(actions[:, t], (particles, *actions[:, t].shape)).reshape(particles * n,
                                                                                       *actions.shape[2:])
        nxt, rew, term = step_fn(current.reshape(particles * n, d), a)
        live = alive[:, :, t]
        total += np.where(live, gamma ** t * np.asarray(rew).reshape(particles, n), 0.0)
        states[:, :, t + 1] = np.where(live[..., None], np.asarray(nxt).reshape(particles, n, d), current)
        alive[:, :, t + 1] = live & ~np.asarray(term, bool).reshape(particles, n)
    if value is not None:
        end = alive[:, :, horizon]
        v = np.asarray(value(states[:, :, horizon].reshape(particles * n, d))).reshape(particles, n)
        total += np.where(end, gamma ** horizon * v, 0.0)
    return Scores(total.mean(axis=0), states, alive)


# -- the CEM update ----------------------------------------------------------------------------------


def refit_categorical(probs: np.ndarray, elites: np.ndarray, smoothing: float = 0.0,
                      min_probability: float = 0.0) -> np.ndarray:
    """CEM for discrete actions: per-step categorical refit to the elites.

    probs (H, K) the current distribution; elites (M, H) int64 the elite sequences.
    new[t, k] = smoothing * probs[t, k] + (1 - smoothing) * (share of elites taking k at step t),
    then floored at min_probability and renormalised. Returns (H, K), rows summing to 1.
    """
    k = probs.shape[1]
    counts = (elites[..., None] == np.arange(k)).mean(axis=0)
    new = smoothing * probs + (1 - smoothing) * counts
    new = np.maximum(new, min_probability)
    return new / new.sum(axis=1, keepdims=True)


def elite_indices(returns: np.ndarray, n_elites: int) -> np.ndarray:
    """The indices (n_elites,) of the highest of the (N,) returns, best first.

    Ties keep the sampling order (a stable sort): on CartPole every plan that survives the
    horizon scores the same, and the earliest sampled of them come first.
    """
    return np.argsort(-returns, kind="stable")[:n_elites]


def cem_refit_categorical(probs: np.ndarray, samples: np.ndarray, returns: np.ndarray, n_elites: int,
                          smoothing: float = 0.0, min_probability: float = 0.0) -> np.ndarray:
    """One CEM update for discrete actions: keep the n_elites best sequences, refit to them.

    probs (H, K) the distribution the (N, H) int64 samples were drawn from; returns (N,) their
    scores. Returns the new (H, K) distribution, rows summing to 1 (refit_categorical).
    """
    return refit_categorical(probs, samples[elite_indices(returns, n_elites)], smoothing, min_probability)


def refit_gaussian(mean: np.ndarray, std: np.ndarray, elites: np.ndarray,
                   smoothing: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """CEM for continuous actions: the Gaussian's mean and std refit to the elites.

    mean, std (H, A); elites (M, H, A). new = smoothing * old + (1 - smoothing) * elite statistic,
    the std being the elites' (population) standard deviation per step and dimension.
    """
    return (smoothing * mean + (1 - smoothing) * elites.mean(axis=0),
            smoothing * std + (1 - smoothing) * elites.std(axis=0))


# -- the planner ---------------------------------------------------------------------------------------


class Plan(NamedTuple):
    """One planning call. action: int (Discrete) or (A,) float64; sequence (H,) or (H, A) the plan
    whose first step is acted; distribution: probs (H, K), or (mean, std) each (H, A), for the warm
    start; scores: the last iteration's Scores; elites (M,) indices of its elite sequences;
    samples: (N, H[, A]) its sampled sequences."""

    action: int | np.ndarray
    sequence: np.ndarray
    distribution: object
    scores: Scores
    elites: np.ndarray
    samples: np.ndarray


def initial_distribution(space: ActionSpace, horizon: int, config: MPCConfig) -> object:
    """Uniform probs (H, K), or (mean at the range's middle, std init_std * range) each (H, A)."""
    if space.discrete:
        return np.full((horizon, space.n), 1.0 / space.n)
    middle, width = (space.high + space.low) / 2, space.high - space.low
    return np.tile(middle, (horizon, 1)), np.tile(config.init_std * width, (horizon, 1))


def shifted(distribution: object, space: ActionSpace, config: MPCConfig) -> object:
    """The previous plan's distribution moved one step on; the new last step starts afresh."""
    fresh = initial_distribution(space, config.horizon, config)
    if space.discrete:
        return np.concatenate([distribution[1:], fresh[-1:]])
    mean = np.concatenate([distribution[0][1:], fresh[0][-1:]])
    return mean, fresh[1]   # the spread starts wide again (as in PETS)


def sample_sequences(distribution: object, space: ActionSpace, n: int,
                     rng: np.random.Generator) -> np.ndarray:
    """n sequences: (n, H) int64 from per-step categoricals, or (n, H, A) clipped Gaussians."""
    if space.discrete:
        cumulative = np.cumsum(distribution, axis=1)
        u = rng.random((n, len(distribution), 1))
        return np.minimum((u > cumulative[None]).sum(axis=2), space.n - 1).astype(np.int64)
    mean, std = distribution
    return np.clip(mean + std * rng.standard_normal((n, *mean.shape)), space.low, space.high)


def plan(step_fn: StepFn, state: np.ndarray, space: ActionSpace, config: MPCConfig,
         rng: np.random.Generator, *, previous: object = None, value: ValueFn | None = None) -> Plan:
    """Plan from one real state (D,) and return the action to take now.

    Random shooting: N sequences from the uniform distribution, act the best one's first action.
    CEM: `iterations` rounds of sample N -> score -> refit the distribution to the best
    elite_fraction; act the first action of the final distribution (most likely action / mean).
    previous: the last real step's Plan.distribution (warm start, shifted by one step).
    """
    particles = getattr(step_fn, "members", 1)
    ts1 = rng if config.propagation == "ts1" else None
    dist = initial_distribution(space, config.horizon, config)
    if config.planner == "cem" and config.warm_start and previous is not None:
        dist = shifted(previous, space, config)
    iterations = config.iterations if config.planner == "cem" else 1
    for _ in range(iterations):
        samples = sample_sequences(dist, space, config.samples, rng)
        scores = score_sequences(step_fn, state, samples, particles=particles, gamma=config.gamma,
                                 value=value, ts1_rng=ts1)
        elites = elite_indices(scores.returns, config.n_elites)
        if config.planner == "cem":
            if space.discrete:
                dist = cem_refit_categorical(dist, samples, scores.returns, config.n_elites,
                                             config.smoothing, config.min_probability)
            else:
                dist = refit_gaussian(*dist, samples[elites], config.smoothing)
    if config.planner == "random":
        sequence = samples[elites[0]]
    elif space.discrete:
        sequence = dist.argmax(axis=1)
    else:
        sequence = dist[0]
    action = int(sequence[0]) if space.discrete else np.asarray(sequence[0], np.float64)
    return Plan(action, sequence, dist, scores, elites, samples)


# -- the terminal value -----------------------------------------------------------------------------


class ValueFunction:
    """V(s): an MLP (2 x 64, SiLU) fitted by TD(0) on real transitions, on normalised states.

    Targets r + gamma * (1 - terminated) * V_target(s'); a time-limit truncation is not
    terminal, so it bootstraps. Call it as value(states (B, D)) -> (B,) float64.
    """

    def __init__(self, state_dim: int, config: MPCConfig) -> None:
        self.config = config
        self.net = nn.Sequential(nn.Linear(state_dim, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(),
                                 nn.Linear(64, 1))
        self.target = nn.Sequential(*(m.__class__(*m.weight.shape[::-1]) if isinstance(m, nn.Linear)
                                      else nn.SiLU() for m in self.net))
        self.target.load_state_dict(self.net.state_dict())
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        self.norm = models.Normalizer.identity(state_dim)
        self.updates = 0

    def __call__(self, states: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.as_tensor(self.norm.normalize(states), dtype=torch.float32)
            return self.net(x)[:, 0].double().numpy()

    def fit(self, data: Transitions, rng: np.random.Generator) -> None:
        """config.value_updates TD(0) updates on batches drawn from data; counts them in .updates."""
        self.norm = models.Normalizer.fit(data.states)
        s = torch.as_tensor(self.norm.normalize(data.states), dtype=torch.float32)
        s2 = torch.as_tensor(self.norm.normalize(data.next_states), dtype=torch.float32)
        r = torch.as_tensor(data.rewards, dtype=torch.float32)
        done = torch.as_tensor(data.terminated, dtype=torch.float32)
        gamma = self.config.gamma
        for _ in range(self.config.value_updates):
            i = torch.as_tensor(rng.integers(len(data), size=self.config.value_batch))
            with torch.no_grad():
                y = r[i] + gamma * (1 - done[i]) * self.target(s2[i])[:, 0]
            loss = nn.functional.smooth_l1_loss(self.net(s[i])[:, 0], y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            self.updates += 1
            if self.updates % self.config.value_target_every == 0:
                self.target.load_state_dict(self.net.state_dict())


# -- the loop ---------------------------------------------------------------------------------------


@dataclass
class MBRLResult:
    """One run of MPC in the model-based RL loop (E training episodes after the warm-up).

    returns (E,) real return of each training episode; real_steps (E,) int real steps used up to
    the end of each episode, warm-up included; eval_returns (E,) mean return of config.eval_episodes
    real evaluation episodes after each training episode (not counted as real steps, their data
    not stored); model_error (E,) the model's normalised one-step MSE on each new episode's data
    before it is refitted (0 perfect, 1 no better than the mean change); plan_ms (E,) CPU ms per
    real step of planning, model_ms (E,) the part inside model calls; steps_to_solve: real steps at
    the first evaluation >= config.solved_return, or None; updates: gradient updates of model and
    value fitting in total; model_updates likewise of the model only.
    """

    returns: np.ndarray
    real_steps: np.ndarray
    eval_returns: np.ndarray
    model_error: np.ndarray
    plan_ms: np.ndarray
    model_ms: np.ndarray
    steps_to_solve: int | None
    updates: int
    model_updates: int
    wall_time: float
    config: MPCConfig
    seed: int
    extra: dict = field(default_factory=dict)

    @property
    def updates_per_real_step(self) -> float:
        return self.updates / max(1, int(self.real_steps[-1]) if len(self.real_steps) else 1)


def fit_model(data: Transitions, config: MPCConfig, space: ActionSpace, seed: int
              ) -> tuple[models.Ensemble, int]:
    """Fit the ensemble on all real transitions so far; returns it and its gradient updates.

    One update = one Adam step of all members at once (a batch of batch_size rows per member).
    """
    ensemble = models.train_ensemble(data, config.model, seed, n_actions=space.n if space.discrete else None,
                                     progress=False)
    n_train = len(data) - max(1, int(round(config.model.holdout * len(data))))
    epochs = len(ensemble.history.train)
    return ensemble, epochs * math.ceil(n_train / config.model.batch_size)


def normalised_error(ensemble: models.Ensemble, data: Transitions) -> float:
    """Members' mean prediction vs the real next states: MSE / variance of the real change,
    averaged over state dimensions (0 perfect, 1 no better than predicting the mean change)."""
    err = models.one_step_error(ensemble.as_step_fn("mean"), data)
    return float(np.mean(err.normalized))


def run_episode(env: gym.Env, controller: Callable[[np.ndarray], object], *, seed: int,
                max_steps: int | None = None) -> tuple[float, Transitions]:
    """One real episode from env.reset(seed=seed) acting controller(state); returns its return
    and transitions (truncated last step stored with terminated=False)."""
    state, _ = env.reset(seed=seed)
    rows: dict[str, list] = {k: [] for k in ("states", "actions", "rewards", "next_states", "terminated")}
    total, steps = 0.0, 0
    while True:
        action = controller(np.asarray(state, np.float64))
        nxt, reward, terminated, truncated, _ = env.step(action)
        for key, v in zip(rows, (state, action, reward, nxt, terminated), strict=True):
            rows[key].append(v)
        total += float(reward)
        state, steps = nxt, steps + 1
        if terminated or truncated or (max_steps is not None and steps >= max_steps):
            break
    return total, Transitions.from_dict({k: np.array(v) for k, v in rows.items()})


class MPCController:
    """Acts by planning every real step; keeps the warm start; times planning and model calls
    (CPU seconds of this process, see ModelClock)."""

    def __init__(self, step_fn: StepFn, space: ActionSpace, config: MPCConfig, rng: np.random.Generator,
                 value: ValueFn | None = None, clock: ModelClock | None = None) -> None:
        self.step_fn, self.space, self.config, self.rng, self.value = step_fn, space, config, rng, value
        self.clock = clock or ModelClock()
        self.previous = None
        self.seconds, self.steps = 0.0, 0

    def reset(self) -> None:
        self.previous = None

    def __call__(self, state: np.ndarray) -> object:
        start = time.process_time()
        p = plan(self.step_fn, state, self.space, self.config, self.rng, previous=self.previous,
                 value=self.value)
        self.previous = p.distribution
        self.seconds += time.process_time() - start
        self.steps += 1
        return p.action


def evaluate(env: gym.Env, make_controller: Callable[[], MPCController], episodes: int, seed: int) -> float:
    """Mean real return of `episodes` episodes (reset seeds seed, seed + 1, ...); nothing is stored."""
    returns = []
    for i in range(episodes):
        controller = make_controller()
        returns.append(run_episode(env, controller, seed=seed + i)[0])
    return float(np.mean(returns))


def resolve_config(env: gym.Env, config: MPCConfig | None, overrides: dict) -> MPCConfig:
    """default_config(env) (or config), with every override that is not None applied."""
    base = config or default_config(env)
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def run_mbrl(env: str | gym.Env, *, episodes: int, seed: int, planner: str | None = None,  # noqa: PLR0913 - keyword overrides of MPCConfig, as the lesson asks for them
             horizon: int | None = None, samples: int | None = None, iterations: int | None = None,
             propagation: str | None = None, terminal_value: bool | None = None,
             warmup_steps: int | None = None, refit: bool = True, true_model: StepFn | None = None,
             config: MPCConfig | None = None, evaluate_every_episode: bool = True,
             value_updates: int | None = None, max_real_steps: int | None = None,
             progress: bool = False) -> MBRLResult:
    """MPC in the model-based RL loop on a real env (a gymnasium id or instance).

    warmup_steps of a uniformly random policy, then per episode: refit the ensemble on all
    real data (and the terminal value, if used), act by MPC for one real episode, add its
    transitions; then evaluate (config.eval_episodes real episodes, not counted, not stored).
    refit=False fits the model once on the warm-up data only (the "why the loop matters"
    contrast); true_model replaces the learned model by a given step function (no fitting).
    max_real_steps: stop after the first episode that ends beyond this many real steps.
    Every keyword left None takes default_config(env)'s value. Same seed, same result.
    """
    env = make_env(env)
    space = ActionSpace.of(env)
    check_int("episodes", episodes, low=1)
    check_int("seed", seed, low=0)
    config = resolve_config(env, config, dict(planner=planner, horizon=horizon, samples=samples,
                                              iterations=iterations, propagation=propagation,
                                              terminal_value=terminal_value, warmup_steps=warmup_steps,
                                              value_updates=value_updates))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    # warm-up: a uniformly random policy, episodes reset with seed, seed + 1, ...
    warm: list[Transitions] = []
    steps, k = 0, 0
    while steps < config.warmup_steps:
        act = (lambda s: int(rng.integers(space.n))) if space.discrete else \
            (lambda s: rng.uniform(space.low, space.high))
        _, t = run_episode(env, act, seed=seed + k, max_steps=config.warmup_steps - steps)
        warm.append(t)
        steps, k = steps + len(t), k + 1
    data = _concat(warm)
    d = data.states.shape[1]
    value = ValueFunction(d, config) if config.terminal_value else None
    out = {k: [] for k in ("returns", "real_steps", "eval_returns", "model_error", "plan_ms", "model_ms")}
    solved, model_updates, ensemble, end_states = None, 0, None, []
    from tqdm.auto import tqdm

    bar = tqdm(range(episodes), desc="episodes", disable=not progress, leave=False)
    for episode in bar:
        if true_model is None and (refit or ensemble is None):
            ensemble, n = fit_model(data, config, space, seed + 7919 * episode)
            model_updates += n
        if value is not None and (refit or episode == 0):
            value.fit(data, rng)
        clock = ModelClock()
        step_fn = (true_model if true_model is not None
                   else member_step_fn(ensemble, config.propagation, clock))
        controller = MPCController(step_fn, space, config, rng, value, clock)
        ret, new = run_episode(env, controller, seed=seed + 1000 + episode,
                               max_steps=config.max_episode_steps)
        out["model_error"].append(normalised_error(ensemble, new) if ensemble is not None else 0.0)
        data = _concat([data, new])
        end_states.append(new.next_states[-1])
        out["returns"].append(ret)
        out["real_steps"].append(len(data))
        out["plan_ms"].append(1000 * controller.seconds / max(1, controller.steps))
        out["model_ms"].append(1000 * clock.seconds / max(1, controller.steps))
        if evaluate_every_episode:
            eval_rng = np.random.default_rng([seed, episode, 1])
            def make(step_fn: StepFn = step_fn, eval_rng: np.random.Generator = eval_rng) -> MPCController:
                return MPCController(step_fn, space, config, eval_rng, value)

            score = evaluate(env, make, config.eval_episodes, seed=10_000 * (seed + 1) + len(data))
        else:
            score = math.nan
        out["eval_returns"].append(score)
        bar.set_postfix(real_steps=len(data), eval_return=f"{score:.0f}")
        if solved is None and score >= config.solved_return:
            solved = len(data)
            if config.stop_when_solved:
                break
        if max_real_steps is not None and len(data) >= max_real_steps:
            break
    updates = model_updates + (value.updates if value is not None else 0)
    arrays = {k: np.array(v, np.int64 if k == "real_steps" else np.float64) for k, v in out.items()}
    return MBRLResult(**arrays, steps_to_solve=solved, updates=updates, model_updates=model_updates,
                      wall_time=time.perf_counter() - start, config=config, seed=seed,
                      extra={"end_states": np.array(end_states), "ensemble": ensemble, "value": value})


class FrozenModel(NamedTuple):
    """A learned model (and terminal value) taken from the loop, to plan with, unchanged."""

    env_id: str
    step_fn: StepFn
    value: ValueFunction | None
    space: ActionSpace


def train_frozen(env_id: str, config: MPCConfig, *, seed: int, real_steps: int) -> FrozenModel:
    """Run the loop (no evaluations) until real_steps real steps, and keep its last model and value."""
    result = run_mbrl(env_id, episodes=MAX_EPISODES, seed=seed, config=config, max_real_steps=real_steps,
                      evaluate_every_episode=False)
    ensemble, value = result.extra["ensemble"], result.extra["value"]
    return FrozenModel(env_id, member_step_fn(ensemble, config.propagation), value,
                       ActionSpace.of(gym.make(env_id)))


def evaluate_frozen(model: FrozenModel, config: MPCConfig, *, episodes: int, seed: int
                    ) -> tuple[np.ndarray, float]:
    """Real returns (episodes,) of MPC with a frozen model (resets seed, seed + 1, ...; episodes cut
    at config.max_episode_steps), and the CPU ms of planning per real step."""
    env = gym.make(model.env_id)
    rng = np.random.default_rng(seed)
    returns, seconds, steps = [], 0.0, 0
    for i in range(episodes):
        controller = MPCController(model.step_fn, model.space, config, rng,
                                   model.value if config.terminal_value else None)
        returns.append(run_episode(env, controller, seed=seed + i, max_steps=config.max_episode_steps)[0])
        seconds, steps = seconds + controller.seconds, steps + controller.steps
    return np.array(returns), 1000 * seconds / steps


MAX_EPISODES = 1_000   # episodes of train_frozen at most (it stops at its real-step budget)


def _concat(parts: list[Transitions]) -> Transitions:
    keys = ("states", "actions", "rewards", "next_states", "terminated")
    return Transitions(*(np.concatenate([getattr(p, k) for p in parts]) for k in keys))
