"""A private Mosquitto broker on a free loopback port, configured like production: no anonymous access,
per-device credentials and ACLs, and queues that cannot drop alerts.

Used by `make demo` and the tests. The configuration is the one shipped for a Pi, hub/platform/mosquitto.conf.in
(and its ACL, mosquitto.acl.in), rendered with a plain loopback listener instead of the Pi's TLS one.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sim.process import spawn, stop_process

PLATFORM = Path(__file__).resolve().parents[1] / "hub" / "platform"
# The hub's shipped broker configuration and ACL: rendered here with a loopback listener and this run's files.
CONFIG_TEMPLATE = PLATFORM / "mosquitto.conf.in"
ACL_TEMPLATE = PLATFORM / "mosquitto.acl.in"


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MosquittoBroker:
    """start() launches mosquitto with generated credentials; stop() ends it. `users` maps name -> password;
    `hub_users` are the names given the whole tree (hubs and the test observer)."""

    def __init__(self, users, hub_users, host="127.0.0.1", port=None, workdir=None, binary=None):
        self.users = dict(users)
        self.hub_users = tuple(hub_users)
        self.host = host
        self.port = port
        self.workdir = Path(workdir).resolve() if workdir else None
        self.binary = binary or shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._process = None
        self._tmp = None

    def start(self, timeout_s=10):
        if not Path(self.binary).exists():
            raise RuntimeError("mosquitto not found: run `make setup` (Debian package mosquitto)")
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="deme-mosquitto-")
            self.workdir = Path(self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        password_file = self.workdir / "passwords"
        password_file.write_text("")
        passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        for name, password in self.users.items():
            subprocess.run([passwd, "-b", str(password_file), name, password], check=True,
                           capture_output=True)
        os.chmod(password_file, 0o600)
        acl_file = self.workdir / "acl"
        acl_file.write_text(ACL_TEMPLATE.read_text().format(
            hub_users="\n".join(f"user {name}\ntopic readwrite deme/v1/#" for name in self.hub_users)))
        os.chmod(acl_file, 0o600)
        data_dir = self.workdir / "data"
        data_dir.mkdir(exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        # Run as whoever started it (as root, mosquitto would switch to user "mosquitto" and lose these files).
        conf.write_text(CONFIG_TEMPLATE.read_text().format(
            user=pwd.getpwuid(os.getuid()).pw_name, password_file=password_file, acl_file=acl_file,
            listeners=f"listener {self.port} {self.host}", data_dir=data_dir, log_dest="stderr"))
        self._conf = conf
        return self._launch(timeout_s)

    def _launch(self, timeout_s):
        self._log = open(self.workdir / "mosquitto.log", "ab")
        # spawn: Mosquitto ends with whoever started it (it takes SIGHUP for "reload", so a closed terminal alone
        # would leave it running)
        self._process = spawn([self.binary, "-c", str(self._conf)], stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("mosquitto exited: " + (self.workdir / "mosquitto.log").read_text()[-2000:])
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.host}:{self.port} within {timeout_s} s")

    @property
    def persistence_file(self):
        return self.workdir / "data" / "mosquitto.db"

    def save(self, timeout_s=10):
        """Make Mosquitto write its persistence file now (SIGUSR1) and wait until it has: what it holds then
        survives a kill."""
        before = self.persistence_file.stat().st_mtime_ns if self.persistence_file.exists() else None
        self._process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.persistence_file.exists() and self.persistence_file.stat().st_mtime_ns != before:
                return
            time.sleep(0.02)
        raise RuntimeError(f"mosquitto did not write {self.persistence_file} within {timeout_s} s")

    def kill(self):
        """SIGKILL, as a power cut or the OOM killer would: whatever arrived since the last save is lost."""
        self._process.kill()
        self._process.wait()
        self._process = None
        self._log.close()

    def restart(self, timeout_s=10):
        """Start again on the same port, files and persistence (after kill())."""
        return self._launch(timeout_s)

    def stop(self):
        if self._process is not None:
            stop_process(self._process)
            self._process = None
            self._log.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
