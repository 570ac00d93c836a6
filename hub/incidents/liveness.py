"""Per-device liveness and the watchdog: a wearable whose battery died, or which is out of coverage, cannot call
for help, so the staff must know.

Every new authenticated message (any event, not only HB) updates the device's row in the store, in the same
transaction as the message itself (hub/store/). This module reads those rows and decides:

- a device is *silent* when nothing new was heard for 2 x heartbeat_min + heartbeat_grace_min (hub.toml; a device
  may override heartbeat_min), counted from its last message or, for a device never heard, from when the hub first
  tracked it. check(now) raises ONE "device.silent" per silence (the flag is durable: a restart does not raise it
  again); the next message from the device raises "device.back" and clears it.
- its battery is *low* below low_battery_pct (the device list warns; a LOWBAT message is an incident of its own).

The clock is injected (check(now), heard(device_id, now)): the tests never wait.
"""
import asyncio
import logging
import time

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 30.0
# What the device list shows, worst first.
STATUS_ORDER = ("silent", "low_battery", "unknown", "ok")


class Liveness:
    def __init__(self, store, hops, config, started_at=None, clock=time.time):
        """hops: the hub's hub.hops.Hops, through which silences and returns reach every live view."""
        self.store = store
        self.hops = hops
        self.config = config
        self.clock = clock
        self.started_at = started_at if started_at is not None else clock()

    def start(self):
        """Track every configured device from now on (a device the hub knew before keeps its earlier start)."""
        self.store.track_devices(self.config.devices, t=self.started_at)
        return self

    # -- what the console and MQTT show ----------------------------------------------------------------------
    def describe(self, device_id, row=None, now=None):
        """The status of one configured device as the console API returns it."""
        device = self.config.devices[device_id]
        row = row if row is not None else self.store.device_status(device_id)
        row = row or {}
        now = now if now is not None else self.clock()
        heard = row.get("last_heard_at")
        baseline = heard if heard is not None else row.get("tracked_since", self.started_at)
        battery = row.get("battery")
        low = battery is not None and battery < self.config.low_battery_pct
        if row.get("silent_at") is not None:
            status = "silent"
        elif low:
            status = "low_battery"
        elif heard is None:
            status = "unknown"
        else:
            status = "ok"
        position = None
        if row.get("lat") is not None:
            position = {"lat": row["lat"], "lon": row["lon"], "acc_m": row.get("acc_m"), "at": row.get("position_at")}
        return {
            "id": device_id,
            "wearer": device.wearer,
            "status": status,
            "heartbeat_min": device.heartbeat_min,
            "last_heard_at": heard,
            "last_via": row.get("last_via"),
            "last_event": row.get("last_event"),
            "last_counter": row.get("last_counter"),
            "battery": battery,
            "battery_at": row.get("battery_at"),
            "low_battery": low,
            "position": position,
            "cell": row.get("cell"),
            "next_heartbeat_at": heard + device.heartbeat_min * 60 if heard is not None else None,
            "silent_after": baseline + self.config.silent_after_s(device_id),
            "silent_at": row.get("silent_at"),
            "back_at": row.get("back_at"),
            "tracked_since": row.get("tracked_since", self.started_at),
        }

    def describe_all(self, now=None):
        """Every configured device, worst status first, then by id."""
        rows = self.store.device_statuses()
        now = now if now is not None else self.clock()
        devices = [self.describe(device_id, rows.get(device_id) or {}, now) for device_id in self.config.devices]
        return sorted(devices, key=lambda d: (STATUS_ORDER.index(d["status"]), d["id"]))

    # -- the watchdog ----------------------------------------------------------------------------------------
    def check(self, now=None):
        """Raise "device.silent" for each device newly past its limit, "device.back" for each silent device heard
        since (e.g. a message committed just before a restart). Returns [(kind, device_id), ...]."""
        now = now if now is not None else self.clock()
        rows = self.store.device_statuses()
        raised = []
        for device_id in self.config.devices:
            row = rows.get(device_id)
            if row is None:
                self.store.track_devices([device_id], t=self.started_at)
                row = {"tracked_since": self.started_at, "last_heard_at": None, "silent_at": None}
            if row["silent_at"] is not None:
                if self._back(device_id, now):
                    raised.append(("device.back", device_id))
                continue
            cutoff = now - self.config.silent_after_s(device_id)
            baseline = row["last_heard_at"] if row["last_heard_at"] is not None else row["tracked_since"]
            if baseline < cutoff and self.store.mark_silent(device_id, cutoff, t=now):
                status = self.describe(device_id, now=now)
                self.hops.record("hub.device_silent", device=device_id, t=now,
                                 last_heard_at=status["last_heard_at"], battery=status["battery"],
                                 silent_after=status["silent_after"])
                raised.append(("device.silent", device_id))
        return raised

    def heard(self, device_id, now=None):
        """Called after a new message from the device was committed: clears a silence ("device.back"), otherwise
        tells every live view the new status ("device.status")."""
        if device_id not in self.config.devices:
            return None
        now = now if now is not None else self.clock()
        if self._back(device_id, now):
            return "device.back"
        self.hops.record("hub.device_heard", device=device_id, t=now)
        return "device.status"

    def _back(self, device_id, now):
        if not self.store.mark_back(device_id, t=now):
            return False
        status = self.describe(device_id, now=now)
        self.hops.record("hub.device_back", device=device_id, t=now, last_heard_at=status["last_heard_at"],
                         via=status["last_via"], event=status["last_event"])
        return True

    async def run(self, interval_s=CHECK_INTERVAL_S):
        while True:
            # Sleep first: at start-up the modem gets a moment to hand over what the SIM and the SMS centre kept
            # while the hub was down, before anyone is called silent.
            await asyncio.sleep(interval_s)
            try:
                self.check()
            except Exception:  # a failing check must not end the watchdog; the next one tries again
                log.exception("liveness check failed")
