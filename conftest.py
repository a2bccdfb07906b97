"""pytest set-up shared by unit tests and nbval.

The notebook kernels nbval starts inherit this process's environment, so the
variables that make stored outputs reproducible are set here too (course.py
sets them as well), in case pytest is run directly.
"""

import os

import matplotlib

from course import TEST_ENV

for name, value in TEST_ENV.items():
    os.environ.setdefault(name, value)

# The kernels draw with the inline backend (from the environment); the unit
# tests in this process draw off-screen.
matplotlib.use("Agg")
