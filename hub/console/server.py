"""The police console: a small HTTP server (stdlib only) that serves the page, a JSON API and a live event stream.

Endpoints (everything under /api answers JSON; errors are {"error": message} with 400/404/409/413/415):
  GET  /                         the page (static/index.html); /static/<file> its script, style and texts
  GET  /healthz                  {"ok": true, "clients": <live event streams>}
  GET  /api/meta                 what the page must know before it shows anything, from drivers/alert.py:
                                 {"events": {"SOS": ["urgent", "contacts"], ...}, "categories": [...],
                                  "statuses": [...], "states": [in order], "actions": {"acknowledge": [the
                                  states it is allowed from], ...}, "device_statuses": [worst first]}: the
                                 tables of drivers/alert.py, hub/store/ and hub/incidents/liveness.py
  GET  /api/alerts?state=active  {"now": hub time, "alerts": [...]}; state: active (not resolved, the default) or all
  GET  /api/alerts/<id>          one alert with its timeline ("hops") and the messages sent for it ("outbox")
  POST /api/alerts/<id>/acknowledge|dispatch|resolve   JSON {"operator", "note"?, "unit"?} -> the updated alert
  GET  /api/devices              {"now", "low_battery_pct", "heartbeat_grace_min", "devices": [...]}: every
                                 configured wearable, worst first (status silent, low_battery, unknown, ok), with
                                 last heard, battery, last position, next heartbeat expected (hub/incidents/liveness.py)
  GET  /api/devices/<id>         one of them
  GET  /api/events               Server-Sent Events: hello, alert.new, alert.updated, alert.duplicate,
                                 alert.rejected, outbox.sent, outbox.failed, modem.link, device.status,
                                 device.silent, device.back (with "device": its status), resync, heartbeat

Heartbeats (HB) are not incidents: they are never listed as alerts, and an event about one carries no alert.

Each alert the API returns carries the wearer's name from the configuration ("wearer", None for an unknown device),
its hops and its outbox rows. Nothing the page sends is trusted: bodies are size-limited, must be JSON objects with
string fields of bounded length, and POSTs must say Content-Type: application/json (a cross-site form cannot).
"""
import ipaddress
import json
import logging
import queue
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from drivers.alert import CATEGORIES, EVENT_CLASSES, EVENTS, STATUS_EVENTS, STATUSES
from hub.hops import DEVICE_EVENTS, Hops
from hub.incidents.liveness import STATUS_ORDER, Liveness
from hub.incidents.operator import ACTIONS, ActionError
from hub.store import STATES, TRANSITIONS
from hub.store.incidents import get_escalation

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Only these files are served: no path from a request ever reaches the file system.
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
# States only move forward, and the last one closes the alert.
ACTIVE_STATES = STATES[:-1]
MAX_BODY = 16 * 1024
FIELD_LIMITS = {"operator": 60, "unit": 60, "note": 500}
# The page loads only from the hub itself: even if some text slipped through unescaped, no inline script runs.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# What the page would otherwise keep a copy of: the event codes' classes, the categories, the hub->device statuses,
# the alert states in their order, from which states each action is allowed, and the device list's statuses (worst
# first). A new event code or state then needs no change to the console's script.
META = {
    "events": {event: list(EVENT_CLASSES[event]) for event in EVENTS},
    "categories": list(CATEGORIES),
    "statuses": list(STATUSES),
    "states": list(STATES),
    "actions": {action: [state for state in STATES if state in TRANSITIONS[action][0]] for action in ACTIONS},
    "device_statuses": list(STATUS_ORDER),
}


class _Resync:
    """Marker a feed returns after it had to drop events: the page must reload the list."""


RESYNC = _Resync()
_CLOSED = object()


class ClientFeed:
    """The bounded queue between the bus (publisher's thread) and one event-stream client (its handler thread).

    offer() never blocks: when the queue is full the event is dropped and the feed remembers it, so the client is
    told to resynchronise instead of silently missing an update."""

    def __init__(self, size):
        self._queue = queue.Queue(maxsize=size)
        self._lock = threading.Lock()
        self._overflowed = False
        self._closed = False

    def offer(self, event):
        with self._lock:
            if self._closed:
                return
            try:
                self._queue.put_nowait(event)
            except queue.Full:
                self._overflowed = True

    def close(self):
        with self._lock:
            self._closed = True
            self._drain()
            self._queue.put_nowait(_CLOSED)

    def next(self, timeout):
        """The next event, RESYNC after an overflow, None when nothing came within `timeout`, _CLOSED at the end."""
        resync = self._take_overflow()
        if resync:
            return resync
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _CLOSED:
            return item
        # Whatever is still queued is older than what was dropped: the reload replaces it all.
        return self._take_overflow() or item

    def _take_overflow(self):
        with self._lock:
            if self._closed:
                return _CLOSED
            if not self._overflowed:
                return None
            self._overflowed = False
            self._drain()
            return RESYNC

    def _drain(self):
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return


class BadRequest(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class ConsoleServer:
    def __init__(self, store, bus, actions, config, host="127.0.0.1", port=0, queue_size=256, heartbeat_s=15.0,
                 allowed_hosts=(), liveness=None):
        """allowed_hosts: host names (besides IP addresses and localhost) operators use to reach the console,
        e.g. ("deme-hub.local",) when it listens on the police station's network (hub.toml: [console]
        allowed_hosts, validated by hub.config).
        liveness: the hub's Liveness (its watchdog raises device.silent); by default one that only reads."""
        self.store = store
        self.liveness = liveness or Liveness(store, Hops(store, bus), config)
        self.allowed_hosts = frozenset(name.lower() for name in allowed_hosts)
        self.bus = bus
        self.actions = actions
        self.config = config
        self.host = host
        self.port = port
        self.queue_size = queue_size
        self.heartbeat_s = heartbeat_s
        self._httpd = None
        self._thread = None
        self._feeds = set()
        self._feeds_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self):
        console = self

        class Handler(_Handler):
            server_version = "DemeConsole/1"
            app = console

        self._httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="console-http", daemon=True)
        self._thread.start()
        log.info("console on %s", self.url)
        return self

    def stop(self):
        if self._httpd is None:
            return
        with self._feeds_lock:
            feeds = list(self._feeds)
        for feed in feeds:
            feed.close()
        # shutdown() waits for the serve loop's next poll (0.5 s); a connection of our own wakes it at once.
        stopper = threading.Thread(target=self._httpd.shutdown, name="console-stop")
        stopper.start()
        try:
            socket.create_connection(("127.0.0.1" if self.host in ("", "0.0.0.0") else self.host, self.port),
                                     timeout=1).close()
        except OSError:
            pass
        stopper.join()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        host = self.host if ":" not in self.host else "[%s]" % self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return "http://%s:%d" % (host, self.port)

    @property
    def client_count(self):
        with self._feeds_lock:
            return len(self._feeds)

    # -- data ------------------------------------------------------------------------------------------------
    def describe(self, alert):
        """The alert as the page shows it: the stored fields, the wearer's name, its timeline and outbox."""
        alert = dict(alert)
        device = self.config.devices.get(alert["device_id"])
        alert["wearer"] = device.wearer if device else None
        alert["hops"] = self.store.hops(alert["id"])
        alert["outbox"] = [_outbox_row(row) for row in self.store.outbox(alert["id"])]
        ladder = get_escalation(self.store, alert["id"])
        # Where the response plan stands: "unanswered" is flagged on the console as on MQTT and to supervisors.
        alert["escalation"] = ({key: ladder[key] for key in ("state", "route", "step", "repeat")}
                               if ladder else None)
        return alert

    def list_alerts(self, state):
        if state == "active":
            alerts = self.store.list_alerts(states=ACTIVE_STATES)
        elif state == "all":
            alerts = self.store.list_alerts()
        else:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "state must be 'active' or 'all', not %r" % state[:40])
        return {"now": time.time(), "alerts": [self.describe(a) for a in alerts]}

    def list_devices(self):
        return {"now": time.time(), "low_battery_pct": self.config.low_battery_pct,
                "heartbeat_grace_min": self.config.heartbeat_grace_min, "devices": self.liveness.describe_all()}

    def device_or_404(self, device_id):
        if device_id not in self.config.devices:
            raise BadRequest(HTTPStatus.NOT_FOUND, "no device %s" % device_id[:20])
        return self.liveness.describe(device_id)

    def alert_or_404(self, alert_id):
        alert = self.store.get_alert(alert_id)
        if alert is None:
            raise BadRequest(HTTPStatus.NOT_FOUND, "no alert %d" % alert_id)
        return alert

    def apply(self, alert_id, action, body):
        self.alert_or_404(alert_id)
        fields = _action_fields(action, body)
        try:
            alert = self.actions.apply(alert_id, action, fields["operator"], note=fields.get("note"),
                                       unit=fields.get("unit"))
        except ActionError as exc:
            current = self.store.get_alert(alert_id)
            raise _Conflict(str(exc), self.describe(current) if current else None) from None
        return self.describe(alert)

    def event_payload(self, event):
        """JSON for one bus event, read fresh from the store so the page always shows the committed truth."""
        alert_id = None
        if event.alert and event.alert.get("id") is not None:
            alert_id = event.alert["id"]
        elif isinstance(event.detail, dict) and isinstance(event.detail.get("alert_id"), int):
            alert_id = event.detail["alert_id"]
        alert = self.store.get_alert(alert_id) if alert_id is not None else None
        if alert is None and event.alert and event.alert.get("id") is not None:
            alert = event.alert
        if alert is not None and alert.get("event") in STATUS_EVENTS:
            alert = None  # e.g. the receipt of a heartbeat was sent: nothing for the alert list
        payload = {
            "kind": event.kind,
            "alert_id": alert_id,
            "alert": self.describe(alert) if alert is not None else None,
            "detail": event.detail,
            "t": event.t,
        }
        device_id = event.detail.get("device_id") if isinstance(event.detail, dict) else None
        if event.kind in DEVICE_EVENTS and device_id in self.config.devices:
            payload["device"] = self.liveness.describe(device_id)
        return payload

    # -- event streams ---------------------------------------------------------------------------------------
    def open_feed(self):
        feed = ClientFeed(self.queue_size)
        with self._feeds_lock:
            self._feeds.add(feed)
        unsubscribe = self.bus.subscribe(feed.offer)

        def close():
            unsubscribe()
            with self._feeds_lock:
                self._feeds.discard(feed)

        return feed, close


class _Conflict(Exception):
    def __init__(self, message, alert):
        super().__init__(message)
        self.message = message
        self.alert = alert


def _outbox_row(row):
    out = {key: row.get(key) for key in ("id", "kind", "recipient", "state", "attempts", "created_at", "sent_at",
                                         "last_error", "body")}
    # The ack's status (RCV/ACK/DSP/RES) tells the operator what the wearable's vibration means.
    out["status"] = None
    if row.get("kind") == "ack" and isinstance(row.get("body"), str):
        for item in row["body"].split(";"):
            if item.startswith("s="):
                out["status"] = item[2:]
    return out


def _action_fields(action, body):
    if not isinstance(body, dict):
        raise BadRequest(HTTPStatus.BAD_REQUEST, "the body must be a JSON object like {\"operator\": \"name\"}")
    fields = {}
    for name, limit in FIELD_LIMITS.items():
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadRequest(HTTPStatus.BAD_REQUEST, "'%s' must be text" % name)
        value = value.strip()
        if len(value) > limit:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "'%s' is longer than %d characters" % (name, limit))
        if any(ord(c) < 32 and c not in "\n\t" for c in value):
            raise BadRequest(HTTPStatus.BAD_REQUEST, "'%s' contains control characters" % name)
        if value:
            fields[name] = value
    if "operator" not in fields:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "'operator' is required: the name of the person acting")
    if action == "dispatch" and "unit" not in fields:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "'unit' is required to dispatch: the unit sent")
    if action == "resolve" and "note" not in fields:
        raise BadRequest(HTTPStatus.BAD_REQUEST, "'note' is required to resolve: how it ended")
    return fields


class _Handler(BaseHTTPRequestHandler):
    app = None  # the ConsoleServer, set by a subclass per server
    # Socket timeout: a client that stops sending a request, or stops reading its event stream, is dropped
    # instead of holding a thread for ever. Heartbeats keep healthy streams well inside it.
    timeout = 60

    def log_message(self, fmt, *args):
        log.debug("%s " + fmt, self.address_string(), *args)

    # -- routing ---------------------------------------------------------------------------------------------
    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        try:
            self._check_host()
            if method == "GET":
                self._get(parts, parse_qs(url.query))
            else:
                self._post(parts)
        except BadRequest as exc:
            self._json(exc.status, {"error": exc.message})
        except _Conflict as exc:
            self._json(HTTPStatus.CONFLICT, {"error": exc.message, "alert": exc.alert})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:  # a bug here must answer 500, never kill the server or hide the cause from the log
            log.exception("console: %s %s failed", method, self.path)
            try:
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error, see the hub log"})
            except OSError:
                pass

    def _get(self, parts, query):
        if not parts:
            return self._static("index.html")
        if parts == ["favicon.ico"]:
            return self._send_headers(HTTPStatus.NO_CONTENT, "image/x-icon", 0)
        if parts == ["healthz"]:
            return self._json(HTTPStatus.OK, {"ok": True, "clients": self.app.client_count})
        if len(parts) == 2 and parts[0] == "static" and parts[1] in STATIC_FILES:
            return self._static(parts[1])
        if parts[:2] == ["api", "alerts"]:
            if len(parts) == 2:
                state = query.get("state", ["active"])[0]
                return self._json(HTTPStatus.OK, self.app.list_alerts(state))
            if len(parts) == 3:
                alert = self.app.alert_or_404(_alert_id(parts[2]))
                return self._json(HTTPStatus.OK, self.app.describe(alert))
        if parts == ["api", "meta"]:
            return self._json(HTTPStatus.OK, META)
        if parts == ["api", "devices"]:
            return self._json(HTTPStatus.OK, self.app.list_devices())
        if len(parts) == 3 and parts[:2] == ["api", "devices"]:
            return self._json(HTTPStatus.OK, self.app.device_or_404(parts[2]))
        if parts == ["api", "events"]:
            return self._events()
        raise BadRequest(HTTPStatus.NOT_FOUND, "no such page: %s" % self.path[:80])

    def _post(self, parts):
        if len(parts) == 4 and parts[:2] == ["api", "alerts"] and parts[3] in ACTIONS:
            alert_id = _alert_id(parts[2])
            body = self._read_json()
            return self._json(HTTPStatus.OK, self.app.apply(alert_id, parts[3], body))
        raise BadRequest(HTTPStatus.NOT_FOUND, "no such action: %s" % self.path[:80])

    # -- request and response helpers ------------------------------------------------------------------------
    def _read_json(self):
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise BadRequest(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as Content-Type: application/json")
        origin = self.headers.get("Origin")
        host = self.headers.get("Host", "")
        if origin is not None and origin not in ("http://" + host, "https://" + host):
            raise BadRequest(HTTPStatus.FORBIDDEN, "actions are accepted only from the console page itself")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise BadRequest(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required") from None
        if length < 0 or length > MAX_BODY:
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the body is larger than %d bytes" % MAX_BODY)
        raw = self.rfile.read(length)
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "the body is not valid JSON (%s)" % str(exc)[:100]) from None

    def _check_host(self):
        """Refuse a Host that is a domain name we were not told about: a web page using DNS rebinding would
        otherwise read alerts (positions of people in danger) through the operator's own browser."""
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower().rstrip(".")  # "deme-hub.local." is the same name, fully qualified
        if name in ("localhost", "") or _is_ip(name) or name in self.app.allowed_hosts:
            return
        raise BadRequest(HTTPStatus.FORBIDDEN, "unknown Host %r: add its name to [console] allowed_hosts in the "
                         "hub's hub.toml" % host[:60])

    def _send_headers(self, status, content_type, length=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()

    def _json(self, status, payload):
        data = json.dumps(payload, default=str).encode("utf-8")
        self._send_headers(status, "application/json; charset=utf-8", len(data))
        self.wfile.write(data)

    def _static(self, name):
        data = (STATIC_DIR / name).read_bytes()
        self._send_headers(HTTPStatus.OK, STATIC_FILES[name], len(data))
        self.wfile.write(data)

    def _events(self):
        app = self.app
        feed, close = app.open_feed()
        try:
            self.close_connection = True
            self._send_headers(HTTPStatus.OK, "text/event-stream; charset=utf-8")
            # retry: how long the browser waits before it reconnects by itself.
            self._sse("hello", {"now": time.time(), "heartbeat_s": app.heartbeat_s}, retry_ms=2000)
            while True:
                item = feed.next(timeout=app.heartbeat_s)
                if item is _CLOSED:
                    return
                if item is None:
                    self._sse("heartbeat", {"now": time.time()})
                elif item is RESYNC:
                    self._sse("resync", {"now": time.time(), "reason": "events were dropped: reload the list"})
                else:
                    self._sse(item.kind, app.event_payload(item))
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the page went away; it reconnects by itself if it is still there
        finally:
            close()

    def _sse(self, kind, payload, retry_ms=None):
        lines = []
        if retry_ms is not None:
            lines.append("retry: %d" % retry_ms)
        # The kind is ours (bus event names); keep it to one safe token anyway.
        lines.append("event: " + "".join(c for c in kind if c.isalnum() or c in "._-"))
        # json.dumps never emits a raw newline, so one data: line carries the whole payload.
        lines.append("data: " + json.dumps(payload, default=str))
        self.wfile.write(("\n".join(lines) + "\n\n").encode("utf-8"))
        self.wfile.flush()


def _is_ip(name):
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _alert_id(text):
    if not text or len(text) > 18 or not all(c in "0123456789" for c in text):
        raise BadRequest(HTTPStatus.NOT_FOUND, "no alert %s" % text[:20])
    return int(text)
