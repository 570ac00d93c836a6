"""State that must survive a power cut: the alert counter, the last hub counter and the alarms not yet stored
by the hub. Every write is atomic (write a new file, then rename over the old one), which littlefs guarantees."""
import json
import os


class FlashStore:
    def __init__(self, root):
        self.root = root.rstrip("/") if root != "/" else ""

    def path(self, name):
        return self.root + "/" + name

    def read(self, name, default):
        try:
            with open(self.path(name)) as handle:
                return json.loads(handle.read())
        except (OSError, ValueError):
            # Missing or unreadable (a cut during the very first write): start from the default.
            return default

    def write(self, name, value):
        final = self.path(name)
        temp = final + ".new"
        with open(temp, "w") as handle:
            handle.write(json.dumps(value))
        os.rename(temp, final)


class AlarmState:
    """The counter is taken and persisted before the alarm that uses it is built: a reboot never reuses one."""

    def __init__(self, flash):
        self.flash = flash
        state = flash.read("state.json", {})
        self.counter = state.get("counter", 0)
        self.hub_counter = state.get("hub_counter", 0)
        self.pending = flash.read("pending.json", [])

    def _save_state(self):
        self.flash.write("state.json", {"counter": self.counter, "hub_counter": self.hub_counter})

    def next_counter(self):
        self.counter += 1
        self._save_state()
        return self.counter

    def accept_hub_counter(self, value):
        """True if this hub counter is new (then persisted); False for a replayed or old ack."""
        if value <= self.hub_counter:
            return False
        self.hub_counter = value
        self._save_state()
        return True

    def add(self, alarm):
        self.pending.append(alarm)
        self.save_pending()

    def save_pending(self):
        self.flash.write("pending.json", self.pending)

    def find(self, counter):
        for alarm in self.pending:
            if alarm["n"] == counter:
                return alarm
        return None

    def remove(self, counter):
        alarm = self.find(counter)
        if alarm is not None:
            self.pending.remove(alarm)
            self.save_pending()
        return alarm
