"""Every module in tests/dual runs on CPython (collected by pytest as usual) AND here on the MicroPython unix port.

Dual tests use plain functions and `assert` only (no fixtures), so the same file proves the same behaviour on
both runtimes.
"""

import pytest

from tests.support.micropython import REPO, run_micropython

DUAL = sorted(p.stem for p in (REPO / "tests" / "dual").glob("test_*.py"))


@pytest.mark.parametrize("module", DUAL)
def test_dual_module_passes_on_micropython(module):
    result = run_micropython(REPO / "tests" / "support" / "mprun.py", [f"tests.dual.{module}"], heap="256k")
    lines = result.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("SUMMARY"), result.stdout + result.stderr
    _, passed, failed = lines[-1].split()
    failures = [line for line in lines if line.startswith("FAIL")]
    assert int(failed) == 0, "\n".join(failures) + "\n" + result.stdout[-4000:]
    assert int(passed) > 0, "no test ran on MicroPython in " + module
