"""pytest set-up shared by unit tests and nbval.

The notebook kernels nbval starts inherit this process's environment, so the
variables that make stored outputs reproducible are set here too (course.py
sets them as well), in case pytest is run directly.
"""

import os

for name, value in {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TQDM_DISABLE": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
}.items():
    os.environ.setdefault(name, value)
