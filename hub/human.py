"""Hub side of the human-readable contact SMS (the text itself is in drivers/human.py, shared with the wearable)."""
from drivers.human import human_alert_text, map_link  # noqa: F401
