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
# # Monte Carlo planning and Monte Carlo Tree Search
#
# *Notebook 06 of **Model-based reinforcement learning, hands-on**.*
#
# Notebooks 01-04 used a model to generate *one-step* imagined transitions and learned
# from them. This notebook uses a model differently: at every real step, the agent
# **looks several steps ahead** from the state it is in, by simulating with the
# model, and acts on what that search finds. Nothing is learned between decisions.
# This is *decision-time planning* (Sutton & Barto, *Reinforcement Learning: An
# Introduction*, 2nd ed., sections 8.8-8.11), and Monte Carlo Tree Search (MCTS) is
# its best-known form, the planner inside AlphaGo and MuZero.

# %% [markdown] tags=["launch-links"]
# [![Open in Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/mbrl-course/mbrl-hands-on/main?labpath=notebooks%2F06_monte_carlo_tree_search.ipynb) [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/mbrl-course/mbrl-hands-on/blob/main/notebooks/06_monte_carlo_tree_search.ipynb)
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
# *You will be able to*
#
# 1. state the model interface every planner of the course shares, and check a
#    perfect simulator against the real environment;
# 2. plan by Monte Carlo rollouts (8.10) and say what its estimates mean;
# 3. write UCT (Upper Confidence bounds applied to Trees, 8.11): selection by UCB1 (the Upper
#    Confidence Bound score of Auer et al.), expansion, rollout, backup with discounting, acting
#    by most visits, and reusing the subtree;
# 4. explain why UCB1 needs values normalised to $[0, 1]$, and measure what goes wrong without it;
# 5. say, with numbers, where building a tree pays over flat rollouts and where it does not;
# 6. read a search tree and the root statistics, and predict how simulations, rollout
#    depth and the exploration constant $c$ change them.
#
# *It assumes* notebook 01 (the Dyna Maze, a model of the world, returns and the discount
# $\gamma$) and CartPole-v1 from notebooks 03-05 (its state: cart position and velocity, pole
# angle and angular velocity; +1 per step until the pole falls or the cart leaves the track).
# No neural networks here: everything plans with the **true model** (a perfect simulator).
# Notebook 07 plugs learned models into the same search.
#
# *Time:* about 75 minutes to work through, the three exercises included; the cells run in about a
# minute on a laptop CPU (measured here on 2 cores shared with other jobs: 58 s, 114 s at the busiest).

# %%
import inspect
import time

import gymnasium as gym
import ipywidgets
import matplotlib.pyplot as plt
import numpy as np

import mbrl_helpers  # noqa: F401  (registers the course's gymnasium environments)
from mbrl_helpers.core.numba_tools import random_index, seed_numba
from mbrl_helpers.course import checks, tree_plot, widgets
from mbrl_helpers.planners import mcts
from mbrl_helpers.worlds import simulators as sim
from mbrl_helpers.worlds.envs import DYNA_MAZE_LAYOUT, GridMaze

SEED = 0  # every experiment below takes a seed: same seed, same numbers
CARTPOLE_ACTIONS = ("push left", "push right")

# %% [markdown]
# ## 1. The model: one interface for every planner
#
# A planner only ever asks its model one question: *from these states, after these
# actions, what comes next?* The course fixes that question as a plain function,
# batched over states (the same shape of interface as DeepMind's `mctx`):
#
# $$
# \texttt{step}(\texttt{states}, \texttt{actions}) \;\to\; (\texttt{next\_states},\ \texttt{rewards},\ \texttt{terminated}),
# $$
#
# with `states` of shape $(B, D)$ (float64; $D = 4$ for CartPole) or $(B,)$ (int64 cell
# indices for a maze), `actions` $(B,)$ int64, `rewards` $(B,)$ float64 and `terminated`
# $(B,)$ bool. **Termination is part of the model**: a CartPole model that never says
# "the pole fell" would roll out forever on a fallen pole.
#
# A *perfect simulator* is the environment's own dynamics behind this signature.
# For CartPole-v1 that is a few lines of physics, written as a pure function of the
# state: the same constants, the same Euler integration and the same termination
# thresholds (cart beyond 2.4 m, pole beyond 12 degrees) as gymnasium's `CartPoleEnv`,
# reward 1 per step.

# %%
print(inspect.getsource(sim.cartpole_step))

# %% [markdown]
# A model is only as good as its agreement with the world. We check this one against
# gymnasium's own `step` on 1,000 random states and actions, by putting the
# environment into each state and stepping it:

# %%
env = gym.make("CartPole-v1").unwrapped
env.reset(seed=SEED)
rng = np.random.default_rng(SEED)
states = rng.uniform([-2.4, -2.0, -0.21, -2.0], [2.4, 2.0, 0.21, 2.0], size=(1000, 4))
actions = rng.integers(0, 2, size=1000)

model_next, model_reward, model_done = sim.cartpole_step(states, actions)
env_next, env_done = np.empty_like(states), np.empty(1000, dtype=bool)
for i, (state, action) in enumerate(zip(states, actions, strict=True)):
    env.state, env.steps_beyond_terminated = state.copy(), None
    _, reward, env_done[i], _, _ = env.step(int(action))
    env_next[i] = env.state

max_difference = float(np.abs(model_next - env_next).max())
print(f"largest difference in the next state: {max_difference:.1e}")
print(f"terminated agrees on {np.mean(model_done == env_done):.0%} of 1000 pairs "
      f"({int(env_done.sum())} of them end the episode); rewards all 1: {bool(np.all(model_reward == 1))}")

# %%
assert max_difference < 1e-12 and np.array_equal(model_done, env_done) and 50 < env_done.sum() < 950

# %% [markdown]
# Any `GridMaze` layout has a perfect model too, read from the maze's tables. It refuses
# states it cannot take (a wall, a cell off the grid) with a clear error, rather than
# inventing an answer:

# %%
maze = GridMaze(DYNA_MAZE_LAYOUT)
maze_model = sim.maze_step_fn(maze)
start = np.full(4, maze.start)
next_cells, rewards, done = maze_model(start, np.arange(4))
print("from S, actions up/down/left/right lead to cells", [maze.to_cell(s) for s in next_cells])
try:
    maze_model(np.array([maze.to_state(1, 2)]), np.array([0]))
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# ## 2. Monte Carlo rollout planning (section 8.10)
#
# The simplest way to look ahead: for each action $a$ at the current state $s$, try
# it in the model, then follow a **rollout policy** (here: uniformly random actions)
# for up to $d$ more steps, and average the discounted returns of $n_a$ such rollouts:
#
# $$
# \hat Q(s, a) = \frac{1}{n_a} \sum_{i=1}^{n_a} \Big( r^{(i)}_1 + \sum_{t=1}^{d} \gamma^{t}\, r^{(i)}_{t+1} \Big),
# \qquad a_{\text{act}} = \arg\max_a \hat Q(s, a).
# $$
#
# $\hat Q$ estimates the value of the *random* policy after $a$, not of the best one.
# Acting greedily on it is one step of policy improvement over the rollout policy,
# and that is often enough. A simulation budget of $n$ is split evenly: $n_a = n / |A|$.

# %%
print(inspect.getsource(mcts.rollout))

# %%
s0 = np.array(widgets.MCTS_WIDGET_STATE)  # cart at rest, pole leaning 0.05 rad to the right
flat = mcts.rollout_planning(sim.cartpole_step, s0, n_actions=2, n_simulations=100, depth=20, seed=SEED)
print("state s0:", s0)
for a in range(2):
    print(f"  {CARTPOLE_ACTIONS[a]:>10}: {flat.visit_counts[a]} rollouts, mean return {flat.q_values[a]:.2f}")
print("rollout planning pushes:", CARTPOLE_ACTIONS[flat.action], "| model steps used:", flat.simulated_steps)

# %%
assert flat.action == 1 and flat.visit_counts.sum() == 100  # the pole leans right: push right

# %% [markdown]
# ## 3. UCT: Monte Carlo Tree Search (section 8.11)
#
# UCT (Upper Confidence bounds applied to Trees; Kocsis & Szepesvari, 2006) is the classic form
# of MCTS. Flat rollouts spend the same effort on every action, including hopeless ones, and
# look only one step ahead with anything better than chance. MCTS grows a **tree**
# of the states it has simulated, and each **simulation** makes four moves:
#
# 1. **Selection.** From the root, descend through fully expanded nodes, at each one
#    picking the child with the highest UCB1 score (below).
# 2. **Expansion.** At the first node with an untried action, try one (at random)
#    in the model and add the resulting state as a new child.
# 3. **Simulation (rollout).** From the new node, follow random actions for up to
#    `depth` steps and record the discounted return.
# 4. **Backup.** Walk back to the root, adding the sampled return, discounted step
#    by step, to every node on the path.
#
# After the simulations, **act by the most visited** root action (visit counts are
# a steadier signal than noisy mean values), then **keep the chosen child's
# subtree** for the next decision: its statistics are still valid, since the model
# predicted exactly the state we arrive in.
#
# ### Selection by UCB1
#
# At a node visited $N$ times, a child visited $n$ times with mean value $\bar q \in [0, 1]$ scores
#
# $$
# \operatorname{UCB1} = \underbrace{\bar q}_{\text{exploit}} \;+\; c \underbrace{\sqrt{\frac{\ln N}{n}}}_{\text{explore}}.
# $$
#
# The first term prefers children that looked good. The second is an uncertainty
# bonus: it shrinks as the child is tried ($n$ grows) and grows, slowly, as its
# siblings are tried instead ($\ln N$), so no child is starved for ever. A child
# never tried has $n = 0$ and scores $+\infty$. With rewards in $[0, 1]$ and
# $c = \sqrt 2$ this is Auer et al.'s UCB1, whose regret grows only logarithmically;
# UCT (Kocsis & Szepesvari, 2006) applies it at every node of the tree.
#
# ### Exercise 1: the UCB1 score
#
# Complete `ucb1_score(q, parent_visits, child_visits, c)`: the score above for a child with mean
# value `q` (already in $[0, 1]$) visited `child_visits` $= n$ times, under a node visited
# `parent_visits` $= N$ times. The check compares with the package on random cases.

# %%
import math


def ucb1_score(q, parent_visits, child_visits, c):
    ### BEGIN SOLUTION
    ### HINT: first decide what a child never tried scores; otherwise add the exploration bonus of the
    ### HINT: formula above to q (the math module has the functions you need).
    if child_visits == 0:
        return math.inf
    return q + c * math.sqrt(math.log(parent_visits) / child_visits)
    ### END SOLUTION


exercise_1_passed = checks.check_ucb1_score(ucb1_score)

# %% [markdown]
# ### Why normalise the values
#
# UCB1's bonus is measured in the units of $[0, 1]$. CartPole's returns are not: a
# rollout of depth 20 returns up to 21 (one per step survived), so two actions that
# differ by a return of 3 differ by 3 in $\bar q$, while the bonus $c\sqrt{\ln N / n}$ is
# about 0.3 after a few dozen visits. Exploration is drowned out: the search turns
# greedy on its first noisy estimates. In the maze the opposite happens: returns are
# at most 1 and differ by a few hundredths, so the bonus drowns the values.
#
# The cure is to rescale the values before UCB1. MuZero and `mctx`
# (`qtransform_by_min_max`) use the smallest and largest value seen anywhere in the
# tree so far:
#
# $$
# \bar q_{\text{norm}} = \frac{\bar q - q_{\min}}{q_{\max} - q_{\min}} \in [0, 1].
# $$
#
# Then one $c$ works for any reward scale. The package's selection step:

# %%
print(inspect.getsource(mcts.normalised.py_func))
print(inspect.getsource(mcts.select_child))


# %% [markdown]
# ### Backup with discounting
#
# A simulation's path runs root $= v_0, v_1, \dots, v_k =$ leaf; $r_i$ is the reward of
# entering $v_i$ and $G_k$ is the return estimated at the leaf (the rollout's return,
# or 0 if the leaf is terminal). Every node on the path receives the return *from its
# own state on*:
#
# $$
# G_i = r_{i+1} + \gamma\, G_{i+1}, \qquad i = k-1, \dots, 0.
# $$
#
# The reward is received on entering the child, so it is not discounted; everything
# after it is. Each node keeps a visit count and the sum of its returns; the value of
# child $v$ of node $u$ is $Q(u, a) = r_v + \gamma \cdot \text{value\_sum}_v / \text{visits}_v$.
#
# ### Exercise 2: the returns along a path
#
# Complete `path_returns(rewards, leaf_value, gamma)`: `rewards` has the $k$ rewards
# $r_1, \dots, r_k$ (`rewards[i]` is $r_{i+1}$, the reward of the step from $v_i$ into $v_{i+1}$);
# return the $k+1$ returns $G_0, \dots, G_k$, root first, as a numpy array.

# %%
def path_returns(rewards, leaf_value, gamma):
    ### BEGIN SOLUTION
    ### HINT: the leaf's return is known; walk back towards the root one node at a time, each
    ### HINT: return built from the one below it as in the formula above.
    returns = np.empty(len(rewards) + 1)
    returns[-1] = leaf_value
    for i in range(len(rewards) - 1, -1, -1):
        returns[i] = rewards[i] + gamma * returns[i + 1]
    return returns
    ### END SOLUTION


exercise_2_passed = checks.check_backup(path_returns)

# %% [markdown]
# The package's backup uses exactly this (`mcts.path_returns`) to update every node on the path;
# `mcts.expand` adds one new node to the tree with one model step:

# %%
print(inspect.getsource(mcts.backup))
print(inspect.getsource(mcts.expand))


# %% [markdown]
# ### Exercise 3: one whole UCT simulation
#
# Put the four moves together: write `simulate(step_fn, tree, depth, c, gamma, bounds)`, one
# simulation on the search tree, using the package's pieces shown above: `mcts.select_child`,
# `mcts.expand`, `mcts.rollout` (section 2) and `mcts.backup`. It returns the number of model steps
# it used.
#
# The tree (`mcts.Tree`) is a set of flat arrays indexed by node, the root being node 0:
# `tree.children[node, a]` is the child that action `a` leads to, or -1 if `a` was never tried
# from `node`; `tree.terminal[node]` says whether the episode ends there; `tree.states[node]` is
# its state; `tree.children.shape[1]` is the number of actions. `bounds` is the list
# `[q_min, q_max]` the selection normalises with (or None for raw $Q$); pass it on, `backup`
# widens it. Follow the path from the root and keep the list of the nodes visited, root first:
#
# * while the node is not terminal: if it has untried actions, **expand** one of them, chosen
#   uniformly at random with one draw of `random_index(number of untried actions)` (from
#   `mbrl_helpers.core.numba_tools`) over the untried actions in increasing order; then, if the
#   new node is terminal, back up a leaf value of 0, otherwise **roll out** `depth` random steps
#   from its state and **back up** the rollout's return. That ends the simulation: it used the
#   expansion's model step plus the rollout's. If the node has no untried action, **select** a
#   child by UCB1 and go on from there.
# * If the walk reaches a terminal node already in the tree, back up a leaf value of 0: no model
#   step was used.
#
# The check runs your function and the package's `mcts.simulate` on small searches (CartPole
# upright and about to fall, and next to the Dyna Maze's goal), both seeded alike, and compares
# the trees after every search, draw for draw. About 15 lines.

# %%
def simulate(step_fn, tree, depth, c, gamma, bounds):
    ### BEGIN SOLUTION
    ### HINT: walk down from the root while the node is not terminal; the first node with an untried
    ### HINT: action is where the four moves happen: expansion, rollout, backup, return the steps.
    node, path = 0, [0]
    while not tree.terminal[node]:
        untried = np.flatnonzero(tree.children[node] < 0)
        if len(untried) > 0:
            action = int(untried[random_index(len(untried))])
            node = mcts.expand(step_fn, tree, node, action)
            path.append(node)
            if tree.terminal[node]:
                mcts.backup(tree, path, 0.0, gamma, bounds)
                return 1
            value, steps = mcts.rollout(step_fn, tree.states[node], depth, gamma, tree.children.shape[1])
            mcts.backup(tree, path, value, gamma, bounds)
            return 1 + steps
        node = mcts.select_child(tree, node, c, gamma, bounds)
        path.append(node)
    mcts.backup(tree, path, 0.0, gamma, bounds)
    return 0
    ### END SOLUTION


exercise_3_passed = checks.check_simulate(simulate)

# %% [markdown]
# The package's version, the one the rest of the notebook runs (compare it with yours):

# %%
print(inspect.getsource(mcts.simulate))

# %% [markdown]
# `mcts.mcts_search` runs `simulate` `n_simulations` times on any step function, a
# neural model included. For the course's perfect simulators the same algorithm also
# runs as one numba-compiled function (`compiled=True`, the default:
# `search_core.uct_simulations`, the one compiled loop every tree search of the course uses);
# it makes the same random draws in the same order, so the two agree exactly (the unit tests check
# this on both models). Here is one search each way, from $s_0$:

# %%
kwargs = dict(n_actions=2, n_simulations=100, depth=20, c=1.0, seed=SEED)
python_search = mcts.mcts_search(sim.cartpole_step, s0, compiled=False, **kwargs)
search = mcts.mcts_search(sim.cartpole_step, s0, **kwargs)
print("visit counts (plain Python):", python_search.visit_counts, "| (compiled):", search.visit_counts)
print("Q values:", np.round(search.q_values, 2), "| root value:", round(search.root_value, 2))
print("act:", CARTPOLE_ACTIONS[search.action], "| nodes:", search.tree.size,
      "| model steps:", search.simulated_steps)

# %%
assert np.array_equal(python_search.visit_counts, search.visit_counts)
assert search.visit_counts.sum() == 100 and search.tree.size == 101 and search.action == 1

# %%
# NBVAL_IGNORE_OUTPUT
for compiled in (False, True):
    start_time = time.perf_counter()
    mcts.mcts_search(sim.cartpole_step, s0, compiled=compiled, **kwargs)
    seconds = time.perf_counter() - start_time
    print(f"compiled={compiled}: {seconds * 1e3:.1f} ms for 100 simulations ({100 / seconds:,.0f} simulations/s)")

# %% [markdown]
# ## 4. What the search built
#
# `mcts_search` returns its statistics in a small typed record, in the spirit of
# `mctx`'s `PolicyOutput`: the chosen action, root visit counts and $Q$ values, the
# root value, the tree itself and the number of model steps the decision cost.

# %%
print(mcts.SearchResult.__doc__)

# %%
fig = tree_plot.search_figure(search, gamma=1.0, action_names=CARTPOLE_ACTIONS,
                              title="UCT on CartPole from $s_0$: 100 simulations, rollout depth 20, c = 1")
plt.show()
depth = search.tree.depth_of()
principal = tree_plot.principal_path(search.tree)
print(f"tree depth: {depth.max()} | most visited path: {len(principal) - 1} steps | "
      f"visits to 'push right': {search.visit_counts[1]} of 100")

# %% [markdown]
# **Takeaway:** the search does not spread evenly: most simulations go down the
# "push right" side, and the tree's deepest line is there, so the best line of play is
# examined several steps ahead while the other is checked just enough to rule it out.

# %%
assert search.visit_counts[1] > 2 * search.visit_counts[0]
assert principal[1] == search.tree.children[0, 1] and len(principal) - 1 == depth.max() >= 4

# %% [markdown]
# ## 5. Try it: simulations, rollout depth and $c$
#
# Move a slider and the callback (`widgets.mcts_tree_figure`, a plain function the
# tests call) re-runs one search from $s_0$ and redraws the tree and the root
# statistics. **simulations** sets how many simulations the search runs (each adds one node);
# **rollout depth** how many random steps each rollout takes after the new node; **c** the
# exploration constant of UCB1 (larger: more weight on rarely tried children). Things to try: 1 simulation (a single path); $c = 0$ (pure
# exploitation: one long spindly branch); $c = 3$ (a bushy, shallow tree); rollout
# depth 1 against 50 with few simulations.

# %%
# NBVAL_IGNORE_OUTPUT
widgets.interactive_figure(
    widgets.mcts_tree_figure,
    n_simulations=ipywidgets.IntSlider(value=100, min=1, max=500, step=1, description="simulations",
                                       continuous_update=False),
    depth=ipywidgets.IntSlider(value=20, min=1, max=50, step=1, description="rollout depth",
                               continuous_update=False),
    c=ipywidgets.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.1, description="c",
                             continuous_update=False),
)

# %% [markdown]
# For readers of the static page, the sliders' default setting (100 simulations, rollout depth 20, $c = 1$):

# %%
fig = widgets.mcts_tree_figure(n_simulations=100, depth=20, c=1.0)
plt.show()

# %% [markdown]
# **Takeaway:** the default view is the search of section 4 (same state, same seed), so
# the sliders start from a picture you have already read.
#
# ## 6. Balancing CartPole with the true model
#
# Now the planners act. At every step of a real CartPole-v1 episode (gymnasium's
# environment, up to 500 steps), the agent searches from the observed state with the
# perfect model and takes the action found; MCTS keeps the chosen subtree. An episode
# of MCTS with 100 simulations and depth 20 costs about 750,000 simulated steps,
# which the compiled search does in about a second.
#
# First the headline setting, 100 simulations per decision and rollout depth 20, on
# ten seeds for both planners, and the same MCTS with rollout depth 50:

# %%
cartpole = gym.make("CartPole-v1")
SEEDS10 = range(10)


def episode_lengths(planner, n_simulations, depth, seeds, **settings):
    # real steps balanced in each seeded episode (500 = the full CartPole-v1 episode)
    episodes = [mcts.run_episode(cartpole, sim.cartpole_step, planner=planner,
                                 n_simulations=n_simulations, depth=depth, seed=seed, **settings)
                for seed in seeds]
    steps = np.array([e.steps for e in episodes])
    per_decision = sum(e.simulated_steps for e in episodes) / steps.sum()
    cart_positions = np.array([e.last_observation[0] for e in episodes])  # m, where each episode ended
    return steps, per_decision, cart_positions


headline = {
    "MCTS, depth 20": episode_lengths("mcts", 100, 20, SEEDS10),
    "flat rollouts, depth 20": episode_lengths("rollout", 100, 20, SEEDS10),
    "MCTS, depth 50": episode_lengths("mcts", 100, 50, SEEDS10),
}
print("100 simulations per decision, c = 1; steps balanced on seeds 0-9 (500 = the full episode)")
for label, (steps, per_decision, _) in headline.items():
    print(f"  {label:<24} {steps}  {np.sum(steps == 500):>2} of 10 full | model steps per decision: {per_decision:,.0f}")
mcts20_steps, _, mcts20_x = headline["MCTS, depth 20"]
print("cart position (m) where the MCTS depth-20 episodes that ended early ended:",
      np.round(mcts20_x[mcts20_steps < 500], 2))

# %%
assert np.all(mcts20_steps[:5] == 500) and np.sum(mcts20_steps == 500) == 7
assert np.all(np.abs(mcts20_x[mcts20_steps < 500]) > 2.39)  # all ran off the edge of the track
assert np.all(headline["flat rollouts, depth 20"][0] == 500)
assert np.all(headline["MCTS, depth 50"][0] == 500)
assert 700_000 < headline["MCTS, depth 20"][1] * 500 < 800_000   # model steps of a 500-step episode

# %% [markdown]
# What the runs show, each fact checked by the `assert` above:
#
# * **MCTS with 100 simulations and rollout depth 20 balanced the full 500 steps on
#   seeds 0-4, but only on 7 of the 10 seeds.** The three failures did not drop the
#   pole from a standing start: each ran the cart off the end of the track
#   ($|x| > 2.4$ m). A 20-step rollout looks 0.4 s ahead, too short to see a slow
#   drift coming, and the tree, which follows the pole's most urgent needs, does not see it either.
# * **With rollouts of depth 50 (1 s ahead), MCTS balanced all 10 seeds.** The fix was
#   more lookahead.
# * **Flat Monte Carlo rollout planning, with the same budget and depth 20, balanced
#   all 10 seeds.** CartPole is forgiving: at almost any state one push is clearly
#   better, and random rollouts see which. A tree buys nothing here.
#
# ### Normalisation, measured
#
# The same search from $s_0$ as in section 4, without normalising $Q$:

# %%
raw = mcts.mcts_search(sim.cartpole_step, s0, n_actions=2, n_simulations=100, depth=20, c=1.0,
                       seed=SEED, normalise=False)
print(f"raw Q: visits {raw.visit_counts}, acts '{CARTPOLE_ACTIONS[raw.action]}', tree depth {raw.tree.depth_of().max()}")
print(f"normalised Q: visits {search.visit_counts}, acts '{CARTPOLE_ACTIONS[search.action]}', tree depth {depth.max()}")

# %%
assert raw.visit_counts.max() >= 95 and raw.action == 0 and raw.tree.depth_of().max() > 3 * depth.max()

# %% [markdown]
# Without normalisation the search put nearly every simulation into "push left",
# the wrong push for a pole leaning right, in one branch over four times as deep:
# with returns up to 21, UCB1's bonus hardly matters and the search commits to
# whatever looked best first. In whole episodes, on seeds 0-4:

# %%
raw_steps, raw_per_decision, _ = episode_lengths("mcts", 100, 20, range(5), normalise=False)
print(f"MCTS, depth 20, raw Q: {raw_steps} | model steps per decision: {raw_per_decision:,.0f}")
print(f"MCTS, depth 20, normalised Q: {mcts20_steps[:5]}")

# %%
assert np.sum(raw_steps < 500) >= 2 and np.all(mcts20_steps[:5] == 500)
assert raw_per_decision < headline["MCTS, depth 20"][1] / 3   # far fewer model steps per decision

# %% [markdown]
# Raw $Q$ dropped the pole early on some of the seeds where normalised $Q$ held 500 steps,
# and used far fewer model steps per decision: many of its simulations run down one thin
# branch into a state where the pole has already fallen, with nothing left to roll out.
# Be careful with the size of this effect, though: over ten seeds, in the benchmark
# (`mbrl_helpers/results/mcts.md`), raw and normalised $Q$ each held 500 steps on 7 of
# 10 at this budget. The search from $s_0$ shows the mechanism; the episode returns
# alone barely separate the two here.
#
# How much budget does each planner need? Episode length against the number of simulations
# (depth 20), and against the rollout depth (100 simulations), three seeds each:

# %%
SEEDS3 = range(3)
SIMULATIONS = (2, 4, 10, 30, 100)
DEPTHS = (1, 3, 10, 20)
PLANNERS = {"MCTS (UCT)": "mcts", "flat rollouts": "rollout"}

by_simulations = {label: np.array([episode_lengths(p, n, 20, SEEDS3)[0] for n in SIMULATIONS])
                  for label, p in PLANNERS.items()}
by_depth = {label: np.array([episode_lengths(p, 100, d, SEEDS3)[0] for d in DEPTHS])
            for label, p in PLANNERS.items()}

print("steps balanced (seeds 0, 1, 2), rollout depth 20")
print("simulations | " + " | ".join(f"{label:<17}" for label in PLANNERS))
for i, n in enumerate(SIMULATIONS):
    print(f"{n:>11} | " + " | ".join(f"{str(by_simulations[label][i]):<17}" for label in PLANNERS))
print("\nsteps balanced (seeds 0, 1, 2), 100 simulations")
print("      depth | " + " | ".join(f"{label:<17}" for label in PLANNERS))
for i, d in enumerate(DEPTHS):
    print(f"{d:>11} | " + " | ".join(f"{str(by_depth[label][i]):<17}" for label in PLANNERS))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
tree_plot.draw_sweep(axes[0], SIMULATIONS, by_simulations, xlabel="simulations per decision (log scale)",
                     title="Rollout depth 20", log_x=True)
tree_plot.draw_sweep(axes[1], DEPTHS, by_depth, xlabel="rollout depth (model steps)",
                     title="100 simulations per decision")
axes[0].set_ylabel("episode length (steps balanced, max 500)")
fig.suptitle("CartPole-v1 with the true model: mean over 3 seeds, bars from min to max")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Takeaway:** with 20-step rollouts both planners balance the pole for most of
# the episode from 10 simulations per decision on (more than 350 steps on every seed)
# and for all 500 steps on all three seeds at 100; in between each drops it early now and
# then, and neither is reliably better: the tree buys nothing here. At depth 1 and 3 flat
# rollouts fail within a dozen steps and MCTS lasts 140 to 481: read on for why, it is not
# what it looks like.

# %%
mcts_short, flat_short = by_depth["MCTS (UCT)"][:2], by_depth["flat rollouts"][:2]
assert np.all(flat_short <= 20) and np.all(mcts_short > 5 * flat_short)  # depth 1 and 3
assert np.all(by_simulations["MCTS (UCT)"][-1] == 500) and np.all(by_simulations["flat rollouts"][-1] == 500)
for label in PLANNERS:
    assert by_simulations[label][2:].min() > 350 and np.all(by_simulations[label][-1] == 500)
    assert by_simulations[label][2:4].min() < 500  # at 10 and 30 simulations: not always 500

# %% [markdown]
# ### Short rollouts: a tie, broken always the same way
#
# Why do flat rollouts of depth 1 and 3 fail within a dozen steps? Not because averaging
# rollouts is a poor method, but because of **ties**. From a state where the pole is still up,
# both actions survive the next 2 (or 4) steps in every rollout, so both estimates are exactly
# 2 (or 4): the rollouts carry no information. Then the tie-breaking rule decides:
# `rollout_planning` takes the lowest action index, "push left", every time, and pushing one way
# without a break topples the pole within a dozen steps. To see that it is the tie, replay the
# same episodes decision by decision, count the decisions whose two estimates tie, and replay
# them once more with ties broken at random (a coin flip instead of "push left"):

# %%
def flat_episode(depth, seed, tie_rng=None):
    """A flat-rollout episode as mcts.run_episode plays it (100 simulations per decision);
    tie_rng: break ties between the two estimates at random with it instead of by lowest index.
    Returns (steps, decisions whose estimates tied, decisions that pushed left)."""
    obs, _ = cartpole.reset(seed=seed)
    seed_numba(seed)                       # as run_episode: seeded once, then one random stream
    steps = ties = lefts = 0
    while True:
        result = mcts.rollout_planning(sim.cartpole_step, obs, n_actions=2, n_simulations=100, depth=depth)
        tie = bool(result.q_values[0] == result.q_values[1])
        action = int(tie_rng.integers(2)) if (tie and tie_rng is not None) else result.action
        obs, _, terminated, truncated, _ = cartpole.step(action)
        steps, ties, lefts = steps + 1, ties + tie, lefts + (action == 0)
        if terminated or truncated:
            return steps, ties, lefts


tie_rng = np.random.default_rng(SEED)
replayed = {d: [flat_episode(d, seed) for seed in SEEDS3] for d in (1, 3)}
coin_flip = {d: np.array([flat_episode(d, seed, tie_rng)[:2] for seed in range(20)]) for d in (1, 3)}
for d in (1, 3):
    print(f"depth {d}: steps {[r[0] for r in replayed[d]]}; decisions whose estimates tied "
          f"{[r[1] for r in replayed[d]]}; pushed left {[r[2] for r in replayed[d]]}")
    steps, ties = coin_flip[d].T
    print(f"         ties broken at random, seeds 0-19: mean {steps.mean():.1f} steps (longest "
          f"{steps.max()}), {ties.sum() / steps.sum():.0%} of the decisions tied")

# %%
for d, depth_index in ((1, 0), (3, 1)):
    assert [r[0] for r in replayed[d]] == by_depth["flat rollouts"][depth_index].tolist()  # the same episodes
    assert sum(r[1] for r in replayed[d]) >= 0.9 * sum(r[0] for r in replayed[d])  # (nearly) every decision tied
    assert all(r[2] == r[1] for r in replayed[d])                  # and every tie went to "push left"
assert all(r[1] == r[0] for r in replayed[1])                      # at depth 1: every single decision
assert np.all(coin_flip[1][:, 1] == coin_flip[1][:, 0]) and 15 < coin_flip[1][:, 0].mean() < 30
assert 40 < coin_flip[3][:, 0].mean() < 80 and coin_flip[3][:, 1].sum() > 0.75 * coin_flip[3][:, 0].sum()
assert coin_flip[3][:, 0].max() < by_depth["MCTS (UCT)"][1].min()   # MCTS at depth 3 still lasts longer

# %% [markdown]
# At depth 1 every decision of the three episodes tied, and every tie went to "push left"; at
# depth 3 all but two did. So the dozen steps measure the tie-breaking rule as much as the
# method. Broken at random, the ties at depth 1 turn the planner into a random policy (every
# decision still ties; about 23 steps on average, as a random policy lasts); at depth 3 a coin
# flip lasts about 59 steps on average, since the few decisions that do not tie, close to a fall,
# are now not drowned by a stream of pushes to the left. Either way the flat planner has almost no
# information to act on: its rollouts are too short to tell the actions apart. MCTS with the same
# short rollouts lasts far longer (140-158 steps at depth 1, 306-481 at depth 3, more than any
# coin-flip episode), because its tree of 100 nodes reaches 7 or more steps deep and sees the fall
# coming: the tree supplies the lookahead the rollouts lack. That is the one place on CartPole
# where the tree clearly pays; with 10 or more rollout steps flat rollouts see enough themselves.
#
# ## 7. Where the tree pays: a sparse reward (the Dyna Maze)
#
# The Dyna Maze of notebook 01 gives reward only at the goal, 14 steps from the start.
# A random rollout rarely gets there, so most rollouts return 0 and say nothing. Here
# MCTS can do what flat rollouts cannot: once any simulation finds the goal, UCB1
# sends further simulations after it, and the tree grows a deep, narrow branch
# towards it, reused from one step to the next. Flat rollouts keep spending their
# budget evenly on blind random walks.
#
# Both planners act in the real maze from its start, with the true model,
# $\gamma = 0.95$, rollout depth 50, $c = 0.5$ (chosen by hand on this maze; larger $c$
# explores more and needs more simulations), eight seeds, and an episode cut off after
# 100 steps:

# %%
maze_env = GridMaze(DYNA_MAZE_LAYOUT)
SEEDS8 = range(8)
MAZE_BUDGETS = (300, 1000, 3000, 10000)


def maze_episodes(planner, n_simulations, depth, seeds):
    episodes = [mcts.run_episode(maze_env, maze_model, planner=planner, n_simulations=n_simulations,
                                 depth=depth, gamma=0.95, c=0.5, seed=seed, max_steps=100)
                for seed in seeds]
    return np.array([e.steps for e in episodes]), np.array([e.simulated_steps for e in episodes])


maze_results = {(label, n): maze_episodes(p, n, 50, SEEDS8) for label, p in PLANNERS.items()
                for n in MAZE_BUDGETS}
print(f"Dyna Maze, first episode, no learning (shortest path {maze.shortest_path_length()} steps); rollout depth 50")
print(f"{'planner':<14} {'simulations':>11} | steps to the goal, seeds 0-7   | 14-step paths | model steps per episode")
for (label, n), (steps, simulated) in maze_results.items():
    print(f"{label:<14} {n:>11} | {str(steps):<30} | {np.sum(steps == 14):>7} of 8  | {simulated.mean():>12,.0f}")

# %%
fig, ax = plt.subplots(figsize=(7, 4))
tree_plot.draw_sweep(ax, MAZE_BUDGETS, {label: np.array([maze_results[label, n][0] for n in MAZE_BUDGETS])
                                         for label in PLANNERS},
                     xlabel="simulations per decision (log scale)", title="Dyna Maze: first episode, rollout depth 50 (bars: min to max)",
                     log_x=True)
ax.axhline(14, color="#777777", linewidth=1, linestyle=(0, (2, 2)))
ax.annotate("shortest path: 14 steps", xy=(0.01, 14), xycoords=("axes fraction", "data"), ha="left",
            va="bottom", fontsize=8, color="#555555")
ax.set_ylabel("steps to the goal (mean over 8 seeds)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Takeaway:** on a sparse reward MCTS reaches the goal in fewer steps than flat
# rollouts at every budget up to 3,000 simulations, for roughly half the simulated
# steps; with 10,000 simulations both come close to the shortest path (MCTS still
# with fewer than half the simulated steps).

# %%
for n in MAZE_BUDGETS[:3]:
    tree_steps, tree_cost = maze_results["MCTS (UCT)", n]
    flat_steps, flat_cost = maze_results["flat rollouts", n]
    assert tree_steps.mean() < flat_steps.mean() and tree_cost.mean() < 0.6 * flat_cost.mean()
best_steps, best_cost = maze_results["MCTS (UCT)", 10000]
assert np.sum(best_steps == 14) >= 6 and best_steps.max() <= 16 and best_steps.mean() < 15
assert 2.7e6 < best_cost.mean() < 2.9e6 and 1.5e5 < best_cost.mean() / best_steps.mean() < 2.5e5
flat_best_steps, flat_best_cost = maze_results["flat rollouts", 10000]
assert flat_best_steps.max() <= 16 and best_cost.mean() < 0.5 * flat_best_cost.mean()

# %% [markdown]
# **The 14-step path without learning.** With 10,000 simulations per decision, MCTS
# walks the 14-step shortest path in its *very first* episode on most seeds (the
# others take 15 or 16 steps), having learned nothing at all. Dyna-Q (notebook 01)
# needs a few episodes of real experience for that. The price is compute: about
# 2.8 million simulated steps for one episode, some 200,000 per real step, paid
# again at every decision, because nothing is remembered beyond the reused subtree.
# And the search only finds the *best* path most of the time: the values are means of
# noisy random rollouts, and an occasional detour (a step into a wall) costs a step.
#
# Where the tree does **not** pay, said plainly:
#
# * on CartPole with 20-step rollouts (section 6), flat rollouts are as good, and cheaper per simulation;
# * when the reward is out of reach of everything the search can build: with rollout
#   depth 10 and 1,000 simulations per decision, neither planner reaches the maze's
#   goal in 100 steps:

# %%
short = {label: maze_episodes(p, 1000, 10, range(3))[0] for label, p in PLANNERS.items()}
print("rollout depth 10, 1000 simulations, seeds 0-2: steps (100 = never reached the goal)")
for label, steps in short.items():
    print(f"  {label:<14} {steps}")

# %%
assert all(np.all(steps == 100) for steps in short.values())

# %% [markdown]
# ## 8. MCTS's advantages and challenges, in numbers
#
# **Lookahead depth (advantage).** A search looks as far as its tree plus its rollouts.
# The tree deepens as simulations are added, far faster along the best line than
# elsewhere. From $s_0$, rollout depth 20:

# %%
print("simulations | nodes | deepest node | most visited path | model steps")
lookahead = {}
for n in (10, 100, 1000, 5000):
    result = mcts.mcts_search(sim.cartpole_step, s0, n_actions=2, n_simulations=n, depth=20, seed=SEED)
    lookahead[n] = int(result.tree.depth_of().max())
    print(f"{n:>11} | {result.tree.size:>5} | {lookahead[n]:>12} | {len(tree_plot.principal_path(result.tree)) - 1:>17}"
          f" | {result.simulated_steps:>11,}")

# %%
assert lookahead[10] < lookahead[100] < lookahead[1000] < lookahead[5000] and lookahead[5000] > 2 * 12

# %% [markdown]
# A balanced binary tree of 5,000 nodes would be 12 levels deep; UCT's is much
# deeper because it follows the promising line.
#
# **Variance of value estimates (challenge).** Each estimate is a mean of random
# returns. Longer rollouts see further but add more randomness. The spread of flat
# rollout planning's $\hat Q(s_0, \text{push right})$ over 30 seeds, 100 simulations each:

# %%
print("rollout depth | mean Q(s0, push right) | std over 30 seeds | std / mean")
spread = {}
for d in (5, 20, 50):
    q = np.array([mcts.rollout_planning(sim.cartpole_step, s0, n_actions=2, n_simulations=100, depth=d,
                                        seed=seed).q_values[1] for seed in range(30)])
    spread[d] = q.std()
    print(f"{d:>13} | {q.mean():>22.2f} | {q.std():>17.2f} | {q.std() / q.mean():>10.3f}")

# %%
assert spread[5] == 0 < spread[20] < spread[50]

# %% [markdown]
# The standard deviation grows with the rollout depth: deeper rollouts are noisier
# (the random policy's fate diverges with every step), so a longer lookahead needs
# more simulations to be estimated as precisely. At depth 5 the spread is zero, but
# so is the information: every rollout survives, and both actions score exactly 6.
#
# **Compute per decision (challenge).** Every decision re-plans. At 100 simulations
# and depth 20, one CartPole decision costs about 1,500 model steps (section 6), and
# the maze's 14-step episode about 200,000 per step. Against the real environment's
# one step per decision this is the price of planning at decision time; whether it is
# affordable depends on how fast the model is. On this machine (timings vary by
# machine and load):

# %%
# NBVAL_IGNORE_OUTPUT
for label, compiled in (("plain Python search, numpy model", False), ("compiled search, compiled model", True)):
    start_time = time.perf_counter()
    mcts.mcts_search(sim.cartpole_step, s0, n_actions=2, n_simulations=200, depth=20, seed=SEED, compiled=compiled)
    seconds = (time.perf_counter() - start_time) / 2
    print(f"{label:<34}: {seconds * 1e3:7.2f} ms per 100 simulations x depth 20")

# %% [markdown]
# A learned neural model (notebook 07) cannot use the compiled path: each of the
# roughly 1,500 model calls of such a decision becomes a network evaluation, about
# 20 microseconds for a single state on a laptop CPU, on top of the plain Python
# search. Evaluating many leaves in one batch is what makes search with networks affordable.
#
# ## Summary
#
# * A model is a step function `(states, actions) -> (next_states, rewards, terminated)`;
#   the CartPole and maze simulators behind it agree with the real environments exactly.
# * **Rollout planning** averages random rollouts per action and acts greedily. **UCT**
#   grows a tree: select by UCB1 $\bar q + c\sqrt{\ln N / n}$, expand one node, roll out,
#   back up $G_i = r_{i+1} + \gamma G_{i+1}$; act by most visits; keep the subtree.
# * UCB1 assumes values in $[0, 1]$: **normalise** (min-max over the tree). Without it,
#   the search from a leaning pole put 99 of 100 simulations into the wrong push.
# * **Lookahead decides CartPole**: MCTS at 100 simulations balanced 7 of 10 episodes with
#   20-step rollouts (the others drifted off the track) and 10 of 10 with 50-step rollouts.
# * On CartPole, **flat rollouts do as well or better** than the tree at the same budget. With
#   rollouts too short to see the pole fall (depth 1-3) every flat estimate ties and the
#   tie-break (always "push left") decides, so flat rollouts fail; the tree pays there, by
#   looking deeper than its rollouts, and on the
#   **sparse-reward maze**, where it reached the goal faster for fewer simulated steps
#   and found the 14-step path in its first episode on most seeds, without learning.
# * The costs are real: variance that grows with rollout depth, and hundreds to
#   hundreds of thousands of model steps **per decision**, paid again at every step.
#
# Next, notebook 07 replaces the perfect simulator by learned models, and shows how
# model error limits how deep a search can usefully look.
