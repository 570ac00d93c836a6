"""`make demo`: the whole system on this machine, nothing faked but the radio.

A private Mosquitto (per-device credentials, ACLs), the simulated GSM network (its own process: one simulated
modem per phone number on its own pty), the hub (its own process: `deme hub run`), the police console, and
simulated wearables running the real firmware on MicroPython. `deme sim press W1` presses a wearable's button;
`deme sim shake W1` shakes it, `deme sim fall W1` makes its wearer fall (the firmware's accelerometer is a
simulated LIS3DH fed by the wearable's motion models). The demo records where it runs in a per-user file
(hub/commands/sim_cmd.py demo_pointer_path), so `deme sim` finds it from any folder.

Every child (Mosquitto, the network, the hub, the wearables) ends with the demo: Ctrl-C, SIGTERM and SIGHUP (the
terminal closed) stop them in order, and if the demo dies anyway the kernel ends them (sim/process.py spawn).

`--scenario sos` runs one scripted round trip without a browser: press, alert stored, acknowledged by an
operator through the console's API, ack felt by the wearable; prints the timeline and exits 0 only when the
wearable has felt the acknowledgement."""
import argparse
import json
import os
import secrets
import shutil
import signal
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from hub.commands.sim_cmd import demo_pointer_path
from hub.timeline import Timeline, read_timeline
from sim.broker import MosquittoBroker, free_port
from sim.network import NetworkClient
from sim.process import spawn, stop_process
from sim.wearable import SimulatedWearable

REPO = Path(__file__).resolve().parents[1]
HUB_NUMBER = "+22370000001"
SMSC = "+22370000000"


# The demo's police post: a duty officer and a supervisor, each with a simulated feature phone (`deme sim phone`
# shows what it received, `deme sim sms` types an answer such as "OK K7"). Nobody at the console: the officer's
# phone rings at once, the supervisor's after two minutes.
DUTY_OFFICER = ("Adjudant Coulibaly", "+22376200001")
SUPERVISOR = ("Commissaire Keita", "+22376200002")
REPORTER = "+22366200003"  # a feature phone without a wearable: reports by keyword SMS ("AIDE ...")


def police_post_plan(officer, supervisor, routes, officer_lang=None):
    """The [plan] TOML of a post of two, both always on duty: `officer` (name, phone) in team "police", `supervisor`
    (name, phone) in "superviseurs", who are told of an unanswered incident. routes: {route name: [step, ...]},
    each step a dict of its keys (teams, after_s, repeats, every_s)."""
    def value(v):
        return json.dumps(v)  # strings, numbers and lists of strings read the same in TOML

    lines = ["", "[plan]", 'supervisors = "superviseurs"']
    for (name, phone), lang in ((officer, officer_lang), (supervisor, None)):
        lines += ["[[plan.responders]]", f"name = {value(name)}", f"phone = {value(phone)}"]
        lines += [f"lang = {value(lang)}"] if lang else []
    for team, (name, _phone) in (("police", officer), ("superviseurs", supervisor)):
        lines += ["[[plan.teams]]", f"name = {value(team)}", f"members = {value([name])}", 'rota = "always"']
    for route, steps in routes.items():
        tables = ", ".join("{" + ", ".join(f"{k} = {value(v)}" for k, v in step.items()) + "}" for step in steps)
        lines += ["[[plan.routes]]", f"name = {value(route)}", f"steps = [{tables}]"]
    return "\n".join(lines) + "\n"


POLICE_POST_PLAN = police_post_plan(DUTY_OFFICER, SUPERVISOR, {"default": [
    {"teams": ["police"], "repeats": 2, "every_s": 60},
    {"teams": ["superviseurs"], "after_s": 120, "repeats": 2, "every_s": 60}]})


def wearer_plan(count):
    names = ["Awa Traoré", "Moussa Diarra", "Fatoumata Coulibaly", "Mamadou Keita"]
    plan = []
    for i in range(count):
        plan.append({
            "id": f"W{i + 1}",
            "phone": f"+2237600{i + 1:04d}",
            "wearer": names[i % len(names)],
            "contact": {"name": "Contact", "phone": f"+2236600{i + 1:04d}", "lang": "fr" if i % 2 == 0 else "en"},
            "key": secrets.token_hex(32),
            "position": (13.4317 + 0.004 * i, -6.2157 + 0.003 * i),
        })
    return plan


class DemoSystem:
    def __init__(self, run_dir, wearables=1, sms_delay_s=(1.0, 3.0), console_port=0, modem_profile="sim800l",
                 heap=None, log=print, wearable_config=None, gps_fix_after_s=3, phones=(), hub_toml_extra=""):
        """wearable_config: extra firmware config.json entries for every wearable (e.g. {"fall_cancel_s": 5}).
        gps_fix_after_s: how long the simulated receivers take to their first fix (a cold start indoors is long).
        phones: more simulated phones on the network (responders, reporters); hub_toml_extra: TOML appended to the
        hub's hub.toml (a [plan], a [panel]...)."""
        self.phones = tuple(phones)
        self.hub_toml_extra = hub_toml_extra
        self.gps_fix_after_s = gps_fix_after_s
        self.run_dir = Path(run_dir).resolve()
        self.count = wearables
        self.sms_delay_s = sms_delay_s
        self.console_port = console_port
        self.modem_profile = modem_profile
        self.heap = heap
        self.log = log
        self.wearable_config = dict(wearable_config or {})
        self.plan = wearer_plan(wearables)
        self.wearables = {}
        self.processes = []
        self.broker = None
        self.network = None
        self.console_url = None
        self.mqtt_users = {}

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self):
        # Keys are new at every start, so what an earlier run left (database, flash) would only mislead.
        if self.run_dir.exists():
            shutil.rmtree(self.run_dir)
        self.run_dir.mkdir(parents=True)
        self.timeline_path = self.run_dir / "timeline.jsonl"
        self.timeline_path.write_text("")
        self.timeline = Timeline(self.timeline_path, source="sim")
        self._start_broker()
        self._start_network()
        self._start_hub()
        for entry in self.plan:
            self._start_wearable(entry)
        return self

    def stop(self):
        for wearable in self.wearables.values():
            wearable.stop()
        for process in reversed(self.processes):
            stop_process(process, grace_s=10)
        if self.network is not None:
            self.network.close()
        if self.broker is not None:
            self.broker.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- parts -----------------------------------------------------------------------------------------------
    def _start_broker(self):
        self.mqtt_users = {"hub-demo": secrets.token_hex(12), "observer": secrets.token_hex(12)}
        for entry in self.plan:
            self.mqtt_users[entry["id"]] = secrets.token_hex(12)
        self.broker = MosquittoBroker(self.mqtt_users, hub_users=("hub-demo", "observer"),
                                      workdir=self.run_dir / "mosquitto").start()
        self.log(f"mosquitto   listening on 127.0.0.1:{self.broker.port} (per-device credentials, ACLs)")

    def _spawn(self, name, cmd, ready_prefix, timeout=60):
        stderr = open(self.run_dir / f"{name}.log", "ab")
        process = spawn(cmd, stdout=subprocess.PIPE, stderr=stderr, cwd=self.run_dir, env=_child_env())
        self.processes.append(process)
        setattr(self, f"{name}_process", process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = process.stdout.readline().decode()
            if not line:
                break
            if line.startswith(ready_prefix):
                threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
                return line.strip()
        raise RuntimeError(f"{name} did not start; see {self.run_dir / (name + '.log')}:\n"
                           + (self.run_dir / f"{name}.log").read_text()[-3000:])

    def _start_network(self):
        modems = [{"number": HUB_NUMBER, "profile": self.modem_profile}]
        for entry in self.plan:
            modems.append({"number": entry["phone"], "profile": self.modem_profile})
            modems.append({"number": entry["contact"]["phone"], "profile": "sim800l"})
        modems += [{"number": phone, "profile": "sim800l"} for phone in self.phones]
        delay = list(self.sms_delay_s) if isinstance(self.sms_delay_s, tuple) else self.sms_delay_s
        config = {"modems": modems, "delay_s": delay, "smsc": SMSC, "seed": 7}
        path = self.run_dir / "network.json"
        path.write_text(json.dumps(config, indent=1))
        port = self.network_port = free_port()
        line = self._spawn("network", [sys.executable, "-m", "sim.network", "--config", str(path),
                                       "--control", f"127.0.0.1:{port}", "--timeline", str(self.timeline_path)],
                           '{"ready"')
        info = json.loads(line)
        self.modem_ptys = info["modems"]
        self.network = NetworkClient("127.0.0.1", port)
        self.log(f"gsm network {len(self.modem_ptys)} simulated modems, SMS delay {self.sms_delay_s} s")

    def _start_hub(self):
        console_port = self.console_port or free_port()
        lines = [
            "[hub]", 'id = "demo"', f'number = "{HUB_NUMBER}"', 'region = "ML"', 'database = "hub.db"',
            f'timeline = "{self.timeline_path}"', "outbox_retry_s = 5",
            "[modem]", f'port = "{self.modem_ptys[HUB_NUMBER]}"',
            f'power = "exec:{sys.executable} -m sim.network.power_cycle 127.0.0.1:{self.network_port} {HUB_NUMBER}"',
            "[mqtt]", 'host = "127.0.0.1"', f"port = {self.broker.port}", 'username = "hub-demo"',
            f'password = "{self.mqtt_users["hub-demo"]}"',
            "[console]", 'host = "127.0.0.1"', f"port = {console_port}",
        ]
        for entry in self.plan:
            contact = entry["contact"]
            lines += ["[[devices]]", f'id = "{entry["id"]}"', f'key = "{entry["key"]}"',
                      f'phone = "{entry["phone"]}"', f'wearer = "{entry["wearer"]}"',
                      "[[devices.contacts]]", f'name = "{contact["name"]}"', f'phone = "{contact["phone"]}"',
                      f'lang = "{contact["lang"]}"']
        config = self.run_dir / "hub.toml"
        config.write_text("\n".join(lines) + "\n" + self.hub_toml_extra)
        self.start_hub()

    def start_hub(self):
        config = self.run_dir / "hub.toml"
        line = self._spawn("hub", [sys.executable, "-m", "hub.cli", "hub", "run", "--config", str(config)],
                           "console: ")
        self.console_url = line.split("console: ", 1)[1]
        self.log(f"hub         console at {self.console_url}")

    def stop_hub(self, kill=False):
        """Stop the hub process (SIGTERM, or SIGKILL: a power cut of the Pi). start_hub() brings it back on
        the same database and modem."""
        process = self.hub_process
        process.kill() if kill else process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        self.processes.remove(process)

    def _start_wearable(self, entry):
        device_id = entry["id"]
        config = {"device_id": device_id, "key": entry["key"], "hub_number": HUB_NUMBER,
                  "wearer": entry["wearer"], "contacts": [entry["contact"]], "retry_s": 60,
                  **self.wearable_config}
        kwargs = {"heap": self.heap} if self.heap else {}
        kwargs["gps_fix_after_s"] = self.gps_fix_after_s
        wearable = SimulatedWearable(device_id, config, self.modem_ptys[entry["phone"]], timeline=self.timeline,
                                     position=entry["position"], workdir=self.run_dir / device_id,
                                     on_pwrkey=lambda _d, n=entry["phone"]: self.network.power_cycle(n),
                                     on_power_on=lambda _d, n=entry["phone"]: self.network.power_on(n), **kwargs)
        wearable.start()
        self.wearables[device_id] = wearable
        self.log(f"wearable    {device_id} ({entry['wearer']}) running the firmware on MicroPython, "
                 f"phone {entry['phone']}")

    def wearable_status(self):
        """What each simulated wearable is doing: running, asleep (and how long it has slept), its modem's power."""
        modems = self.network.list() if self.network is not None else {}
        status = {}
        for entry in self.plan:
            wearable = self.wearables.get(entry["id"])
            if wearable is None:
                continue
            since = wearable.asleep_since
            slept = wearable.slept_s + (time.time() - since if since is not None else 0.0)
            status[entry["id"]] = {"running": wearable.running, "asleep": since is not None,
                                   "slept_s": round(slept, 1),
                                   "modem": modems.get(entry["phone"], {}).get("power")}
        return status

    # -- the console's API, as an operator's browser uses it -------------------------------------------------
    def api(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.console_url.rstrip("/") + path, data=data,
                                         headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def resolve_open(self, device_id, operator="Sgt. Diallo", note="resolved"):
        """Resolve the device's open incidents, as an operator would: its next press is an incident of its own,
        not a repeat the hub groups into an open one. Returns their ids."""
        open_ids = [a["id"] for a in self.api("/api/alerts?state=active")["alerts"] if a["device_id"] == device_id]
        for alert_id in open_ids:
            self.api(f"/api/alerts/{alert_id}/resolve", {"operator": operator, "note": note})
        return open_ids

    def wait_alert(self, device_id, timeout=120, state=None, counter=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for alert in self.api("/api/alerts?state=all")["alerts"]:
                if alert["device_id"] == device_id and (state is None or alert["state"] == state) \
                        and (counter is None or alert["counter"] == counter):
                    return alert
            time.sleep(0.3)
        raise TimeoutError(f"no alert from {device_id} reached the console within {timeout} s")


def _child_env():
    """The children run in the run folder; `sim` is not installed with the hub, so the checkout goes on their path
    (the hub passes it on to its modem power command, `python -m sim.network.power_cycle`)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def _drain(stream):
    for _ in iter(stream.readline, b""):
        pass


# -- control socket for `deme sim ...` -----------------------------------------------------------------------
def _positive(request, key, default, limit):
    value = float(request.get(key, default))
    if not 0 < value <= limit:
        raise ValueError(f"{key} must be more than 0 and at most {limit}, got {value}")
    return value


def _shake_args(request):
    axis = str(request.get("axis", "x"))
    if axis not in ("x", "y", "z"):
        raise ValueError(f"axis must be x, y or z, got {axis!r}")
    return {"seconds": _positive(request, "seconds", 2.0, 30), "freq_hz": _positive(request, "freq_hz", 4.0, 20),
            "amplitude_mg": int(_positive(request, "amplitude_mg", 2500, 8000)), "axis": axis}


# The wearer's movements: command -> its arguments from the request (ValueError for a bad one).
MOTIONS = {
    "shake": _shake_args,
    "fall": lambda r: {"lie_s": _positive(r, "lie_s", 8.0, 120)},
    "walk": lambda r: {"seconds": _positive(r, "seconds", 10.0, 600)},
    "jog": lambda r: {"seconds": _positive(r, "seconds", 10.0, 600)},
}


class _ControlHandler(socketserver.StreamRequestHandler):
    def handle(self):
        system = self.server.system
        try:
            request = json.loads(self.rfile.readline())
            wearable = system.wearables.get(request.get("device"))
            command = request.get("cmd")
            if command == "status":
                reply = {"ok": True, "console": system.console_url, "wearables": system.wearable_status()}
            elif command == "sms":  # a simulated phone types an SMS to the hub (a responder's "OK K7", a report)
                refs = system.network.send(str(request["from"]), HUB_NUMBER, str(request["text"]))
                reply = {"ok": True, "refs": refs}
            elif command == "phone":  # what a simulated phone has received
                messages = system.network.inbox(str(request["number"]))
                reply = {"ok": True, "messages": [{k: m.get(k) for k in ("number", "text", "timestamp")}
                                                  for m in messages]}
            elif wearable is None:
                reply = {"ok": False, "error": f"no wearable {request.get('device')!r}; have "
                                               f"{', '.join(system.wearables)}"}
            elif command == "press":
                threading.Thread(target=wearable.hold, args=(float(request.get("hold", 2.5)),),
                                 daemon=True).start()
                reply = {"ok": True}
            elif command == "tap":
                threading.Thread(target=wearable.tap, args=(int(request.get("count", 2)),), daemon=True).start()
                reply = {"ok": True}
            elif command == "battery":
                wearable.set_battery(int(request["percent"]))
                reply = {"ok": True}
            elif command in MOTIONS:
                args = MOTIONS[command](request)
                threading.Thread(target=getattr(wearable, command), kwargs=args, daemon=True).start()
                reply = {"ok": True, **args}
            else:
                reply = {"ok": False, "error": f"unknown command {command!r}"}
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            reply = {"ok": False, "error": f"bad request: {exc}"}
        self.wfile.write(json.dumps(reply).encode() + b"\n")


def serve_control(system):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ControlHandler)
    server.daemon_threads = True
    server.system = system
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (system.run_dir / "demo.json").write_text(json.dumps({"control": server.server_address[1],
                                                          "console": system.console_url}))
    return server


def deme_command(cwd=None):
    """How to type `deme` in this shell: `deme` when it is on PATH (an activated venv), else the venv's own
    script beside this interpreter (relative when it is under the current folder, as `.venv/bin/deme` from the
    checkout), else the hub's CLI module run by this interpreter."""
    beside = Path(sys.executable).with_name("deme")
    on_path = shutil.which("deme")
    if on_path and (not beside.exists() or Path(on_path).resolve() == beside.resolve()):
        return "deme"
    if beside.exists():
        try:
            return str(beside.relative_to(Path(cwd or os.getcwd())))
        except ValueError:
            return str(beside)
    return f"{sys.executable} -m hub.cli"


def record_demo(run_dir, path=None):
    """Writes the per-user pointer `deme sim` reads (this process's id and its run folder), atomically."""
    path = Path(path or demo_pointer_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"run_dir": str(Path(run_dir).resolve()), "pid": os.getpid()}))
    os.replace(tmp, path)
    return path


def forget_demo(path):
    """Removes the pointer if it still names this process (a newer demo may have taken it over)."""
    try:
        if json.loads(Path(path).read_text()).get("pid") == os.getpid():
            Path(path).unlink()
    except (OSError, ValueError, AttributeError):
        pass


class StopSignal(Exception):
    """SIGTERM or SIGHUP (the terminal that ran the demo closed): the demo stops as on Ctrl-C, children first."""


def _raise_stop(signum, _frame):
    raise StopSignal(signal.Signals(signum).name)


# -- scenario ----------------------------------------------------------------------------------------------
def sos_scenario(system, device_id="W1", operator="Sgt. Diallo", timeout=180):
    wearable = system.wearables[device_id]
    wearable.wait_for("fw.modem_ready", timeout=60)
    wearable.wait_for("fw.modem", timeout=60, kind="registered")
    if wearable.config.get("modem_mode", "gated") == "gated":
        # The press comes in standby, as it would in life: the boot heartbeat receipted, the GPS and the modem off,
        # the microcontroller asleep (about a minute after boot).
        system.log("scenario    waiting for the wearable to go to standby (modem off, asleep)...")
        wearable.wait_for("fw.modem_power", timeout=timeout, on=False)
        deadline = time.monotonic() + timeout
        while wearable.asleep_since is None and time.monotonic() < deadline:
            time.sleep(0.2)
    system.timeline.record("scenario.press", device=device_id)
    wearable.press(2.5)
    persisted = wearable.wait_for("fw.alarm_persisted", timeout=30, event="SOS")
    alert = system.wait_alert(device_id, timeout=timeout, counter=persisted["n"])
    system.timeline.record("scenario.console_shows", device=device_id, alert_id=alert["id"],
                           lat=alert["lat"], lon=alert["lon"], category=alert["category"])
    system.api(f"/api/alerts/{alert['id']}/acknowledge", {"operator": operator})
    system.timeline.record("scenario.operator_ack", alert_id=alert["id"], operator=operator)
    felt = wearable.wait_for("fw.felt", timeout=timeout, status="ACK", n=persisted["n"])
    return alert, felt


def format_timeline(entries, t0=None):
    if not entries:
        return "(empty timeline)"
    t0 = t0 if t0 is not None else entries[0]["t"]
    lines = []
    for entry in entries:
        detail = {k: v for k, v in entry.items() if k not in ("t", "hop", "source", "text", "body", "pdu")}
        where = entry.get("device") or entry.get("source", "")
        lines.append(f"{entry['t'] - t0:8.2f} s  {where:<8} {entry['hop']:<24} "
                     + ", ".join(f"{k}={v}" for k, v in detail.items() if k != "device"))
    return "\n".join(lines)


KEY_HOPS = (
    ("scenario.press", "button pressed"),
    ("sim.awake", "wearable woke from its sleep"),
    ("fw.alarm_persisted", "alarm persisted on the wearable"),
    ("fw.modem_power", "modem switched on"),
    ("fw.modem_ready", "modem registered"),
    ("fw.sms_sent", "alert SMS taken by the wearable's modem"),
    ("network.deliver", "SMS delivered by the network"),
    ("hub.sms_received", "hub read the SMS from its modem"),
    ("hub.stored", "alert committed in the hub's store"),
    ("hub.mqtt_published", "alert published on MQTT (PUBACK)"),
    ("scenario.console_shows", "alert shown by the console API"),
    ("scenario.operator_ack", "operator acknowledged"),
    ("fw.felt", "wearable vibrated: help has seen you"),
)


def hop_summary(entries, t0):
    """The first time each key hop was seen after t0, in the order they happened; those not seen last."""
    seen, missing = [], []
    for hop, label in KEY_HOPS:
        match = [e for e in entries if e["hop"] == hop and e["t"] >= t0]
        if match:
            seen.append((match[0]["t"] - t0, label))
        else:
            missing.append(f"        -    {label} (not seen)")
    return "\n".join([f"  {dt:7.2f} s  {label}" for dt, label in sorted(seen)] + missing)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["sos"], help="run a scripted scenario and exit")
    parser.add_argument("--wearables", type=int, default=2)
    parser.add_argument("--run-dir", default=os.environ.get("DEME_RUN_DIR", ".run/demo"))
    parser.add_argument("--sms-delay", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--console-port", type=int, default=0)
    args = parser.parse_args(argv)
    wearables = 1 if args.scenario and args.wearables == 2 else args.wearables
    system = DemoSystem(args.run_dir, wearables=wearables, sms_delay_s=tuple(args.sms_delay),
                        console_port=args.console_port, phones=(DUTY_OFFICER[1], SUPERVISOR[1], REPORTER),
                        hub_toml_extra=POLICE_POST_PLAN)
    stop_signals = (signal.SIGTERM, signal.SIGHUP)
    for signum in stop_signals:
        signal.signal(signum, _raise_stop)  # raised in the main thread: it also interrupts a start in progress
    pointer = None
    try:
        system.start()
        if args.scenario == "sos":
            t0 = time.time()
            try:
                sos_scenario(system)
                ok = True
            except (TimeoutError, OSError) as exc:
                print(f"\nSCENARIO FAILED: {exc}")
                ok = False
            entries = [e for e in read_timeline(system.timeline_path) if e["t"] >= t0 - 1]
            print("\nTimeline (every hop, seconds from the start of the scenario):")
            print(format_timeline(entries, t0))
            press = [e for e in entries if e["hop"] == "scenario.press"]
            print("\nHop times from the button press:")
            print(hop_summary(entries, press[0]["t"] if press else t0))
            print("\nSOS round trip complete: the wearable felt the acknowledgement." if ok else
                  "\nSOS round trip NOT complete.")
            return 0 if ok else 1
        serve_control(system)
        pointer = record_demo(system.run_dir)
        deme = deme_command()
        print(f"\nPolice console: {system.console_url}")
        print(f"Press a wearable's button:       {deme} sim press W1          (a long press: SOS)")
        print(f"Press pattern (category):        {deme} sim tap W1 --count 2  (2: medical, 3: assault)")
        print(f"Shake it hard (SOS):             {deme} sim shake W1")
        print(f"Fall and lie still:              {deme} sim fall W1           (FALL after the 30 s pre-alarm; "
              "press to cancel)")
        print(f"Activity that must not alarm:    {deme} sim walk W1 --seconds 10 / {deme} sim jog W1")
        print(f"The duty officer's phone:        {deme} sim phone {DUTY_OFFICER[1]}   (the alert SMS, its code)")
        print(f"He answers from it:              {deme} sim sms {DUTY_OFFICER[1]} \"OK K7\"   (PARS K7, FIN K7 reel)")
        print(f"Anyone reports by SMS:           {deme} sim sms {REPORTER} \"AIDE agression marche\"   "
              f"(the answer: {deme} sim phone {REPORTER})")
        print(f"Status:                          {deme} sim status")
        print(f"Timeline of every hop:           {system.timeline_path}")
        print("Ctrl-C stops everything (closing this terminal too).", flush=True)
        while True:
            time.sleep(1)
    except (KeyboardInterrupt, StopSignal):
        return 0
    finally:
        for signum in stop_signals:
            signal.signal(signum, signal.SIG_IGN)  # the same hang-up or kill again must not cut the stop short
        if pointer is not None:
            forget_demo(pointer)
        system.stop()


if __name__ == "__main__":
    sys.exit(main())
