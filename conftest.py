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


# tests/test_any_cpu.py's notebook-level check runs nbval over every notebook in a process of its
# own: start it as soon as the tests are collected, so it uses the second core while the rest of
# the suite runs, wait for it last, and stop it whatever happens to the session.
FOREIGN_CPU_TEST = "test_every_notebook_reproduces_its_stored_outputs_on_another_cpu"


def pytest_collection_modifyitems(items):
    # Its verdict is read last, when the background run has had the whole suite's time.
    waiting = [item for item in items if item.name == FOREIGN_CPU_TEST]
    items[:] = [item for item in items if item.name != FOREIGN_CPU_TEST] + waiting


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    for item in session.items:
        if item.name == FOREIGN_CPU_TEST:
            item.module.start_in_background()
            return


def pytest_sessionfinish(session):
    for item in session.items:
        if item.name == FOREIGN_CPU_TEST:
            for run in item.module.BACKGROUND:
                run.stop()
            return
