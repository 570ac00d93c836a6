"""A simulated wearable: the real firmware on the real MicroPython interpreter (unix port, limited heap, code
compiled with mpy-cross), with its peripherals played by this object: a button and a vibration motor on a
control pty, a GPS streaming NMEA on another pty, and the modem UART on the GSM network's simulated modem.

This object is the wearer's physical world: press(), battery, what the motor did (vibrations, motor edges)."""
import json
import os
import subprocess
import tempfile
import threading
import time
import tty
from pathlib import Path

from hub.sim.gps import NMEAFeeder
from hub.sim.mpy import REPO, compile_tree, micropython_binary

# Bytecode loaded from .mpy files lives in the heap: about 140 kB for the whole firmware today (frozen into the
# firmware image it would live in flash instead). 256 kB is what an ESP32 without PSRAM leaves to Python; the
# RP2040's ~190 kB needs the modules frozen (docs/installer-guide.md). Tests also run it with less.
DEFAULT_HEAP = "256k"


class _Pty:
    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def close(self):
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class SimulatedWearable:
    def __init__(self, device_id, config, modem_pty, timeline=None, position=(13.4317, -6.2157),
                 gps_fix_after_s=3, heap=DEFAULT_HEAP, workdir=None, on_pwrkey=None, mpy_dir=None):
        """config: the firmware's config.json content (dict). timeline: hub.timeline.Timeline or None."""
        self.device_id = device_id
        self.config = dict(config)
        self.modem_pty = modem_pty
        self.timeline = timeline
        self.position = position
        self.gps_fix_after_s = gps_fix_after_s
        self.heap = heap
        self.workdir = Path(workdir) if workdir else None
        self.on_pwrkey = on_pwrkey
        self.mpy_dir = Path(mpy_dir) if mpy_dir else REPO / "build" / "mpy"
        self.logs = []          # firmware hops (dicts with "t")
        self.motor = []         # (t, on)
        self.output = []        # every line the firmware printed
        self._cond = threading.Condition()
        self._process = None
        self._threads = []
        self._stop = threading.Event()
        self._tmp = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self):
        errors = compile_tree(self.mpy_dir)
        if errors:
            raise RuntimeError("firmware does not compile: %s" % errors)
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"deme-{self.device_id}-")
            self.workdir = Path(self._tmp.name)
        self.flash_dir = self.workdir / "flash"
        self.flash_dir.mkdir(parents=True, exist_ok=True)
        (self.flash_dir / "config.json").write_text(json.dumps(self.config))
        self._control = _Pty()
        self._gps = _Pty()
        self._launch()
        self._spawn(self._read_control, "control")
        self._spawn(self._feed_gps, "gps")
        return self

    def _launch(self):
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:" + str(self.mpy_dir)
        cmd = [micropython_binary(), "-X", f"heapsize={self.heap}", "-m", "firmware.sim_main",
               self._control.path, self.modem_pty, self._gps.path, str(self.flash_dir)]
        self._process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                         cwd=self.workdir)
        self._spawn(self._read_output, "output")

    def stop(self):
        self._stop.set()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for pty in (getattr(self, "_control", None), getattr(self, "_gps", None)):
            if pty is not None:
                pty.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def power_cut(self):
        """Pull the battery: kill -9 the firmware, then boot it again on the same flash."""
        self._process.kill()
        self._process.wait()
        self._launch()

    @property
    def running(self):
        return self._process is not None and self._process.poll() is None

    def _spawn(self, target, name):
        thread = threading.Thread(target=target, name=f"{self.device_id}-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- the wearer's actions ------------------------------------------------------------------------------
    def hold(self, seconds):
        """Press the button for `seconds`, then release (blocks for that time)."""
        self._send_control("btn 1")
        self._record("sim.button", state="down", hold_s=seconds)
        time.sleep(seconds)
        self._send_control("btn 0")
        self._record("sim.button", state="up")

    def press(self, hold_s=2.5):
        """A long press: the SOS gesture."""
        self.hold(hold_s)

    def tap(self, count, interval_s=0.25):
        """`count` short presses: a press pattern (incident category)."""
        for _ in range(count):
            self._send_control("btn 1")
            time.sleep(0.12)
            self._send_control("btn 0")
            time.sleep(interval_s)

    def set_battery(self, percent):
        self._send_control(f"bat {int(percent)}")

    def _send_control(self, line):
        os.write(self._control.master, line.encode() + b"\n")

    # -- what happened ---------------------------------------------------------------------------------------
    def wait_for(self, hop, timeout=60.0, **match):
        """Block until the firmware logged `hop` with these fields; returns the entry or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for entry in self.logs:
                    if entry.get("hop") == hop and all(entry.get(k) == v for k, v in match.items()):
                        return entry
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.running and not self._process_output_pending():
                    tail = "\n".join(self.output[-30:])
                    raise TimeoutError(f"{self.device_id}: no {hop} {match} within {timeout} s. Firmware said:\n"
                                       f"{tail}")
                self._cond.wait(min(remaining, 0.5))

    def _process_output_pending(self):
        return any(t.name.endswith("output") and t.is_alive() for t in self._threads)

    def felt(self, pattern):
        return [e for e in self.logs if e.get("hop") == "fw.vibrate" and e.get("pattern") == pattern]

    # -- threads ---------------------------------------------------------------------------------------------
    def _record(self, hop, **detail):
        entry = {"t": time.time(), "hop": hop, "device": self.device_id, **detail}
        if self.timeline is not None:
            self.timeline.record(hop, device=self.device_id, **detail)
        return entry

    def _read_output(self):
        stream = self._process.stdout
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            now = time.time()
            with self._cond:
                self.output.append(line)
                if line.startswith("@@ "):
                    try:
                        entry = json.loads(line[3:])
                    except ValueError:
                        entry = {"hop": "fw.unparsed", "line": line}
                    entry["t"] = now
                    self.logs.append(entry)
                    if self.timeline is not None:
                        detail = {k: v for k, v in entry.items() if k not in ("t", "hop", "device")}
                        self.timeline.record(entry["hop"], device=self.device_id, **detail)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _read_control(self):
        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = os.read(self._control.master, 256)
            except OSError:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                self._on_control(line.decode("ascii", "replace").strip())

    def _on_control(self, line):
        now = time.time()
        if line.startswith("motor "):
            with self._cond:
                self.motor.append((now, line.endswith("1")))
        elif line == "pwrkey":
            self._record("sim.pwrkey")
            if self.on_pwrkey is not None:
                try:
                    self.on_pwrkey(self.device_id)
                except Exception as exc:  # the simulator must outlive a failing callback
                    self._record("sim.pwrkey_failed", error=str(exc))

    def _feed_gps(self):
        feeder = NMEAFeeder(lat=self.position[0], lon=self.position[1], fix_after_s=self.gps_fix_after_s,
                            start_utc=int(time.time()))

        def write(data):
            try:
                os.write(self._gps.master, data)
            except OSError:
                self._stop.set()

        feeder.run_to(write, self._stop)
