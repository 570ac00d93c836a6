"""The escalation engine: every open urgent incident (and every keyword report) climbs its response plan's ladder
until someone acts.

    escalation = Escalation(store, plan, hops, wake_outbox, devices=config.devices)
    escalation.start()          # in the running loop: follows the bus, resumes the ladders of the table
    ...
    await escalation.stop()

Step 1 goes at once: an SMS to every on-duty member of its teams (outbox kind "responder", the first priority).
Each step is sent `repeats` times `every_s` apart, step k+1 `after_s` after step k began (Route.schedule(), the
same schedule `deme plan check` prints); once the last send has had its time (Route.unanswered_after_s) the
incident is "unanswered": a bus event (the console's banner, MQTT) and an SMS to the supervisors.

An acknowledgement, a dispatch or a resolution, from the console or from a responder's reply, stops the ladder
(`alert.updated` on the bus, or acknowledged()/closed() called directly). Where the incident stands is the
`escalations` table, and each rung is one transaction with its SMS and hops (hub.store.incidents): a hub that
restarts carries on where it was, sending nothing twice.
"""
import asyncio
import collections
import logging
import time

from drivers.alert import URGENT_EVENTS
from hub.incidents.responder_text import responder_text, unanswered_text
from hub.store import incidents as incident_store
from hub.store.api import outbox_priority

log = logging.getLogger(__name__)

RESPONDER_KIND = "responder"
# The longest the engine sleeps without looking at the table (a wake-up lost to a race costs at most this).
MAX_WAIT_S = 5.0
# After the engine failed to act (the store refused a write), it tries again this much later, for ever: a ladder
# is never dropped, and each failure is in the log with its incident.
RETRY_AFTER_FAILURE_S = 2.0


def calls_for_a_ladder(alert):
    """Whether this alert is an incident the plan escalates: still new, not merged into another, urgent (SOS, FALL,
    DUR) or a keyword report from any phone."""
    if alert is None or alert.get("state") != "new" or alert.get("outcome"):
        return False
    return alert.get("source") == "report" or alert.get("event") in URGENT_EVENTS


def unanswered_rung(route):
    """The (step, repeat) the table holds once every send of the route is done: the rung after the last step."""
    return len(route.steps) + 1, 1


class Escalation:
    def __init__(self, store, plan, hops, wake_outbox, devices=None, clock=time.time):
        """plan: a hub.incidents.plan.ResponsePlan. hops: the hub's hub.hops.Hops. wake_outbox: called after SMS
        were enqueued. devices: device id -> hub.config.Device (the wearer's name for the SMS). clock: Unix time."""
        self.store = store
        self.plan = plan
        self.hops = hops
        self.wake_outbox = wake_outbox or (lambda: None)
        self.devices = devices or {}
        self.clock = clock
        self._events = collections.deque()  # (kind, alert id) handed over by the bus, in the publisher's thread
        self._unsubscribe = None
        self._loop = None
        self._wake = None
        self._task = None

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self):
        """In the running loop: subscribe to the bus, pick up what the table and the store hold (a restart), and run
        the ladders in a task."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._unsubscribe = self.hops.bus.subscribe(self._on_bus_event)
        self._task = asyncio.create_task(self._run(), name="escalation")
        return self

    async def stop(self):
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _on_bus_event(self, event):
        # The publisher's thread (paho's, the console's, the loop): only hand the event over.
        if event.alert is None or event.kind not in ("alert.new", "alert.updated"):
            return
        self._events.append((event.kind, event.alert["id"]))
        if self._loop is not None and self._wake is not None:
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:
                pass  # the loop has closed: the hub is stopping

    async def _run(self):
        self.catch_up()
        while True:
            wait_s = MAX_WAIT_S
            try:
                self.handle_events()
                self.process_due()
                next_at = incident_store.next_escalation_at(self.store)
                if next_at is not None:
                    wait_s = min(MAX_WAIT_S, max(0.0, next_at - self.clock()))
            except Exception:  # the store failed: nothing was half-done (one transaction a rung); try again soon
                log.exception("escalation engine could not act; trying again in %.0f s", RETRY_AFTER_FAILURE_S)
                wait_s = RETRY_AFTER_FAILURE_S
            try:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that comes as the
                # wake-up does, and the hub's stop would then wait for this loop for ever.
                async with asyncio.timeout(wait_s):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()

    # -- what the hub tells it -------------------------------------------------------------------------------
    def catch_up(self):
        """At start-up: every open incident still "new" that has no ladder gets one (the hub stopped between storing
        it and starting it); the ladders in the table carry on by themselves (process_due)."""
        for alert in self.store.list_alerts(states=["new"], limit=1000):
            if calls_for_a_ladder(alert) and incident_store.get_escalation(self.store, alert["id"]) is None:
                self.begin(alert)

    def handle_events(self):
        while self._events:
            kind, alert_id = self._events.popleft()
            alert = self.store.get_alert(alert_id)  # as it is now: merged, cancelled or acknowledged meanwhile
            if alert is None:
                continue
            if kind == "alert.new":
                self.begin(alert)
            elif alert["state"] == "resolved":
                self.closed(alert_id)
            elif alert["state"] != "new":
                self.acknowledged(alert_id)

    def begin(self, alert):
        """Put a new incident on its ladder and send step 1 at once. Idempotent. Returns its code, or None when the
        alert calls for no ladder (not urgent, no longer new, merged)."""
        alert = self.store.get_alert(alert["id"])
        if not calls_for_a_ladder(alert):
            return None
        route = self._route(alert)
        code = incident_store.assign_code(self.store, alert["id"])
        now = self.clock()
        if incident_store.start_escalation(self.store, alert["id"], route.name, now):
            self.hops.record("incident.started", alert_id=alert["id"], code=code, route=route.name,
                             steps=len(route.steps))
            self.process_due(now)
        return code

    def acknowledged(self, alert_id):
        """Someone took it (console, reply, the post's button): no more SMS."""
        self._stop(alert_id, "acknowledged")

    def closed(self, alert_id):
        """Resolved or cancelled: no more SMS."""
        self._stop(alert_id, "closed")

    def _stop(self, alert_id, state):
        if incident_store.stop_escalation(self.store, alert_id, state, self.clock()):
            self.hops.record("incident.stopped", alert_id=alert_id, state=state)

    # -- the ladder ------------------------------------------------------------------------------------------
    def process_due(self, now=None):
        """Do every rung that is due. Returns how many were done."""
        now = self.clock() if now is None else now
        done = 0
        for row in incident_store.due_escalations(self.store, now):
            if self._climb(row, now):
                done += 1
        return done

    def _route(self, alert):
        position = (alert["lat"], alert["lon"]) if alert.get("lat") is not None else None
        return self.plan.route_for(alert["category"], alert["event"], device_id=alert["device_id"],
                                   position=position, source=alert.get("source") or "wearable")

    def _climb(self, row, now):
        alert_id = row["alert_id"]
        alert = self.store.get_alert(alert_id)
        if alert is None or alert["state"] != "new":
            # Acted on without the engine hearing of it (the event came before a restart): stop here.
            self._stop(alert_id, "closed" if alert is None or alert["state"] == "resolved" else "acknowledged")
            return False
        route = self._route(alert)
        at = (row["step"], row["repeat"])
        schedule = route.schedule()
        position = [(send.step, send.repeat) for send in schedule]
        if at == unanswered_rung(route) or at not in position:
            # The last send has had its time, or the plan changed under a ladder (a restart with another hub.toml):
            # either way nobody can be waited for any longer.
            return self._unanswered(alert, row, route, now)
        index = position.index(at)
        send = schedule[index]
        responders = self.plan.recipients(send, now)  # on duty, each once; the supervisors never nobody
        code = alert["code"] or incident_store.assign_code(self.store, alert_id)
        texts = [(r.name, r.phone, responder_text(alert, code, r.lang, self._wearer(alert), now=now),
                  outbox_priority(RESPONDER_KIND)) for r in responders]
        if index + 1 < len(schedule):
            following = schedule[index + 1]
            then = {"step": following.step, "repeat": following.repeat,
                    "next_at": row["started_at"] + following.offset_s, "state": "active"}
        else:
            step, repeat = unanswered_rung(route)
            then = {"step": step, "repeat": repeat, "next_at": row["started_at"] + route.unanswered_after_s,
                    "state": "active"}
        detail = {"step": send.step, "steps": len(route.steps), "repeat": send.repeat,
                  "repeats": route.steps[send.step - 1].repeats, "teams": list(send.teams), "route": route.name,
                  "texted": [r.name for r in responders]}
        if incident_store.advance_escalation(self.store, alert_id, at, texts, "incident.step", detail, then,
                                             now) is None:
            return False
        for name, phone, _body, _priority in texts:
            self.hops.record("responder.texted", alert_id=alert_id, responder=name, to=phone, step=send.step,
                             repeat=send.repeat, code=code)
        self.hops.record("incident.step", alert_id=alert_id, **detail)
        if not responders:
            log.warning("incident %s (alert %d): nobody of %s on duty for step %d", code, alert_id,
                        ", ".join(send.teams), send.step)
        if texts:
            self.wake_outbox()
        return True

    def _unanswered(self, alert, row, route, now):
        supervisors = self.plan.supervisors(now)
        code = alert["code"]
        texts = [(r.name, r.phone, unanswered_text(alert, code, r.lang, self._wearer(alert), now=now),
                  outbox_priority(RESPONDER_KIND)) for r in supervisors]
        detail = {"route": route.name, "code": code, "since_s": round(now - row["started_at"], 1),
                  "supervisors": [r.name for r in supervisors]}
        then = {"step": row["step"], "repeat": row["repeat"], "next_at": None, "state": "unanswered"}
        if incident_store.advance_escalation(self.store, alert["id"], (row["step"], row["repeat"]), texts,
                                             "incident.unanswered", detail, then, now) is None:
            return False
        for name, phone, _body, _priority in texts:
            self.hops.record("responder.texted", alert_id=alert["id"], responder=name, to=phone, step=None,
                             repeat=None, code=code)
        # The bus event: the console's banner, the MQTT event on the hub's events topic.
        self.hops.record("incident.unanswered", alert_id=alert["id"], **detail)
        if texts:
            self.wake_outbox()
        return True

    def _wearer(self, alert):
        if alert.get("source") == "report":
            return None
        device = self.devices.get(alert["device_id"])
        return device.wearer if device is not None else None
