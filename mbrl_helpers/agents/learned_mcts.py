"""Tree search on a learned CartPole model: the model, a disagreement guard, and the depth sweep.

Notebook 07 swaps the true simulator of notebook 06 for a neural ensemble fitted to at
most a few thousand real transitions, and asks how deep a search can trust it.

    fit_cartpole_model   an ensemble (notebook 03) fitted to random-policy transitions
    guarded_step_fn      the ensemble's mean step, ending a simulated trajectory where the
                         members disagree (the search then values that branch at 0 beyond it)
    run_search_episode   act in the real env by batched PUCT search with rollout leaves
    depth_sweep          returns over rollout depths and seeds, one row per model

The search is puct.batched_search with puct.rollout_evaluator: uniform priors, so PUCT
selection plus random rollouts of `depth` steps from each new leaf, B leaves at a time
(one batched model call per rollout step instead of one per leaf).
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

from mbrl_helpers.core.validation import check_int, check_number
from mbrl_helpers.learning import data, models
from mbrl_helpers.planners import puct
from mbrl_helpers.worlds.simulators import StepFn

MODEL = models.ModelConfig(ensemble_size=5, hidden=64, termination="cartpole", max_epochs=40,
                           patience=10, batch_size=256)
MAX_TRANSITIONS = 2_000  # real transitions the learned model gets in notebook 07's comparison
# Disagreement (data std units) beyond which guarded_step_fn ends a simulated branch. On fresh
# random-policy data the ensemble above has a median near 0.01 and a maximum near 0.17; far
# from the data (cart beyond 1.5 m) it exceeds 1.
GUARD_THRESHOLD = 0.25


def fit_cartpole_model(n_transitions: int = MAX_TRANSITIONS, *, seed: int = 0,
                       config: models.ModelConfig = MODEL) -> models.Ensemble:
    """An ensemble fitted to n_transitions of CartPole-v1 under a uniformly random policy.

    Random-policy episodes last about 20 steps, so the data covers the states near upright,
    and little of the far-off cart positions a long balancing run drifts to.
    """
    check_int("n_transitions", n_transitions, low=10)
    transitions = data.collect_transitions("CartPole-v1", n_transitions, seed=seed)
    return models.train_ensemble(transitions, config, seed=seed, progress=False)


def guarded_step_fn(ensemble: models.Ensemble, threshold: float) -> StepFn:
    """The ensemble's mean step; a transition whose disagreement exceeds threshold terminates.

    Disagreement is models.Ensemble.disagreement: the members' spread of predicted next states
    in units of the data's spread, averaged over dimensions (computed from the same forward
    pass). On CartPole (+1 per step) a terminated branch is worth nothing beyond it, so the
    search steers away from states the model cannot predict: pessimism under uncertainty.
    """
    check_number("threshold", threshold, low=0.0)
    if ensemble.config.termination != "cartpole":
        raise ValueError("guarded_step_fn needs an ensemble with termination='cartpole', got "
                         f"{ensemble.config.termination!r}")
    scale = ensemble.target_norm.std[:-1]

    def step(states: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = ensemble.predict(states, actions)       # one forward pass for the step and the spread
        next_states = p.next_states.mean(axis=0)
        spread = (p.next_states.std(axis=0) / scale).mean(axis=1)
        terminated = models.cartpole_terminated(next_states) | (spread > threshold)
        return next_states.astype(states.dtype), p.rewards.mean(axis=0), terminated

    return step


def run_search_episode(step_fn: StepFn, *, depth: int, n_simulations: int = 32, batch_size: int = 8,  # noqa: PLR0913 - keyword-only settings with defaults, as the notebooks call it
                       c: float = 1.25, gamma: float = 1.0, seed: int = 0, max_steps: int = 500,
                       env_id: str = "CartPole-v1") -> puct.SearchEpisode:
    """Reset env_id with seed, then pick every action by batched_search with rollout leaves.

    depth: random rollout steps from each new leaf (the search's horizon beyond the tree).
    The rollouts' random numbers come from a Generator seeded by `seed`: same seed, same episode.
    """
    check_int("depth", depth, low=1)
    env = gym.make(env_id)
    evaluate = puct.rollout_evaluator(step_fn, int(env.action_space.n), depth, gamma, seed=seed)
    episode = puct.run_episode(env, step_fn, evaluate, seed=seed, max_steps=max_steps,
                               n_simulations=n_simulations, batch_size=batch_size, c=c, gamma=gamma)
    env.close()
    return episode


def depth_sweep(step_fns: dict[str, StepFn], depths: Sequence[int], seeds: Sequence[int],
                **search: object) -> dict[str, np.ndarray]:
    """Returns of run_search_episode: {model name: (len(depths), len(seeds)) float64}.

    search: keyword arguments passed on (n_simulations, batch_size, c, gamma, max_steps).
    """
    return {name: np.array([[run_search_episode(step_fn, depth=d, seed=s, **search).total_reward
                             for s in seeds] for d in depths])
            for name, step_fn in step_fns.items()}
