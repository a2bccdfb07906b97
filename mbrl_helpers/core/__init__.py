"""Foundation: what every layer above may use.

    validation       argument checks with clear messages
    compiled         numba's compile switch and the checks around compiled kernels
    numba_tools      random draws, row maxima and generator states inside compiled loops
    reproducibility  torch's CPU kernels fixed on import, seeding: the same numbers on every CPU
    curves           learning curves put on a common grid of real steps
"""
