"""JSON-lines control socket of the simulated network (loopback TCP), and the client the demo and tests use.

One request per line, one reply per line: {"ok": true, ...} or {"ok": false, "error": "..."}.
Commands: list, inbox, send, fault, clear_faults, power_cycle, power_on, events, network_fault, network_clear
(see ControlServer.handle).
"""
import json
import socket
import socketserver
import threading


class ControlServer:
    def __init__(self, network, host="127.0.0.1", port=0):
        self.network = network
        self.host = host
        self.port = port
        self._server = None
        self._thread = None

    def start(self):
        handle = self.handle

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                for raw in self.rfile:
                    if not raw.strip():
                        continue
                    try:
                        reply = handle(json.loads(raw))
                    except Exception as exc:  # a bad request answers an error, never kills the server
                        reply = {"ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}
                    self.wfile.write((json.dumps(reply) + "\n").encode())
                    self.wfile.flush()

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="network-control",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, req):
        net = self.network
        cmd = req.get("cmd")
        if cmd == "list":
            return {"ok": True, "modems": {n: {"pty": m.pty_path, "profile": m.profile.key, "power": m.power,
                                               "registered": m.reachable()} for n, m in net.modems.items()}}
        if cmd == "inbox":
            return {"ok": True, "messages": net.inbox(_number(req, net), req.get("storage", "SM"))}
        if cmd == "send":
            refs = net.send(req["from"], req["to"], req["text"], status_report=bool(req.get("status_report")))
            return {"ok": True, "refs": refs}
        if cmd == "fault":
            net.modems[_number(req, net)].inject(req["fault"], **(req.get("params") or {}))
            return {"ok": True}
        if cmd == "clear_faults":
            net.modems[_number(req, net)].clear_faults()
            return {"ok": True}
        if cmd == "network_fault":
            net.inject(req["fault"], duration_s=req.get("duration_s"))
            return {"ok": True}
        if cmd == "network_clear":
            net.clear_faults()
            return {"ok": True}
        if cmd == "power_cycle":
            net.modems[_number(req, net)].power_cycle(float(req.get("off_s", 1.0)))
            return {"ok": True}
        if cmd == "power_on":
            return {"ok": True, "booted": net.modems[_number(req, net)].power_key_on()}
        if cmd == "events":
            return {"ok": True, "events": net.events_since(float(req.get("since", 0.0)))}
        return {"ok": False, "error": "unknown cmd %r; known: list, inbox, send, fault, clear_faults, power_cycle, "
                                      "events, network_fault, network_clear" % (cmd,)}


def _number(req, net):
    number = req.get("number")
    if number not in net.modems:
        raise KeyError(f"no modem with number {number!r}")
    return number


class NetworkClient:
    """Talks to `python -m sim.network --control HOST:PORT`. Methods raise RuntimeError on an error reply.

    One connection, one request at a time: safe to share between threads (a lock serialises the calls).
    """

    def __init__(self, host="127.0.0.1", port=0, timeout=10.0):
        self.host = host
        self.port = port
        self.timeout = timeout
        self._sock = None
        self._file = None
        self._lock = threading.Lock()

    def _call(self, **req):
        with self._lock:
            return self._exchange(req)

    def _exchange(self, req):
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self._file = self._sock.makefile("rwb")
        self._file.write((json.dumps(req) + "\n").encode())
        self._file.flush()
        line = self._file.readline()
        if not line:
            raise RuntimeError("network control socket closed")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error", "error"))
        return reply

    def list(self):
        return self._call(cmd="list")["modems"]

    def inbox(self, number, storage="SM"):
        return self._call(cmd="inbox", number=number, storage=storage)["messages"]

    def send(self, sender, to, text, status_report=False):
        return self._call(cmd="send", to=to, text=text, status_report=status_report, **{"from": sender})["refs"]

    def fault(self, number, fault, **params):
        self._call(cmd="fault", number=number, fault=fault, params=params)

    def clear_faults(self, number):
        self._call(cmd="clear_faults", number=number)

    def network_fault(self, fault, duration_s=None):
        self._call(cmd="network_fault", fault=fault, duration_s=duration_s)

    def network_clear(self):
        self._call(cmd="network_clear")

    def power_cycle(self, number, off_s=1.0):
        self._call(cmd="power_cycle", number=number, off_s=off_s)

    def power_on(self, number):
        """The power key pressed on a modem that is off; returns whether it booted."""
        return self._call(cmd="power_on", number=number)["booted"]

    def events(self, since=0.0):
        return self._call(cmd="events", since=since)["events"]

    def close(self):
        with self._lock:
            if self._sock is not None:
                self._file.close()
                self._sock.close()
                self._sock = self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
