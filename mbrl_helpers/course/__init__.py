"""Course support: what the notebooks use beside the algorithms.

    checks     self-checks for the exercises, one module per lesson
    widgets    the plain callbacks behind the notebooks' sliders
    plots, mpc_plots, tree_plot   figures
    summary    the overview table of measured results, read from mbrl_helpers.results
"""
