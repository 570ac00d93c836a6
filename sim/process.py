"""Ending the simulators' child processes the same way everywhere: SIGTERM, a grace period, then SIGKILL."""
import subprocess


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
