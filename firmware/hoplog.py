"""The firmware's hop log: one JSON line per hop on the console. The simulator timestamps each line and the
end-to-end tests read them by hop name (`fw.*`); on a device they go to the REPL."""
import json


def log(hop, **detail):
    detail["hop"] = hop
    try:
        print("@@ " + json.dumps(detail))
    except Exception:
        print("@@ " + json.dumps({"hop": hop}))
