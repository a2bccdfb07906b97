"""pytest set-up shared by unit tests and nbval.

The notebook kernels nbval starts inherit this process's environment, so the
variables that make stored outputs reproducible are set here too (course.py
sets them as well), in case pytest is run directly.
"""

import os
import sys

import matplotlib

from course import TEST_ENV

for name, value in TEST_ENV.items():
    os.environ.setdefault(name, value)

# The kernels draw with the inline backend (from the environment); the unit
# tests in this process draw off-screen.
matplotlib.use("Agg")

# The browser test skips itself outside CI when no usable Chromium is found (tests/browser_lab.py
# starts its skip reason with this). A skip is easy to miss among dots: say it again, last.
NO_BROWSER_TEST = "NO BROWSER TEST"


def pytest_terminal_summary(terminalreporter):
    reasons = {str(report.longrepr[2]).removeprefix("Skipped: ")
               for report in terminalreporter.stats.get("skipped", [])
               if isinstance(report.longrepr, tuple) and NO_BROWSER_TEST in str(report.longrepr[2])}
    if reasons:
        terminalreporter.section("the browser test did not run", sep="!", red=True, bold=True)
        for reason in sorted(reasons):
            terminalreporter.write_line(reason, red=True, bold=True)


# tests/background_run.py runs the notebooks, each run in a process of its own, for the tests
# marked background_notebooks("instructor" or "student"): start the runs those tests need as soon
# as the tests are collected, so that they use the second core while the rest of the suite runs;
# read them last; stop them whatever happens to the session.
BACKGROUND = "background_notebooks"


def pytest_configure(config):
    config.addinivalue_line("markers", f"{BACKGROUND}(kind): reads the session's background run of that "
                            "kind (tests/background_run.py); such tests run last")


def pytest_collection_modifyitems(items):
    waiting = [item for item in items if item.get_closest_marker(BACKGROUND)]
    items[:] = [item for item in items if not item.get_closest_marker(BACKGROUND)] + waiting


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    kinds = sorted({item.get_closest_marker(BACKGROUND).args[0] for item in session.items
                    if item.get_closest_marker(BACKGROUND)})
    if kinds:
        import background_run  # tests/ is on the path once a test module from there is collected

        for kind in kinds:
            background_run.start(kind)


def pytest_sessionfinish(session):
    background_run = sys.modules.get("background_run")
    if background_run is not None:
        background_run.stop()
