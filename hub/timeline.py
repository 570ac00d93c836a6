"""Every hop of every alert, with its wall-clock time, as JSON lines: what `make demo SCENARIO=sos` prints."""
import json
import threading
import time


class Timeline:
    def __init__(self, path=None, source="hub"):
        self.path = path
        self.source = source
        self._lock = threading.Lock()

    def record(self, hop, **detail):
        entry = {"t": time.time(), "source": self.source, "hop": hop, **detail}
        if self.path is not None:
            line = json.dumps(entry, default=str) + "\n"
            with self._lock, open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
        return entry


def read_timeline(path):
    entries = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a stop mid-write: the others still count
    except FileNotFoundError:
        return []
    return sorted(entries, key=lambda e: e.get("t", 0))
