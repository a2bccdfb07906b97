"""Learned models: real transitions, and the neural dynamics models fitted to them.

    data    real transitions from any gymnasium environment
    models  neural dynamics models and ensembles (torch), behind the step-function interface
"""
