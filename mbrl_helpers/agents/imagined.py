"""Learning from imagined experience: DQN trained on transitions a learned model generates.

Two agents built from `dqn` (the learner) and `models` (the dynamics model of
notebook 03), and the experiment runner of notebook 04:

    branched_rollout   h-step model rollouts from real states (MBPO, Janner et al. 2019),
                       stopped at termination and, optionally, where the ensemble disagrees
    run_simple_mbrl    the simple model-based RL recipe, in rounds: collect real
                       transitions, fit the model, generate transitions from the model
                       only, train DQN on those alone, evaluate in the real environment
    run_dyna_dqn       Dyna-style DQN: after each real step, k imagined transitions per
                       real step from h-step rollouts branched from real states; k = 0
                       or h = 0 is exactly plain DQN (same seed, same numbers)
    run_experiment     several seeds of one method -> learning curves (with a progress bar)
    steps_to_solve_summary, curves_on_grid   the numbers and curves the notebook plots

Real steps are the only steps counted as experience: evaluation episodes (the
same for every method, see `dqn`) and model rollouts are not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

from mbrl_helpers.agents import dqn
from mbrl_helpers.core.curves import curve_on_grid
from mbrl_helpers.core.validation import check_int, check_number, check_spaces, check_unit_interval
from mbrl_helpers.learning import models

# step(states (B, D), actions (B,)) -> (next_states (B, D), rewards (B,), terminated (B,) bool)
from mbrl_helpers.worlds.simulators import StepFn

# policy(states (B, D)) -> actions (B,) int64
Policy = Callable[[np.ndarray], np.ndarray]
# disagreement(states (B, D), actions (B,)) -> (B,) ensemble spread of the predicted next state
DisagreementFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


# -- branched rollouts ----------------------------------------------------------------

def branched_rollout(
    step_fn: StepFn,
    policy: Policy,
    start_states: np.ndarray,
    horizon: int,
    *,
    disagreement: DisagreementFn | None = None,
    max_disagreement: float | None = None,
) -> dict[str, np.ndarray]:
    """Roll the model `horizon` steps from each start state, following `policy`.

    start_states: (M, D) real states to branch from. Each rollout i makes up to
    `horizon` model steps s_t -> s_{t+1} with a_t = policy(s_t) and stops after
    a step the model calls terminal (there is no state after the end), or, when
    `disagreement` and `max_disagreement` are given, before a step whose
    ensemble disagreement exceeds max_disagreement (the model does not know
    what happens there). Returns the imagined transitions, at most M * horizon,
    in the order made, as a dict like ReplayBuffer.sample: states (N, D)
    float32, actions (N,) int64, rewards (N,) float32, next_states (N, D)
    float32, terminated (N,) bool.
    """
    check_int("horizon", horizon, low=0)
    start_states = np.asarray(start_states, dtype=np.float32)
    if start_states.ndim != 2:
        raise ValueError(f"start_states must have shape (M, D), got {start_states.shape}")
    if (disagreement is None) != (max_disagreement is None):
        raise ValueError("give both disagreement and max_disagreement, or neither")
    parts: list[tuple] = []
    states = start_states
    for _ in range(horizon):
        if len(states) == 0:
            break
        actions = np.asarray(policy(states), dtype=np.int64)
        if disagreement is not None:
            trusted = np.asarray(disagreement(states, actions)) <= max_disagreement
            states, actions = states[trusted], actions[trusted]
            if len(states) == 0:
                break
        next_states, rewards, terminated = step_fn(states, actions)
        next_states = np.asarray(next_states, dtype=np.float32)
        terminated = np.asarray(terminated, dtype=bool)
        parts.append((states, actions, np.asarray(rewards, np.float32), next_states, terminated))
        states = next_states[~terminated]   # a terminated rollout goes no further
    if not parts:
        dim = start_states.shape[1]
        return {"states": np.zeros((0, dim), np.float32), "actions": np.zeros(0, np.int64),
                "rewards": np.zeros(0, np.float32), "next_states": np.zeros((0, dim), np.float32),
                "terminated": np.zeros(0, bool)}
    keys = ("states", "actions", "rewards", "next_states", "terminated")
    return {key: np.concatenate([p[i] for p in parts]) for i, key in enumerate(keys)}


# -- the model (a thin adapter over mbrl_helpers.learning.models) --------------------------------

@dataclass
class FittedModel:
    """A fitted model behind the step-function interface, with its ensemble spread."""

    step: StepFn
    disagreement: DisagreementFn | None = None


ModelFitter = Callable[[dict[str, np.ndarray], int], FittedModel]
"""fit(transitions, seed) -> FittedModel; transitions as returned by ReplayBuffer.sample."""


def real_transitions(buffer: dqn.ReplayBuffer) -> dict[str, np.ndarray]:
    """All transitions a ReplayBuffer holds, as a dict of arrays (copies)."""
    n = len(buffer)
    return {"states": buffer.states[:n].copy(), "actions": buffer.actions[:n].copy(),
            "rewards": buffer.rewards[:n].copy(), "next_states": buffer.next_states[:n].copy(),
            "terminated": buffer.terminated[:n].copy()}


def perfect_model_fitter(transitions: dict[str, np.ndarray], seed: int) -> FittedModel:
    """CartPole's true dynamics (mbrl_helpers.worlds.simulators), ignoring the data: a model without bias."""
    from mbrl_helpers.worlds.simulators import cartpole_step

    def step(states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return cartpole_step(np.asarray(states, np.float64), np.asarray(actions, np.int64))

    return FittedModel(step)


# The dynamics model of notebook 03 as these agents use it: an ensemble of 5 MLPs predicting
# state deltas and rewards; termination by CartPole's known rule (as MBPO uses known
# termination functions), so an imagined pole that falls really ends its rollout.
MODEL = models.ModelConfig(ensemble_size=5, hidden=64, termination="cartpole", max_epochs=15, patience=3)


def neural_model_fitter(config: models.ModelConfig = MODEL, *, max_transitions: int = 5_000) -> ModelFitter:
    """A fitter that trains models.train_ensemble on the newest `max_transitions` real transitions.

    (A thin adapter: models.train_ensemble has no warm start, so capping the data
    keeps each refit to a few seconds.) The step function averages the members;
    disagreement is models.Ensemble.disagreement (unitless spread of s').
    """
    check_int("max_transitions", max_transitions, low=10)

    def fit(transitions: dict[str, np.ndarray], seed: int) -> FittedModel:
        newest = {key: value[-max_transitions:] for key, value in transitions.items()}
        ensemble = models.train_ensemble(newest, config, seed, n_actions=2, progress=False)
        return FittedModel(ensemble.as_step_fn("mean"), ensemble.disagreement)

    return fit


PLAIN_DQN = dqn.DQNConfig()
DYNA_DQN = dqn.DQNConfig(updates_per_step=4)   # the replay ratio of the prototype's Dyna agents


# -- Dyna-style DQN ------------------------------------------------------------------------

@dataclass(frozen=True)
class DynaConfig:
    """Dyna-DQN on top of a DQNConfig: how much to imagine, and how far."""

    imagined_per_step: int = 16     # k: imagined transitions per real step (on average)
    rollout_length: int = 3         # h: model steps per branched rollout
    rollout_every: int = 25         # real steps between batches of rollouts (k * this per batch)
    imagined_buffer_size: int = 50_000   # imagined transitions kept (older ones overwritten)
    real_fraction: float = 0.5      # share of each gradient batch drawn from real transitions
    model_every: int = 1_000        # real steps between model refits
    max_disagreement: float | None = None   # stop a rollout where the ensemble spread exceeds this

    def __post_init__(self) -> None:
        if self.max_disagreement is not None:
            check_number("max_disagreement", self.max_disagreement, low=0)
        check_int("imagined_per_step", self.imagined_per_step, low=0)
        check_int("rollout_length", self.rollout_length, low=0)
        check_int("model_every", self.model_every, low=1)
        check_int("rollout_every", self.rollout_every, low=1)
        check_int("imagined_buffer_size", self.imagined_buffer_size, low=1)
        check_unit_interval("real_fraction", self.real_fraction)

    @property
    def uses_model(self) -> bool:
        return self.imagined_per_step > 0 and self.rollout_length > 0


class DynaHook:
    """The part of Dyna-DQN that runs after each real step (dqn.train_dqn's hook).

    From the first update on: refit the model every `model_every` real steps;
    every `rollout_every` real steps, branch ceil(k * rollout_every / h)
    rollouts of length h from real states drawn from the buffer, following the
    agent's current epsilon-greedy policy, into the imagined buffer.
    """

    def __init__(self, dqn_config: dqn.DQNConfig, config: DynaConfig, fitter: ModelFitter,
                 obs_dim: int, seed: int) -> None:
        self.dqn_config, self.config, self.fitter, self.seed = dqn_config, config, fitter, seed
        self.imagined = dqn.ReplayBuffer(config.imagined_buffer_size, obs_dim)
        self.model: FittedModel | None = None
        self.fits = 0
        self.imagined_total = 0

    def __call__(self, step: int, agent: dqn.DQNAgent, buffer: dqn.ReplayBuffer,
                 rng: np.random.Generator) -> None:
        c = self.config
        if step < self.dqn_config.learning_starts:
            return
        if self.model is None or step % c.model_every == 0:
            self.model = self.fitter(real_transitions(buffer), self.seed + 7919 * self.fits)
            self.fits += 1
        if step % c.rollout_every == 0:
            n_starts = math.ceil(c.imagined_per_step * c.rollout_every / c.rollout_length)
            starts = buffer.states[rng.integers(0, len(buffer), size=n_starts)]
            epsilon = dqn.epsilon_at(step, self.dqn_config)
            use_guard = c.max_disagreement is not None and self.model.disagreement is not None
            batch = branched_rollout(
                self.model.step, lambda s: agent.act(s, epsilon, rng), starts, c.rollout_length,
                disagreement=self.model.disagreement if use_guard else None,
                max_disagreement=c.max_disagreement if use_guard else None,
            )
            if len(batch["actions"]):
                self.imagined.add_batch(**batch)
                self.imagined_total += len(batch["actions"])


MIN_MODEL_TRANSITIONS = 10  # models.train_ensemble's minimum (some are held out)


def run_dyna_dqn(
    dqn_config: dqn.DQNConfig = DYNA_DQN,
    config: DynaConfig = DynaConfig(),
    seed: int = 0,
    *,
    fitter: ModelFitter | None = None,
    env_id: str = "CartPole-v1",
    label: str = "Dyna-DQN",
) -> dqn.RunResult:
    """Dyna-style DQN (real + imagined transitions); k = 0 or h = 0 is plain DQN.

    fitter: fits the model (default: the neural ensemble of mbrl_helpers.learning.models,
    see `neural_model_fitter`). Returns the run's learning curve and costs;
    extra holds imagined transitions made and model fits.
    """
    if not config.uses_model:
        return dqn.train_dqn(dqn_config, seed, env_id=env_id, label=label)
    if dqn_config.learning_starts < MIN_MODEL_TRANSITIONS:
        raise ValueError(
            f"dqn_config.learning_starts must be >= {MIN_MODEL_TRANSITIONS} for Dyna-DQN, got "
            f"{dqn_config.learning_starts}: the model is first fitted after learning_starts real "
            f"steps, and fitting needs at least {MIN_MODEL_TRANSITIONS} transitions")
    fitter = fitter or neural_model_fitter()
    env = gym.make(env_id)
    check_spaces(env, f"env_id={env_id!r}", "Dyna-DQN")
    obs_dim = int(np.prod(env.observation_space.shape))
    hook = DynaHook(dqn_config, config, fitter, obs_dim, seed)
    result = dqn.train_dqn(dqn_config, seed, env_id=env_id, label=label, hook=hook,
                           imagined=hook.imagined, real_fraction=config.real_fraction)
    result.extra.update(imagined=hook.imagined_total, model_fits=hook.fits)
    return result


# -- the simple model-based RL recipe, in rounds -- ------------------------------------------

@dataclass(frozen=True)
class SimpleMBRLConfig:
    """The four steps, repeated: real data -> model -> imagined data -> DQN -> real evaluation."""

    initial_random_steps: int = 1_000   # step 1 of round 1: a random policy's real transitions
    steps_per_round: int = 500          # real steps the current policy collects in each later round
    rounds: int = 10                    # rounds at most (stops when solved, if stop_when_solved)
    updates_per_round: int = 4_000      # DQN gradient updates per round, on imagined data only
    rollout_length: int = 20            # model steps per rollout, branched from real states
    rollouts_per_refresh: int = 256     # rollouts made every refresh_every updates
    refresh_every: int = 250            # updates between batches of fresh imagined data
    imagined_buffer_size: int = 50_000  # imagined transitions kept within a round
    train_epsilon: float = 0.1          # exploration inside the model
    collect_epsilon: float = 0.05       # exploration while collecting real data (rounds >= 2)
    model_max_transitions: int = 20_000  # the model is fitted on the newest this many real transitions
    max_disagreement: float | None = None   # stop a rollout where the ensemble spread exceeds this

    def __post_init__(self) -> None:
        if self.max_disagreement is not None:
            check_number("max_disagreement", self.max_disagreement, low=0)
        for name in ("initial_random_steps", "steps_per_round", "rounds", "updates_per_round",
                     "rollout_length", "rollouts_per_refresh", "refresh_every", "imagined_buffer_size"):
            check_int(name, getattr(self, name), low=1)
        check_unit_interval("train_epsilon", self.train_epsilon)
        check_unit_interval("collect_epsilon", self.collect_epsilon)


def collect_real(env: gym.Env, state: np.ndarray, steps: int, buffer: dqn.ReplayBuffer,
                 policy: Policy | None, rng: np.random.Generator) -> np.ndarray:
    """Step the real env `steps` times (policy None: uniformly random); store every transition.

    Returns the state to continue from (episodes that end are reset).
    """
    n_actions = int(env.action_space.n)
    for _ in range(steps):
        action = int(rng.integers(n_actions)) if policy is None else int(policy(state[None])[0])
        next_state, reward, terminated, truncated, _ = env.step(action)
        buffer.add(state, action, reward, next_state, terminated)
        state = next_state
        if terminated or truncated:
            state, _ = env.reset()
    return state


def train_in_model(agent: dqn.DQNAgent, model: FittedModel, real: dqn.ReplayBuffer,
                   config: SimpleMBRLConfig, rng: np.random.Generator) -> int:
    """Steps 3 and 4: train the agent on transitions from the model only.

    Every refresh_every updates, branch `rollouts_per_refresh` rollouts of
    `rollout_length` model steps from real states, with the agent's
    epsilon-greedy policy; each update samples imagined transitions alone.
    Returns the number of imagined transitions made.
    """
    imagined = dqn.ReplayBuffer(config.imagined_buffer_size, real.obs_dim)
    max_disagreement = config.max_disagreement
    guard = max_disagreement is not None and model.disagreement is not None
    made = 0
    for update in range(config.updates_per_round):
        if update % config.refresh_every == 0:
            starts = real.states[rng.integers(0, len(real), size=config.rollouts_per_refresh)]
            batch = branched_rollout(
                model.step, lambda s: agent.act(s, config.train_epsilon, rng), starts, config.rollout_length,
                disagreement=model.disagreement if guard else None,
                max_disagreement=max_disagreement if guard else None,
            )
            if len(batch["actions"]):
                imagined.add_batch(**batch)
                made += len(batch["actions"])
        if len(imagined):
            agent.update(imagined.sample(agent.config.batch_size, rng))
    return made


def run_simple_mbrl(
    config: SimpleMBRLConfig = SimpleMBRLConfig(),
    seed: int = 0,
    *,
    dqn_config: dqn.DQNConfig = PLAIN_DQN,
    fitter: ModelFitter | None = None,
    env_id: str = "CartPole-v1",
    label: str = "simple MBRL",
) -> dqn.RunResult:
    """The simple model-based RL recipe (collect, fit the model, imagine, train), repeated in rounds
    until solved or out of rounds.

    Round 1 collects initial_random_steps real transitions with a random
    policy, later rounds steps_per_round with the agent (epsilon-greedy). Each
    round then fits the model on all real data, trains the DQN agent on
    imagined transitions only (train_in_model) and evaluates its greedy policy
    in the real environment (dqn.evaluate, as for every method). The agent is
    kept from round to round. extra: model_fits, imagined, and (per round)
    the fitted models are not kept.
    """
    import time

    check_int("seed", seed, low=0)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = gym.make(env_id)
    check_spaces(env, f"env_id={env_id!r}", "the simple model-based RL recipe (a DQN agent)")
    obs_dim = int(np.prod(env.observation_space.shape))
    agent = dqn.DQNAgent(obs_dim, int(env.action_space.n), dqn_config)
    fitter = fitter or neural_model_fitter(max_transitions=config.model_max_transitions)
    real = dqn.ReplayBuffer(config.initial_random_steps + config.steps_per_round * config.rounds, obs_dim)
    state, _ = env.reset(seed=seed)
    eval_steps, eval_returns, solved_at, imagined_total = [], [], None, 0
    start = time.perf_counter()
    for round_index in range(config.rounds):
        if round_index == 0:
            state = collect_real(env, state, config.initial_random_steps, real, None, rng)
        else:
            state = collect_real(env, state, config.steps_per_round, real,
                                 lambda s: agent.act(s, config.collect_epsilon, rng), rng)
        model = fitter(real_transitions(real), seed + 7919 * round_index)
        imagined_total += train_in_model(agent, model, real, config, rng)
        eval_steps.append(len(real))
        eval_returns.append(dqn.evaluate(agent, env_id, dqn_config.eval_episodes,
                                         seed=10_000 * (seed + 1) + len(real)))
        if eval_returns[-1] >= dqn_config.solved_return:
            solved_at = len(real)
            if dqn_config.stop_when_solved:
                break
    env.close()
    result = dqn.RunResult(label, seed, np.array(eval_steps), np.array(eval_returns), solved_at,
                           len(real), agent.updates, time.perf_counter() - start)
    result.extra.update(imagined=imagined_total, model_fits=round_index + 1)
    return result


# -- the experiment runner and its summaries ---------------------------------------------------

def run_experiment(run: Callable[[int], dqn.RunResult], seeds: Sequence[int], *,
                   desc: str = "seeds") -> list[dqn.RunResult]:
    """run(seed) for each seed, with a progress bar; returns the results in seed order."""
    from tqdm.auto import tqdm

    if len(seeds) == 0:
        raise ValueError("seeds must name at least one seed, got an empty sequence")
    return [run(int(seed)) for seed in tqdm(list(seeds), desc=desc)]


def curves_on_grid(results: Sequence[dqn.RunResult], grid: np.ndarray) -> np.ndarray:
    """(n_runs, len(grid)) evaluation returns of several runs on one grid of real steps."""
    return np.stack([curve_on_grid(r.eval_steps, r.eval_returns, grid) for r in results])


def steps_to_solve_summary(steps: Sequence[int | None], budget: int) -> dict:
    """Median and quartiles of real steps to solve, over runs; None = not solved within budget.

    Unsolved runs count as +inf, so the median is inf when most runs failed.
    Returns dict(median, q25, q75, solved, runs, budget) with floats (inf allowed).
    """
    values = np.array([np.inf if s is None else float(s) for s in steps])
    q25, median, q75 = (float(np.quantile(values, q, method="lower" if np.isinf(values).any() else "linear"))
                        for q in (0.25, 0.5, 0.75))
    return {"median": median, "q25": q25, "q75": q75, "solved": int(np.isfinite(values).sum()),
            "runs": len(values), "budget": budget}


# -- how wrong is the model where the policy goes? -------------------------------------------

def model_error_along_trajectory(step_fn: StepFn, policy: Policy, *, env_id: str = "CartPole-v1",
                                 seed: int = 0, max_steps: int = 500) -> dict[str, np.ndarray]:
    """Run `policy` in the real env; at each visited state compare the model's one-step prediction.

    Returns states (T, D), actions (T,), error (T,) = |predicted - real next
    state| per state dimension summed (units of the state: m, m/s, rad, rad/s),
    and per_dim (T, D) absolute errors.
    """
    check_int("max_steps", max_steps, low=1)
    env = gym.make(env_id)
    state, _ = env.reset(seed=seed)
    states, actions, nexts = [], [], []
    for _ in range(max_steps):
        action = int(policy(state[None].astype(np.float32))[0])
        next_state, _, terminated, truncated, _ = env.step(action)
        states.append(state)
        actions.append(action)
        nexts.append(next_state)
        state = next_state
        if terminated or truncated:
            break
    env.close()
    states_arr = np.array(states, np.float32)
    predicted, _, _ = step_fn(states_arr, np.array(actions, np.int64))
    per_dim = np.abs(np.asarray(predicted, np.float64) - np.array(nexts, np.float64))
    return {"states": states_arr, "actions": np.array(actions), "error": per_dim.sum(axis=1),
            "per_dim": per_dim}
