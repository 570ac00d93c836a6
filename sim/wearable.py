"""A simulated wearable: the real firmware on the real MicroPython interpreter (unix port, limited heap, code
compiled with mpy-cross), with its peripherals played by this object: a button and a vibration motor on a
control pty, a GPS streaming NMEA on another pty, and the modem UART on the GSM network's simulated modem.

This object is the wearer's physical world: press(), battery, what the motor did (vibrations, motor edges), and
how the wearer moves: the firmware's simulated accelerometer (a LIS3DH on a simulated I2C bus, sim/chips/)
gets 100 samples a second over the control pty ("imu x,y,z;..." lines of 10 samples every 100 ms), at rest by
default; shake(), fall(), walk() and jog() replace the rest stream for their duration (motion models below)."""
import json
import math
import os
import random
import select
import subprocess
import tempfile
import threading
import time
import tty
from pathlib import Path
from typing import NamedTuple

from drivers.compat import ticks_diff  # wraps as MicroPython's ticks do, so it reads the firmware's ms
from sim.gps import NMEAFeeder
from sim.motion import DEVICE_RANGE_G, DEVICE_RATE_HZ
from sim.process import spawn, stop_process
from tools.mpy import REPO, compile_tree, micropython_binary


class MotorEdge(NamedTuple):
    t: float    # time.time() when the simulator read it
    on: bool
    ms: int     # the firmware's ticks_ms at the edge: orders edges against the firmware's log lines

# Bytecode loaded from .mpy files lives in the heap (frozen into the firmware image it would live in flash). This
# unix port is 64-bit: every object and pointer is about twice its size on the 32-bit RP2040 and ESP32. The
# firmware with its power manager, the RTC driver and the simulated RTC no longer fits 256 kB here (MemoryError
# after the modem came up); 320 kB leaves room (docs/motion-firmware.md gives the figures). On the device the modules
# are frozen into flash, so their bytecode costs no heap there; freezing them is required for the Pico.
DEFAULT_HEAP = "320k"

# The wearable upright (pendant or belt clip, y up): the accelerometer reads -1 g on y, as in sim.motion's wear
# positions and drivers/fall.py's `upright` example.
UPRIGHT = (0, -1000, 0)
LYING = (0, 0, 1000)  # on the back: gravity along z
IMU_BATCH = 10  # samples per control line: one line every 100 ms at 100 Hz
_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}
_RANGE_MG = DEVICE_RANGE_G * 1000


def _clip(v):
    v = int(round(v))
    return _RANGE_MG if v > _RANGE_MG else -_RANGE_MG if v < -_RANGE_MG else v


def rest_samples(rng, n, gravity=UPRIGHT, noise_mg=12):
    """Still: gravity on one axis and sensor noise."""
    return [tuple(_clip(g + rng.gauss(0, noise_mg)) for g in gravity) for _ in range(n)]


def shake_samples(rng, seconds=2.0, freq_hz=4.0, amplitude_mg=2500, axis="x", gravity=UPRIGHT,
                  rate_hz=DEVICE_RATE_HZ):
    """A hand shaking the device back and forth along `axis` ("x", "y", "z" or a vector): half-cycles of
    1/(2 freq_hz) s jittered +-8 % in length and +-10 % in strength, the first one at 60 % (the hand starts), on
    top of gravity and 20 mg noise. "y" is along gravity when upright (docs/triggers.md: how the detector treats
    vertical swings)."""
    direction = _AXES[axis] if isinstance(axis, str) else tuple(axis)
    norm = math.sqrt(sum(c * c for c in direction)) or 1.0
    direction = [c / norm for c in direction]
    n = int(seconds * rate_hz)
    dyn = []
    sign = 1.0
    while len(dyn) < n:
        length = max(2, int(round(rate_hz / (2 * freq_hz) * rng.uniform(0.92, 1.08))))
        strength = amplitude_mg * rng.uniform(0.9, 1.1) * (0.6 if not dyn else 1.0)
        dyn += [sign * strength * math.sin(math.pi * (j + 0.5) / length) for j in range(length)]
        sign = -sign
    return [tuple(_clip(gravity[c] + a * direction[c] + rng.gauss(0, 20)) for c in range(3)) for a in dyn[:n]]


def gait_samples(rng, seconds, cadence_hz, impact_mg, sway_mg, surge_mg, rate_hz=DEVICE_RATE_HZ):
    """Walking or jogging, device on the trunk, upright: each step is a heel strike (a short vertical peak of
    impact_mg over gravity) followed by the push-off dip, the trunk sways sideways once per stride (two steps)
    and surges forward-back once per step; cadence and strength vary a little from step to step, with 30 mg of
    noise. The first step ramps up from standing."""
    n = int(seconds * rate_hz)
    out = []
    phase = 0.0
    stride = 0.0
    step_gain = 0.5
    step_rate = cadence_hz
    for _ in range(n):
        ph = phase % 1.0
        heel = impact_mg * step_gain * math.exp(-((ph - 0.12) ** 2) / 0.003)
        vertical = heel - 0.3 * impact_mg * step_gain * math.sin(2 * math.pi * ph)
        x = sway_mg * math.sin(math.pi * stride) + rng.gauss(0, 30)
        y = UPRIGHT[1] - vertical + rng.gauss(0, 30)
        z = surge_mg * step_gain * math.sin(2 * math.pi * ph + 1.0) + rng.gauss(0, 30)
        out.append((_clip(x), _clip(y), _clip(z)))
        phase += step_rate / rate_hz
        stride = (stride + step_rate / rate_hz) % 2.0
        if phase >= 1.0:  # a new step: slightly different
            phase -= 1.0
            step_gain = min(1.0, step_gain + 0.5) * rng.uniform(0.9, 1.1)
            step_rate = cadence_hz * rng.uniform(0.95, 1.05)
    return out


def walk_samples(rng, seconds):
    return gait_samples(rng, seconds, cadence_hz=1.8, impact_mg=700, sway_mg=150, surge_mg=200)


def jog_samples(rng, seconds):
    return gait_samples(rng, seconds, cadence_hz=2.8, impact_mg=2200, sway_mg=350, surge_mg=600)


def fall_samples(rng, lie_s=8.0, rate_hz=DEVICE_RATE_HZ):
    """A fall backwards from standing: 0.4 s of falling (the reading drops towards 0 g while the body turns from
    upright to lying), the impact (about 3.6 g for 30 ms, a bounce), lying still on the back for lie_s, then
    getting up slowly (1.5 s) to upright."""
    out = []
    fall_n = int(0.4 * rate_hz)
    for i in range(fall_n):
        w = (i + 1) / fall_n
        g = 1.0 - 0.85 * w  # free fall: the accelerometer reads less and less
        angle = w * math.pi / 2
        out.append((_clip(rng.gauss(0, 30)), _clip(-1000 * g * math.cos(angle)),
                    _clip(1000 * g * math.sin(angle))))
    out += [(1500, 3000, 1500), (1200, 2500, 1800), (900, 1800, 1400), (200, 100, 1500), (0, 0, 900)]
    out += rest_samples(rng, int(lie_s * rate_hz), gravity=LYING, noise_mg=10)
    up_n = int(1.5 * rate_hz)
    for i in range(up_n):
        angle = (i + 1) / up_n * math.pi / 2
        out.append((_clip(rng.gauss(0, 40)), _clip(-1000 * math.sin(angle) + rng.gauss(0, 40)),
                    _clip(1000 * math.cos(angle) + rng.gauss(0, 40))))
    return out


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
                 gps_fix_after_s=3, heap=DEFAULT_HEAP, workdir=None, on_pwrkey=None, mpy_dir=None,
                 on_power_on=None):
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
        self.on_power_on = on_power_on
        self.asleep_since = None  # time.time() when the microcontroller went to sleep, while it sleeps
        self.slept_s = 0.0         # total time the microcontroller slept
        self.mpy_dir = Path(mpy_dir) if mpy_dir else REPO / "build" / "mpy"
        self.logs = []          # firmware hops (dicts with "t")
        self.motor = []         # MotorEdge: (t, on, ms), ms on the firmware's clock
        self.output = []        # every line the firmware printed
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._process = None
        self._threads = []
        self._stop = threading.Event()
        self.gps_standby = threading.Event()
        self._tmp = None
        # The accelerometer stream: an activity (list of samples) replaces rest while it lasts.
        self.imu_seed = 0
        self.imu_sent = 0          # samples written to the control pty
        self.imu_skipped = 0       # samples not written: the firmware was not reading (booting, or a full pty)
        self._imu_ready = threading.Event()  # the firmware has started its accelerometer since its last boot
        self._activity = None      # [samples, index, done Event, name]
        self._activity_lock = threading.Lock()
        self._rng = random.Random(0)

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
        self._spawn(self._stream_imu, "imu")
        return self

    def _launch(self):
        self._imu_ready.clear()
        env = dict(os.environ)
        env["MICROPYPATH"] = ".frozen:" + str(self.mpy_dir)
        cmd = [micropython_binary(), "-X", f"heapsize={self.heap}", "-m", "sim.device.main",
               self._control.path, self.modem_pty, self._gps.path, str(self.flash_dir)]
        self._process = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        self._spawn(self._read_output, "output")

    def stop(self):
        self._stop.set()
        stop_process(self._process)
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

    # -- the wearer's body (the accelerometer) ----------------------------------------------------------------
    def shake(self, seconds=2.0, freq_hz=4.0, amplitude_mg=2500, axis="x"):
        """Shake the wearable hard (the help gesture); blocks for `seconds`. axis "x"/"z" is horizontal when
        upright, "y" along gravity (docs/triggers.md: vertical swings)."""
        self._move("shake", shake_samples(self._next_rng(), seconds, freq_hz, amplitude_mg, axis),
                   seconds=seconds, freq_hz=freq_hz, amplitude_mg=amplitude_mg, axis=str(axis))

    def fall(self, lie_s=8.0):
        """Fall backwards, lie still on the back for lie_s, get up slowly; blocks for the whole (~lie_s + 2 s)."""
        self._move("fall", fall_samples(self._next_rng(), lie_s), lie_s=lie_s)

    def walk(self, seconds):
        self._move("walk", walk_samples(self._next_rng(), seconds), seconds=seconds)

    def jog(self, seconds):
        self._move("jog", jog_samples(self._next_rng(), seconds), seconds=seconds)

    def _next_rng(self):
        with self._activity_lock:
            self.imu_seed += 1
            return random.Random(self.imu_seed)

    def _move(self, name, samples, timeout=60.0, **detail):
        """Plays samples instead of rest, from the next batch on; returns when they have all been sent."""
        if not self._imu_ready.wait(timeout):
            raise TimeoutError(f"{self.device_id}: the firmware did not start its accelerometer within {timeout} s")
        done = threading.Event()
        with self._activity_lock:
            previous = self._activity
            self._activity = [samples, 0, done, name]
        if previous is not None:
            previous[2].set()  # a new movement interrupts the one going on
        self._record("sim.motion", kind=name, samples=len(samples), **detail)
        done.wait(len(samples) / DEVICE_RATE_HZ + timeout)
        self._record("sim.motion_end", kind=name)

    def _next_samples(self, count):
        out = []
        with self._activity_lock:
            activity = self._activity
            if activity is not None:
                samples, index = activity[0], activity[1]
                out = samples[index:index + count]
                activity[1] = index + len(out)
                if activity[1] >= len(samples):
                    self._activity = None
                    activity[2].set()
        if len(out) < count:
            out += rest_samples(self._rng, count - len(out))
        return out

    def _stream_imu(self):
        """100 samples a second, in real time, one line of IMU_BATCH samples every 100 ms. While the firmware has
        not started its accelerometer (booting), time passes but nothing is written: the pty would only fill up."""
        start = time.monotonic()
        due_total = 0
        while not self._stop.is_set():
            now = time.monotonic()
            due = int((now - start) * DEVICE_RATE_HZ) - due_total
            if due > 3 * IMU_BATCH:  # this thread was held up: lose time, never samples of a movement
                start += (due - IMU_BATCH) / DEVICE_RATE_HZ
                due = IMU_BATCH
            while due > 0:
                count = min(IMU_BATCH, due)
                due -= count
                due_total += count
                if not self._imu_ready.is_set():
                    self.imu_skipped += count
                    continue
                samples = self._next_samples(count)
                line = "imu " + ";".join(f"{x},{y},{z}" for x, y, z in samples) + "\n"
                if not self._write_control_nowait(line.encode()):
                    self.imu_skipped += count
                    continue
                self.imu_sent += count
            self._stop.wait(max(0.0, start + (due_total + IMU_BATCH) / DEVICE_RATE_HZ - time.monotonic()))

    def _write_control_nowait(self, data):
        try:
            _, writable, _ = select.select([], [self._control.master], [], 0)
            if not writable:
                return False
            with self._write_lock:
                os.write(self._control.master, data)
            return True
        except (OSError, ValueError):
            return False

    def set_battery(self, percent):
        self._send_control(f"bat {int(percent)}")

    def _send_control(self, line):
        with self._write_lock:  # whole lines: the accelerometer stream writes from another thread
            os.write(self._control.master, line.encode() + b"\n")

    # -- what happened ---------------------------------------------------------------------------------------
    def wait_for(self, hop, timeout=60.0, since=0, **match):
        """Block until the firmware logged `hop` with these fields; returns the entry or raises TimeoutError.
        since: only entries from this index of `logs` on (e.g. len(wearable.logs) taken before acting)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for entry in self.logs[since:]:
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

    def motor_pulses(self, since_ms):
        """The motor's completed pulses that began at or after since_ms (firmware clock): (start ms, length ms)."""
        with self._cond:
            edges = list(self.motor)
        pulses, started = [], None
        for edge in edges:
            if edge.on and started is None:
                started = edge.ms
            elif not edge.on and started is not None:
                if ticks_diff(started, since_ms) >= 0:
                    pulses.append((started, ticks_diff(edge.ms, started)))
                started = None
        return pulses

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
                    if entry.get("hop") == "fw.imu_ready":
                        self._imu_ready.set()
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
            parts = line.split()
            if len(parts) == 3 and parts[1] in ("0", "1") and parts[2].isdigit():
                with self._cond:
                    self.motor.append(MotorEdge(now, parts[1] == "1", int(parts[2])))
            else:
                self._record("sim.bad_control", line=line)
        elif line == "pwrkey":
            self._record("sim.pwrkey")
            if self.on_pwrkey is not None:
                try:
                    self.on_pwrkey(self.device_id)
                except Exception as exc:  # the simulator must outlive a failing callback
                    self._record("sim.pwrkey_failed", error=str(exc))
        elif line == "pwron":
            self._record("sim.pwron")
            if self.on_power_on is not None:
                try:
                    self.on_power_on(self.device_id)
                except Exception as exc:
                    self._record("sim.pwron_failed", error=str(exc))
        elif line.startswith("sleep "):
            with self._cond:
                self.asleep_since = now
            self._record("sim.sleep", ms=line[6:])
        elif line.startswith("awake "):
            with self._cond:
                if self.asleep_since is not None:
                    self.slept_s += now - self.asleep_since
                self.asleep_since = None
            self._record("sim.awake", woke=line[6:])

    def _feed_gps(self):
        feeder = NMEAFeeder(lat=self.position[0], lon=self.position[1], fix_after_s=self.gps_fix_after_s,
                            start_utc=int(time.time()))
        self._spawn(self._read_gps_commands, "gps-commands")

        def write(data):
            if self.gps_standby.is_set():
                return  # a receiver in standby says nothing; it keeps time and ephemeris for a hot start
            try:
                os.write(self._gps.master, data)
            except OSError:
                self._stop.set()

        feeder.run_to(write, self._stop)

    def _read_gps_commands(self):
        """What the firmware writes to its receiver: UBX-RXM-PMREQ (u-blox) or $PCAS12 (L76K) put it in standby;
        any later byte on its UART (u-blox) or $PCAS10 (L76K) wakes it."""
        while not self._stop.is_set():
            try:
                data = os.read(self._gps.master, 256)
            except OSError:
                return
            if b"\xb5\x62\x02\x41" in data or b"$PCAS12" in data:
                self.gps_standby.set()
                self._record("sim.gps", state="standby")
            elif self.gps_standby.is_set():
                self.gps_standby.clear()
                self._record("sim.gps", state="awake")
