"""Run code on the real MicroPython interpreter (the unix port) with a limited heap, as on a microcontroller."""
import os
import subprocess
from pathlib import Path

from tools.mpy import micropython_binary  # noqa: F401  (re-exported for tests)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_HEAP = "64k"


def micropython_env(extra_path=()):
    env = dict(os.environ)
    # .frozen holds the frozen asyncio package; the repo root makes `drivers` and `firmware` importable.
    env["MICROPYPATH"] = ":".join([".frozen", str(REPO), *map(str, extra_path)])
    return env


def run_micropython(script, args=(), heap=DEFAULT_HEAP, timeout=120, cwd=None, extra_path=()):
    """Run a script file on MicroPython; returns the CompletedProcess (stdout and stderr as text)."""
    cmd = [micropython_binary(), "-X", f"heapsize={heap}", str(script), *map(str, args)]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd or REPO, env=micropython_env(extra_path)
    )


def popen_micropython(script, args=(), heap=DEFAULT_HEAP, extra_path=(), **kwargs):
    cmd = [micropython_binary(), "-X", f"heapsize={heap}", str(script), *map(str, args)]
    return subprocess.Popen(cmd, cwd=kwargs.pop("cwd", REPO), env=micropython_env(extra_path), **kwargs)
