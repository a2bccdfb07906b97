"""Agents: act and learn in an environment, and plan with a model or a planner.

    kinds             the agent kinds (an enum) the tabular runners take
    tabular           Dyna-Q and its pieces (numba-compiled)
    dyna_q_reference  the same Dyna-Q in plain Python (the benchmarks' speed reference)
    sweeping          prioritized sweeping
    dyna_q_plus       Dyna-Q+ for a changing world
    dyna_mcts         MCTS as Dyna's planning component, on the agent's tabular model
    dqn               a compact DQN (the model-free control)
    imagined          DQN on model-generated experience: simple MBRL and Dyna-style DQN
    alphazero         an AlphaZero-style agent on CartPole with a learned model
    learned_mcts      tree search on a learned CartPole ensemble, with a disagreement guard
"""
