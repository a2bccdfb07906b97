# ---
# jupyter:
#   jupytext:
#     comment_magics: false
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version,-kernelspec
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
# ---

# %% [markdown]
# # Learning from imagined experience: model-based deep RL vs model-free DQN
#
# *Notebook 04 of **Model-based reinforcement learning, hands-on**.*
#
# Notebook 01 showed that a tabular model lets Dyna-Q learn from experience it never had:
# replayed, recombined, *imagined*. Notebook 03 taught a neural network the dynamics of
# CartPole. Here the two meet: a deep Q-network (DQN) learns from transitions that a learned
# model makes up, and we measure what that buys in **real environment steps**, the currency
# that matters when real experience is slow, expensive or dangerous.
#
# CartPole-v1 throughout: push a cart left or right to keep a pole upright, reward 1 per step,
# episodes end when the pole tips past 12 degrees or the cart leaves the track, and stop
# (truncate) after 500 steps. "Solved" means the greedy policy's mean return over 5 fresh
# real episodes reaches **475**.

# %% [markdown] tags=["launch-links"]
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mbrl-course/mbrl-hands-on/main?labpath=notebooks%2F04_learning_from_imagined_experience.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mbrl-course/mbrl-hands-on/blob/main/notebooks/04_learning_from_imagined_experience.ipynb)
#
# Run it in the browser with one of the buttons above, or on your machine with `python3 course.py lab` (see the README).

# %% tags=["colab-install"]
# On Google Colab, install what the notebooks need (pinned as in pyproject.toml; torch as its CPU
# build) and the course package; anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    %pip install -q --extra-index-url https://download.pytorch.org/whl/cpu "numpy>=1.26,<2.5" "numba>=0.60" "gymnasium>=1.0,<2" "matplotlib>=3.8" "ipywidgets>=8.1" "tqdm>=4.66" "torch==2.13.0"
    %pip install -q --no-deps "mbrl-helpers @ git+https://github.com/mbrl-course/mbrl-hands-on@main"

# %% [markdown]
# **In this notebook**
#
# *Objectives.* After this notebook you can
# 1. write the DQN target $y = r + \gamma (1 - \text{terminated}) \max_{a'} Q_{\bar\theta}(s', a')$ and
#    say why a time-limit truncation is not a termination (Exercise 1);
# 2. run the *simple model-based RL* recipe end to end (real data, model, imagined data, DQN,
#    real evaluation) and explain why a policy trained only in a model can fail in the real
#    world: **model bias** and states the data never covered;
# 3. write a **branched rollout** in the style of MBPO (model-based policy optimisation, Janner et
#    al., 2019) and build Dyna-style DQN from it (Exercise 2);
# 4. compare model-based and model-free agents *fairly*: against DQN that makes as many
#    gradient updates per real step (the same **replay ratio**), and read off where the model
#    really adds something;
# 5. weigh the cost side: gradient updates, imagined transitions and wall-clock per real step.
#
# *What it assumes.* Notebook 01 (Q-learning and Dyna-Q: a Q-value update, planning with
# imagined transitions) and notebook 03 (the neural dynamics model, its ensemble, and how its
# error grows over an open-loop rollout). RL stands for reinforcement learning throughout; MBRL
# for model-based RL. A deep Q-network is explained in section 1, no earlier deep-RL notebook is
# needed.
#
# *Time.* About an hour to work through (reading, two exercises, the sliders); the cells run in
# well under a minute on a laptop processor (21 s measured on 2 cores, 39 s while they were
# shared with other work), most of it the model-only training of section 2. The long comparison of section 4 is a benchmark run outside the
# notebook (about three hours of CPU); its stored results are read here.

# %%
import inspect

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

import mbrl_helpers  # before torch: it fixes torch's CPU kernels, so every CPU gets the stored numbers
from mbrl_helpers.agents import dqn, imagined
from mbrl_helpers.course import checks, plots, widgets
from mbrl_helpers.results import load_json  # the committed benchmark results, shipped with the package

SEED = 0  # every experiment below takes a seed: same seed, same numbers
mbrl_helpers.core.reproducibility.seed_torch(SEED)  # torch seeded, on one thread: the same sums on every run

# %% [markdown]
# ## 1. The model-free baseline: a compact DQN
#
# DQN (Mnih et al., 2015) learns action values $Q_\theta(s, a)$ with a neural network from a
# **replay buffer** of real transitions $(s, a, r, s', \text{terminated})$. Each gradient step
# draws a random batch and regresses $Q_\theta(s, a)$ towards the target
#
# $$y = r + \gamma\,(1 - \text{terminated})\,\max_{a'} Q_{\bar\theta}(s', a'),$$
#
# with the Huber loss. $Q_{\bar\theta}$ is a **target network**, a copy of $Q_\theta$ refreshed
# every few hundred updates, so the target does not chase its own tail. Where the episode
# really ended (the pole fell) there is no future: the target is $r$ alone. A **truncation**
# (CartPole stops at 500 steps) is not an end of the *state*: the pole is still up, so the
# target still bootstraps. Treating truncation as termination is a classic DQN bug.
#
# The whole agent is in `mbrl_helpers.agents.dqn`, readable top to bottom in the CleanRL spirit;
# every hyperparameter sits in one dataclass:

# %%
print(inspect.getsource(dqn.DQNConfig).split("    def __post_init__")[0])

# %% [markdown]
# The target, and the update that uses it:

# %%
print(inspect.getsource(dqn.td_targets))
print(inspect.getsource(dqn.DQNAgent.update))


# %% [markdown]
# ### Exercise 1: the DQN target
#
# Complete `dqn_target` for a batch: `rewards` $(B,)$, `next_q` $(B, A)$ (the target network's
# values at $s'$), `terminated` $(B,)$ booleans and the discount `gamma`. Return the $(B,)$
# targets. The check compares your function with the package's on random batches and, if it
# differs, shows one batch with what was expected and what came back.

# %%
def dqn_target(rewards, next_q, terminated, gamma):
    ### BEGIN SOLUTION
    ### HINT: the target's formula is in section 1; turn each of its parts into an operation on the whole batch, one target per transition.
    return rewards + gamma * (1.0 - terminated) * next_q.max(axis=1)
    ### END SOLUTION


exercise_1_passed = checks.check_dqn_target(dqn_target)

# %% [markdown]
# ## 2. The simple model-based RL recipe, end to end
#
# The simplest way to use a model, in four steps:
#
# 1. **collect** real transitions (here: 1,000 steps of a random policy);
# 2. **train** the dynamics model $s' = s + f(s, a)$ and the reward model $r = g(s, a)$ on them
#    (notebook 03's ensemble of 5 networks; termination uses CartPole's known rule, as MBPO
#    uses known termination functions);
# 3. **generate** simulated transitions from the model only: rollouts of 20 model steps,
#    branched from real states, following the agent's epsilon-greedy policy;
# 4. **train** DQN on those simulated transitions alone, then **evaluate** it in the real
#    environment.
#
# Steps 1 and 2:

# %%
rng = np.random.default_rng(SEED)
env = gym.make("CartPole-v1")
state, _ = env.reset(seed=SEED)
real = dqn.ReplayBuffer(capacity=10_000, obs_dim=4)
imagined.collect_real(env, state, 1_000, real, policy=None, rng=rng)   # policy None: random
model = imagined.neural_model_fitter()(imagined.real_transitions(real), SEED)
print(f"real transitions: {len(real)}, episodes that ended: {int(real.terminated[:len(real)].sum())}")
print("model:", imagined.MODEL)

# %% [markdown]
# Steps 3 and 4: 4,000 DQN updates on imagined transitions only, then 5 real evaluation
# episodes with the greedy policy. (About half a minute.)

# %%
simple = imagined.SimpleMBRLConfig()
agent = dqn.DQNAgent(obs_dim=4, n_actions=2, config=dqn.DQNConfig())
n_imagined = imagined.train_in_model(agent, model, real, simple, rng)
model_only_return = dqn.evaluate(agent, episodes=5, seed=SEED)
print(f"{agent.updates} updates on {n_imagined:,} imagined transitions, 0 real ones")
print(f"real evaluation return: {model_only_return:.0f} (of 500)")


# %% [markdown]
# **Step 4's verdict.** After 4,000 updates on about 60,000 imagined transitions the greedy
# policy balances the real pole for only about 140 of 500 steps (printed above). The model
# was good where the data was: why does a policy trained in it fail? Follow the policy in the
# real environment and ask the model, at every state the policy visits, what comes next:

# %%
def random_data_range(buffer):
    states = buffer.states[: len(buffer)]
    return np.abs(states).max(axis=0)


trajectory = imagined.model_error_along_trajectory(model.step, agent.greedy, seed=SEED)
held_out = imagined.model_error_along_trajectory(model.step, lambda s: rng.integers(0, 2, size=len(s)),
                                                 seed=SEED + 1)
covered = random_data_range(real)
outside = (np.abs(trajectory["states"]) > covered).any(axis=1)
print(f"policy's real episode: {len(trajectory['error'])} steps, "
      f"{outside.mean():.0%} of them in states beyond the range of the random data")
print(f"one-step model error, random policy's states: median {np.median(held_out['error']):.4f}")
print(f"one-step model error, trained policy's states: median {np.median(trajectory['error']):.4f}, "
      f"max {trajectory['error'].max():.4f}")

# %%
fig, (ax_state, ax_error) = plt.subplots(2, 1, figsize=(7.5, 5.6), sharex=True)
steps = np.arange(len(trajectory["error"]))
names = ["cart position x (m)", "pole angle theta (rad)"]
for i, (dim, name) in enumerate(zip((0, 2), names, strict=True)):
    style = plots.style(i)
    ax_state.plot(steps, trajectory["states"][:, dim], label=name, markevery=max(1, len(steps) // 10),
                  markersize=4, **style)
    ax_state.axhspan(-covered[dim], covered[dim], color=style["color"], alpha=0.12)
ax_state.set_ylabel("state (m or rad)")
ax_state.set_title("The model-trained policy in the real CartPole (bands: range of the random data)",
                   fontsize=10)
ax_state.legend(frameon=False, fontsize=8)
ax_error.plot(steps, trajectory["error"], label="one-step error on the policy's own states",
              markevery=max(1, len(steps) // 10), markersize=4, **plots.style(2))
ax_error.axhline(np.median(held_out["error"]), label="median error on random-policy states",
                 **{**plots.style(3), "marker": None})
ax_error.set_yscale("log")
ax_error.set_xlabel("real time step")
ax_error.set_ylabel("|predicted - real next state|\n(sum over x, x_dot, theta, theta_dot)")
ax_error.legend(frameon=False, fontsize=8)
for ax in (ax_state, ax_error):
    ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# The policy pushes the cart far beyond where the random data ever went (top: the cart leaves
# the shaded band of positions seen in the data), and there, in the last quarter of the
# episode, the model's one-step error is more than ten times its median error on the random
# policy's states (bottom). This is **model
# bias**: the policy was optimised against the model's mistakes in states the data never
# covered, and it exploited them. More training inside the same model would not help; only
# real data from those states can.

# %%
n = len(trajectory["error"])
assert model_only_return < 475, "trained in the model only, the policy does not solve the real task"
assert 100 < model_only_return < 200 and 50_000 < n_imagined < 70_000, "the numbers the prose quotes"
assert np.median(trajectory["error"][-n // 4:]) > 10 * np.median(held_out["error"]), "ten times the error"
assert outside.mean() > 0.2, "a good part of the policy's real states lie beyond the random data's range"
assert np.median(trajectory["error"]) > 2 * np.median(held_out["error"]), "larger error on the policy's states"
assert np.median(trajectory["error"][-n // 4:]) > 5 * np.median(trajectory["error"][: n // 4]), \
    "the error grows as the policy drifts away from the data"


# %% [markdown]
# **Repeat the four steps.** The cure for states the data never covered is to go there: run
# the policy in the real world, add what it saw to the data, refit the model and train again.
# `imagined.run_simple_mbrl` does exactly that, in rounds of 500 real steps, keeping the agent
# from round to round. Between rounds the agent trains *to convergence inside the model*
# (4,000 updates per 500 real steps): this is where a model can do what replaying real data
# cannot, because it produces transitions from states and actions that were never tried.
# Its learning curves are in the benchmark below (Section 4).

# %% [markdown]
# ## 3. Dyna-style DQN: short rollouts branched from real states
#
# Dyna (notebook 01) mixes real and imagined experience all along instead of alternating.
# The deep version used here follows MBPO (Janner et al., 2019): after each real step the
# agent adds, on average, $k$ imagined transitions made by **branched rollouts** of length
# $h$: start from a real state $s_0$ drawn from the replay buffer, then for $t = 0, \dots, h-1$
#
# $$a_t \sim \pi(\cdot \mid s_t), \qquad (s_{t+1}, r_t, d_t) = \hat f(s_t, a_t),$$
#
# stopping early where the model says the episode ended ($d_t$ = terminated). Each gradient
# batch takes half its transitions from the real buffer and half from the imagined one. The
# rollouts are short because model errors compound (notebook 03's open-loop error grows with
# depth); they start from *real* states so the agent sees imagined branches off the states it
# actually visits. With $k = 0$ or $h = 0$ nothing is imagined and the agent is exactly DQN
# (same seed, same numbers: a unit test checks it).
#
# ### Exercise 2: the branched rollout
#
# This is the piece that makes imagined experience (about 10 lines). Complete
# `branched_rollout(step_fn, policy, start_states, horizon)`. `step_fn(states, actions)`
# returns `(next_states, rewards, terminated)` for a batch; `policy(states)` returns actions.
# Return a dict with arrays `states`, `actions`, `rewards`, `next_states`, `terminated` holding
# every transition made (any order). A rollout that terminates goes no further.

# %%
def branched_rollout(step_fn, policy, start_states, horizon):
    ### BEGIN SOLUTION
    ### HINT: step all the rollouts still running together, once per step of the horizon; keep every transition made, then carry on only with the rollouts the model did not end.
    keys = ("states", "actions", "rewards", "next_states", "terminated")
    parts, states = [], start_states
    for _ in range(horizon):
        if len(states) == 0:
            break
        actions = policy(states)
        next_states, rewards, terminated = step_fn(states, actions)
        parts.append((states, actions, rewards, next_states, terminated))
        states = next_states[~terminated]
    return {key: np.concatenate([part[i] for part in parts]) for i, key in enumerate(keys)}
    ### END SOLUTION


exercise_2_passed = checks.check_branched_rollout(branched_rollout)

# %% [markdown]
# The package's version adds one option: stop a rollout before a step where the ensemble's
# members disagree by more than a threshold (the model does not know what happens there).
# The Dyna agent calls it every 25 real steps with $\lceil 25k/h \rceil$ start states and
# refits the model every 1,000 real steps:

# %%
print(inspect.getsource(imagined.DynaHook.__call__))

# %% [markdown]
# Ten branched rollouts of length 5 from the model fitted in Section 2, under the policy
# trained there:

# %%
starts = real.states[rng.integers(0, len(real), size=10)]
batch = imagined.branched_rollout(model.step, agent.greedy, starts, horizon=5)
falls = int(batch["terminated"].sum())
print(f"{len(batch['actions'])} imagined transitions from 10 rollouts of at most 5 steps; "
      f"{falls} rollout{'s' if falls != 1 else ''} ended in a fall")

# %% [markdown]
# **How good are imagined transitions?** CartPole's true physics is known
# (`mbrl_helpers.worlds.simulators.cartpole_step`), so each imagined transition can be checked: from
# the same (imagined) state and action, where would the real pole go? Rollouts of depth 1 to
# 10 from 200 real states, under the greedy policy of Section 2:

# %%
from mbrl_helpers.worlds.simulators import cartpole_step

starts = real.states[rng.integers(0, len(real), size=200)]
depth_error, made = [], 0
for depth in range(1, 11):  # the greedy policy is deterministic: depth d's rollouts extend depth d-1's
    batch = imagined.branched_rollout(model.step, agent.greedy, starts, horizon=depth)
    new = slice(made, len(batch["actions"]))
    made = len(batch["actions"])
    true_next, _, _ = cartpole_step(batch["states"][new].astype(np.float64), batch["actions"][new])
    errors = np.abs(batch["next_states"][new] - true_next).sum(axis=1)
    depth_error.append((float(np.median(errors)), float(np.percentile(errors, 90))))
depth_error = np.array(depth_error)  # (10, 2): median and 90th percentile per depth
print("one-step error of imagined transitions by depth in the rollout (median / 90th percentile):")
for d in (1, 2, 3, 5, 10):
    print(f"  depth {d:2d}: {depth_error[d - 1, 0]:.4f} / {depth_error[d - 1, 1]:.4f}")
print(f"  real states of the random policy, for comparison: {np.median(held_out['error']):.4f} / "
      f"{np.percentile(held_out['error'], 90):.4f}")

# %%
assert (depth_error[-1] > depth_error[0]).all(), "deeper imagined transitions are worse"
assert depth_error[0, 0] > np.median(held_out["error"]), "even the first imagined step is worse than on the data"

# %% [markdown]
# Even the first imagined step is less accurate than the model is on its own data (the
# branch starts from a real state but takes the *policy's* action, not the one in the data),
# and further steps drift to states the model knows less well: the error at depth 10 is larger
# than at depth 1, in the median and the 90th percentile (not at every depth: depth 2 is about
# as good as depth 1). Short branches keep this bias small, but they also stay
# close to the real states the replay buffer already holds: that is the tension the next
# sections measure.

# %% [markdown]
# ## 4. Model-free vs model-based: real steps to solve (benchmark)
#
# The full comparison is too long to run in a notebook (about three hours of CPU), so it lives in
# `benchmarks/bench_imagined.py`; its committed results are read and plotted here. To
# regenerate them (in the background, each part resumable):
#
# ```
# python3 course.py run benchmarks/bench_imagined.py --part model_free
# python3 course.py run benchmarks/bench_imagined.py --part model_based
# python3 course.py run benchmarks/bench_imagined.py --part grid
# python3 course.py run benchmarks/bench_imagined.py --report
# ```
#
# **A fair comparison.** Dyna-DQN makes 4 gradient updates per real step; plain DQN makes 1.
# A model-based agent that wins might win only because it *updates more*, not because its
# model knows anything. So, following van Hasselt, Hessel & Aslanides (2019, *When to use
# parametric models in reinforcement learning?*), the benchmark also runs DQN with the same
# **replay ratio**, 4 updates per real step on real data only, and with the same
# hyperparameters otherwise. Every method uses the same definition of solved (mean greedy
# return over 5 fresh real episodes $\ge 475$, checked every 1,000 real steps; simple MBRL:
# after every round of 500), and a run stops once solved. Budgets: 40,000 real steps for DQN,
# 10,000 for Dyna-DQN, 6,000 for simple MBRL (a run not solved within its budget counts as
# "more than the budget"). Seeds per method are in the table.

# %%
bench = load_json("imagined.json")
table = {row["method"]: row for row in bench["table"]}


def fmt(value, budget):
    return f"> {budget:,}" if value is None or not np.isfinite(value) else f"{value:,.0f}"


print(f"{'method':72s} {'seeds':>5s} {'solved':>6s} {'median':>8s} {'quartiles':>17s}")
for name, row in table.items():
    quartiles = f"{fmt(row['q25'], row['budget'])} - {fmt(row['q75'], row['budget'])}"
    print(f"{name:72s} {row['runs']:5d} {row['solved']:6d} {fmt(row['median'], row['budget']):>8s} "
          f"{quartiles:>17s}")

# %%
curves = {name: [(np.array(r["eval_steps"]), np.array(r["eval_returns"])) for r in runs]
          for name, runs in bench["runs"].items()}
fig = plots.learning_curves_figure(
    curves, max_steps=40_000,
    title="CartPole-v1: greedy return vs real steps (benchmark; median, band = quartiles over seeds)")

# %% [markdown]
# Replay ratio first: DQN at 4 updates per real step needs a median of 10,000 real
# steps, against 29,000 at 1 update per step, so **more replay alone** explains much of
# what a model seems to buy. The best model-based agent, simple MBRL, needs
# 5,000 (5 seeds; runs that solved stop and hold their last evaluation).

# %%
plain, matched, best = table['DQN, 1 update/step'], table['DQN, 4 updates/step (replay-matched)'], table['simple MBRL (policy trained only in the model, rounds of 500 real steps)']
assert matched["median"] < plain["median"], "more updates per real step alone already saves real steps"
assert best["median"] == min(table[name]["median"] for name in table if not name.startswith("DQN"))
ratio = matched["median"] / best["median"]
print(f"real steps to 475, median: replay-matched DQN {matched['median']:,.0f}, best model-based "
      f"{best['median']:,.0f} -> {ratio:.1f}x fewer")
assert best["median"] == 5_000 and ratio >= 2, "the model-based agent needs a median of 5,000 real steps, half the control's"
assert (best["q25"], best["q75"]) == (3_500, 6_000), "the quartiles the prose quotes"
assert table['Dyna-DQN, k=16, h=3, 4 updates/step']['runs'] >= 1
assert table['Dyna-DQN, k=64, h=10, disagreement guard 0.2, 4 updates/step']['runs'] >= 1
assert table['Dyna-DQN, k=64, h=5, 4 updates/step']['runs'] >= 1
dyna_worse = all(table[name]["median"] > matched["median"] for name in table if name.startswith("Dyna"))
assert dyna_worse, "the prose below says whether Dyna-DQN beats the replay-matched control"


def solved_by(name, budget):
    return sum(1 for r in bench["runs"][name] if r["steps_to_solve"] is not None and r["steps_to_solve"] <= budget)


assert solved_by('DQN, 4 updates/step (replay-matched)', 10_000) == 3
assert {name: solved_by(name, 10_000) for name in table if name.startswith("Dyna")} == {
    name: solved for name, (solved, _) in {'Dyna-DQN, k=16, h=3, 4 updates/step': (2, 5), 'Dyna-DQN, k=64, h=10, disagreement guard 0.2, 4 updates/step': (0, 5), 'Dyna-DQN, k=64, h=5, 4 updates/step': (2, 5)}.items()}

# %% [markdown]
# **Learning from the model pays, with two caveats**: the best model-based agent, simple MBRL, reaches 475 in a median of 5,000 real steps (5 seeds), half the 10,000 of replay-matched DQN (2.0x fewer). The caveats: its evaluations come every 500 real steps, DQN's every 1,000, which can favour it by up to 500 steps; and its seeds spread from 3,500 to 6,000 (quartiles), so the gap rests on few runs.
#
# **Dyna-DQN does not beat the replay-matched control here.** Within 10,000 real steps the replay-matched DQN solved 3 of 5 runs; Dyna-DQN, at the same 4 updates per real step: Dyna-DQN, k=16, h=3: 2 of 5 runs; Dyna-DQN, k=64, h=10, disagreement guard 0.2: 0 of 5 runs; Dyna-DQN, k=64, h=5: 2 of 5 runs. Why? At the same replay ratio the model can only help with *new* information, and short branches off real states add little that the real states do not already teach, while every imagined transition carries model bias (the error by depth above) and takes the place of a real one in half of each batch. Longer branches reach further, and pay more bias. (Dyna-DQN's own settings were not tuned: half of each batch imagined, the model refit every 1,000 real steps; MBPO uses a much smaller real share and many more updates.)
#
# **Where the model does add something.** Simple MBRL beats replay-matched DQN. It trains
# **to convergence inside the model** between rounds of real data (7
# updates per real step), on 20-step rollouts through states and actions never tried for real.
# That is what a replay buffer cannot do: the model generalises to unvisited state-action
# pairs. Section 2 showed the price: where the data never went the model is wrong, so each
# round must fetch real data where the policy now goes.
#
# But "replay-matched" above means Dyna-DQN's 4 updates per real step, and simple MBRL makes
# about 7. The fair control makes **as many updates per real step** as the method it is
# compared with (van Hasselt, Hessel & Aslanides, 2019): DQN at 7 updates per real step, same
# evaluation, 5 seeds, run by the benchmark of the next notebook (`mpc.json`):

# %%
same_updates = {row["method"]: row for row in load_json("mpc.json")["table"]}[
    "DQN, 7 updates/step (updates-matched to simple MBRL)"]
print(f"DQN, 7 updates per real step: solved {same_updates['solved']} of {same_updates['runs']} within "
      f"{same_updates['budget']:,} real steps (by seed {same_updates['steps_by_seed']})")
print(f"simple MBRL, {best['updates_per_real_step']:.1f} updates per real step: solved {best['solved']} of "
      f"{best['runs']}, median {best['median']:,.0f} real steps")
assert same_updates["solved"] == 2 and same_updates["budget"] == 10_000
assert not np.isfinite(same_updates["median"]), "the control's median run did not solve within 10,000"
assert same_updates["budget"] >= 2 * best["median"]
assert solved_by('DQN, 4 updates/step (replay-matched)', 10_000) > same_updates["solved"]

# %% [markdown]
# At the same 7 updates per real step, DQN solved only 2 of 5 seeds within 10,000 real steps
# (fewer than at 4 updates: replaying the same early data more often does not make DQN learn
# faster here), so simple MBRL's median of 5,000 is **more than 2x fewer real steps at the same
# number of updates**: that comparison is like for like. Van Hasselt et al. also explain
# Dyna-DQN's result: a parametric model **used like a replay buffer**, to make more transitions
# for the same learner, rarely beats replaying the real ones, which are already the best "model"
# of the states seen; it pays when it is used for what a buffer cannot do, such as training to
# convergence on states never visited (simple MBRL) or planning forward from the current state
# (the next notebook).

# %% [markdown]
# ## 5. How much to imagine, and how far: k and h
#
# Two knobs set the trade-off the course's overview table names (notebook 08 measures it), **sample efficiency against
# model bias**: $k$, imagined transitions per real step (more data for the same real
# experience, but more of it wrong), and $h$, the rollout length (longer branches reach
# further from the real data, where the model is worse, as notebook 03 measured). The sliders
# show precomputed Dyna-DQN curves (4 updates per real step, budget 10,000 real steps) from
# the benchmark's grid; $k = 0$ is the replay-matched DQN. Grid points measured with fewer
# seeds say so in the legend. The **k** slider sets the imagined transitions per real step (0, 16
# or 64), the **h** slider the length of each branched rollout (1, 3 or 5 model steps). At
# $k = 0$ nothing is imagined, so there is no rollout for $h$ to lengthen: the h slider is greyed
# out there, and the table below shows that $k = 0$ gives the same runs for every $h$.

# %%
# NBVAL_IGNORE_OUTPUT
import ipywidgets

grid = widgets.load_imagined_grid()
k_slider = ipywidgets.SelectionSlider(options=[0, 16, 64], value=16, description="k (imagined per real step)",
                                      continuous_update=False, style={"description_width": "initial"})
h_slider = ipywidgets.SelectionSlider(options=[1, 3, 5], value=3, description="h (rollout length)",
                                      continuous_update=False, style={"description_width": "initial"})
widgets.disable_h_when_k_is_zero(k_slider, h_slider)   # at k = 0 there are no rollouts for h to change
widgets.interactive_figure(lambda k, h: widgets.imagined_grid_figure(k, h, grid=grid), k=k_slider, h=h_slider)

# %%
fig = widgets.imagined_grid_figure(16, 3, grid=grid)  # the sliders' default setting, for the static page

# %% [markdown]
# At the default $k = 16$, $h = 3$, Dyna-DQN solved 2 of 5 runs within
# 10,000 real steps, against 3 of 5 for $k = 0$ (DQN at the same 4 updates per real
# step). Across the grid (table below: real steps to 475 per seed, None = not solved within
# 10,000; points outside the main benchmark have 2 seeds),
# no $(k, h)$ solved a larger share of its runs than $k = 0$.
# More imagined data, from short or longer branches, did not buy real steps here: at a fixed
# replay ratio the imagined transitions replace real ones in each batch and add model bias,
# while the branches stay near states the buffer already covers. With so few seeds per point
# the grid shows the shape of the trade-off only roughly.

# %%
for key in sorted(grid["runs"], key=lambda name: (int(name.split()[0][2:]), int(name.split()[1][2:]))):
    per_seed = [r["steps_to_solve"] for r in grid["runs"][key]]
    print(f"{key:10s} real steps to 475 per seed: {per_seed}")


solved = {key: sum(r["steps_to_solve"] is not None for r in runs) / len(runs) for key, runs in grid["runs"].items()}
assert (max(solved.values()) <= solved['k=0 h=1']), "the prose above says whether any (k, h) beat k = 0"
assert solved['k=16 h=3'] == 2 / 5 and solved['k=0 h=1'] == 3 / 5
returns_at_k0 = [[r["eval_returns"] for r in grid["runs"][f"k=0 h={h}"]] for h in (1, 3, 5)]
assert returns_at_k0[0] == returns_at_k0[1] == returns_at_k0[2], "at k = 0, h changes nothing"

# %% [markdown]
# ## 6. The cost side
#
# Real steps are not the only cost. A model-based agent pays in computation: fitting the
# model, rolling it out, and (usually) more gradient updates per real step. Per method, from
# the same benchmark runs (wall-clock on a shared 2-core machine, so rough):

# %%
print(f"{'method':72s} {'updates/step':>12s} {'imagined/step':>13s} {'ms/real step':>12s}")
for name, row in table.items():
    print(f"{name:72s} {row['updates_per_real_step']:12.2f} {row['imagined_per_real_step']:13.1f} "
          f"{row['ms_per_real_step']:12.1f}")

# %%
assert table['simple MBRL (policy trained only in the model, rounds of 500 real steps)']["updates_per_real_step"] > table['DQN, 4 updates/step (replay-matched)']["updates_per_real_step"]
assert table['simple MBRL (policy trained only in the model, rounds of 500 real steps)']["ms_per_real_step"] > 3 * table['DQN, 1 update/step']["ms_per_real_step"]
assert round(table['simple MBRL (policy trained only in the model, rounds of 500 real steps)']["updates_per_real_step"]) == 7
assert round(table['DQN, 1 update/step']["updates_per_real_step"]) == 1 and round(table['DQN, 4 updates/step (replay-matched)']["updates_per_real_step"]) == 4
assert all(table[name]["ms_per_real_step"] > table['DQN, 1 update/step']["ms_per_real_step"] for name in ['simple MBRL (policy trained only in the model, rounds of 500 real steps)', 'Dyna-DQN, k=16, h=3, 4 updates/step', 'Dyna-DQN, k=64, h=10, disagreement guard 0.2, 4 updates/step', 'Dyna-DQN, k=64, h=5, 4 updates/step'])

# %% [markdown]
# Every model-based agent costs more computation per real step than plain DQN: model fits,
# model rollouts and more updates. Simple MBRL makes 7 updates per real
# step, against about 1 for plain DQN and 4 for replay-matched DQN, and spends more than three
# times plain DQN's wall-clock per real step. When real steps are as cheap as a simulator's
# (CartPole), saving real steps at that price buys little; model-based RL pays off when a real
# step costs more than these milliseconds of computation: a robot, a chemical plant, a user.

# %% [markdown]
# ## Summary
#
# - **DQN** regresses $Q_\theta(s, a)$ on $r + \gamma (1 - \text{terminated}) \max_{a'} Q_{\bar\theta}(s', a')$
#   from a replay buffer; a time-limit truncation is not a termination.
# - **Simple model-based RL** (collect, fit, imagine, train, evaluate): a policy trained only in a
#   model fitted on random data fails in the real world, because it drives the system into
#   states the data never covered, where the model is wrong (**model bias**). Repeating the
#   four steps with the policy's own data fixes that: in the benchmark it solved CartPole in a
#   median of 5,000 real steps (5 seeds).
# - **Dyna-style DQN** adds $k$ imagined transitions per real step from $h$-step rollouts branched
#   from real states (MBPO); $k = 0$ or $h = 0$ is DQN.
# - **Compare at the same replay ratio.** DQN at 4 updates per real step needed 10,000 real
#   steps against 29,000 at 1 update: much of a model's apparent gain is just more
#   updates. Dyna-DQN did not beat that control here (no k, h of the grid, nor 10-step rollouts guarded by ensemble disagreement);
#   training to convergence inside the model between rounds of real data is where the model
#   paid off here (5,000 real steps; DQN making the same 7 updates per real step solved only 2
#   of 5 seeds within 10,000).
# - **Cost:** every model-based agent spends more computation per real step; it pays off when
#   real steps are expensive.
#
# **Further exercises.** (1) Run `imagined.run_simple_mbrl` with `rollout_length=5` instead of 20:
# does the policy still learn, and why? (2) Give Dyna-DQN a disagreement guard
# (`DynaConfig(max_disagreement=...)`) and longer rollouts ($h = 10$): does it beat $h = 3$?
# (3) Set the termination of the model to `"learned"` (`models.ModelConfig(termination="learned")`)
# and watch what happens to imagined rollouts when falls are rare in the data.
