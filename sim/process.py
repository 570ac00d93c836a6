"""The simulators' child processes, started and ended the same way everywhere: `spawn` starts a child that dies
with the process that started it (however that one ends: Ctrl-C, a closed terminal, kill -9), `stop_process`
ends one with SIGTERM, a grace period, then SIGKILL."""
import os
import signal
import subprocess
import sys

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _death_signal_setter():
    """A preexec_fn that has the kernel send SIGKILL to the child when its parent dies (Linux prctl
    PR_SET_PDEATHSIG), or None where there is no such call. SIGKILL, not SIGTERM: with its parent gone nobody
    would escalate, and a child whose orderly stop waits on a sibling that is dying too (the hub on its modem's
    network, on Mosquitto) could linger. Everything the child needs is looked up here, before the fork: between
    fork and exec the child only makes the prctl call."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    getppid = os.getppid
    kill = os.kill
    getpid = os.getpid

    def die_with_parent():
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if getppid() != parent:  # the parent died before the call took effect: nobody would signal us
            kill(getpid(), signal.SIGKILL)

    return die_with_parent


def spawn(cmd, **popen_kwargs):
    """subprocess.Popen(cmd, **popen_kwargs) for a child that must not outlive this process (Mosquitto, the hub,
    the network, the MicroPython wearables): on Linux the kernel kills it when this process dies, even by SIGKILL
    (an orderly stop is stop_process's job, while this process lives). The kernel follows the death of the
    *thread* that spawned it, so spawn from the main thread or from a thread that lives as long as the child."""
    return subprocess.Popen(cmd, preexec_fn=_death_signal_setter(), **popen_kwargs)


def stop_process(process, grace_s=5):
    """Ask a child to stop and wait for it; kill it if it is still there after grace_s. Safe if it already ended."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
