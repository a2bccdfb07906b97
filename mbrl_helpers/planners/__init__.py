"""Planners: search or optimise with any model through the one step-function interface.

    search_core       the one compiled UCT loop (trees and models as typed records)
    search_reference  UCT and single-leaf PUCT in plain Python, read like the book's pseudocode
    mcts              Monte Carlo rollout planning and UCT (what the lessons call)
    puct              PUCT with priors and batched leaf evaluation (AlphaZero style)
    mpc               model-predictive control: random shooting and the cross-entropy method
"""
