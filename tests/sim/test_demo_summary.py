# The SOS scenario's hop summary (make demo SCENARIO=sos): what an installer reads to see where the seconds go.
from sim.demo import hop_summary


def test_hops_are_listed_in_the_order_they_happened_and_missing_ones_are_named():
    t0 = 1000.0
    entries = [
        {"t": 999.0, "hop": "fw.modem_power"},  # before the press: not this round trip
        {"t": 1000.0, "hop": "scenario.press"},
        {"t": 1000.8, "hop": "fw.modem_power"},  # the held press switched the modem on ...
        {"t": 1002.0, "hop": "fw.alarm_persisted"},  # ... before the long press completed
        {"t": 1008.5, "hop": "fw.modem_ready"},
        {"t": 1009.0, "hop": "fw.modem_ready"},
    ]
    lines = hop_summary(entries, t0).splitlines()
    assert [line.split("  ")[-1] for line in lines[:4]] == [
        "button pressed", "modem switched on", "alarm persisted on the wearable", "modem registered"]
    assert lines[1].split()[0] == "0.80" and lines[3].split()[0] == "8.50"  # the first of each, from the press
    assert all(line.endswith("(not seen)") for line in lines[4:]) and "operator acknowledged (not seen)" in lines[-2]
