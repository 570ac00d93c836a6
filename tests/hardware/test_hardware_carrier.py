"""Build A's mcu_board=carrier option: its BOM rows are the parts its netlist adds to the Pico build, and its power
figures (power.json 'mcu_boards') are sourced and replace figures the budget knows."""
import collections
import importlib.util
import re

import pytest

from hub.design import hardware_data, power

HARDWARE = hardware_data.HARDWARE
CHOICE = {"modem": "A7670E", "gps": "L76K", "imu": "LIS3DH"}


def netlist_parts(name):
    """{ref: (name, value)} from a committed netlist."""
    parts = {}
    for line in (HARDWARE / "build-a" / name).read_text().splitlines():
        if line.startswith("part "):
            ref, rest = line[5:].split(" ", 1)
            parts[ref] = rest
    return parts


def count_values(parts, prefix):
    return collections.Counter(rest.split()[-1] for ref, rest in parts.items() if re.fullmatch(prefix + r"\d+", ref))


def carrier_rows():
    rows = hardware_data.load_bom("a")
    lines = hardware_data.bom_lines(rows, {"mcu_board": "carrier", **CHOICE})
    return [r for r in lines if r["option"] == "mcu_board=carrier"]


def bom_value(row):
    """'100 nF 0402 X7R (...)' -> '100nF'."""
    match = re.match(r"(\d+) (pF|nF|uF)", row["part"])
    return match and match.group(1) + match.group(2)


def test_carrier_capacitors_in_the_bom_are_the_ones_its_netlist_adds():
    added = count_values(netlist_parts("netlist-carrier.txt"), "C") - count_values(netlist_parts("netlist.txt"), "C")
    in_bom = collections.Counter()
    for row in carrier_rows():
        if row["ref"].startswith("C"):
            in_bom[bom_value(row)] += row["quantity"]
    assert in_bom == added


def test_carrier_resistors_and_chips_in_the_bom_are_the_ones_its_netlist_adds():
    pico, carrier = netlist_parts("netlist.txt"), netlist_parts("netlist-carrier.txt")
    added_r = sum(count_values(carrier, "R").values()) - sum(count_values(pico, "R").values())
    rows = carrier_rows()
    assert sum(r["quantity"] for r in rows if r["ref"].startswith("R")) == added_r
    new_refs = {ref for ref in carrier if ref not in pico and not re.fullmatch(r"[CR]\d+", ref)}
    assert new_refs == {"U9", "U10", "Y2", "L1", "J3", "JP1"}
    bom_refs = {r["ref"] for r in rows}
    assert new_refs - {"JP1"} <= bom_refs  # JP1 is two copper pads of the PCB, priced in PCB1
    assert carrier["U1"] == "RP2040" and "U1" in bom_refs


def test_carrier_power_figures_are_sourced_and_replace_known_figures():
    data = power.load_power_data("a")
    carrier = data["mcu_boards"]["carrier"]
    assert carrier and set(carrier) <= set(data["figures"])
    for name, figure in carrier.items():
        assert isinstance(figure["ma"], (int, float)) and figure["ma"] >= 0 and figure["source"], name
        assert isinstance(figure["estimate"], bool), name


def test_carrier_battery_life_quoted_in_bom_md_is_computed_from_the_figures():
    spec = importlib.util.spec_from_file_location("hardware_generate", HARDWARE / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    days = power.compute(power.PowerConfig(build="a", modem="A7670E", mcu_board="carrier")).days
    assert f"{days:.1f} days on the carrier" in generate.bom_markdown()
    # the board option changes only the microcontroller's figures
    plain = power.load_power_data("a")
    overlay = power.board_figures(plain, "carrier")
    changed = {k for k in plain["figures"] if plain["figures"][k] != overlay["figures"][k]}
    assert changed and changed <= set(plain["mcu_boards"]["carrier"])


@pytest.mark.parametrize("board", ["pico", "carrier"])
def test_each_board_keeps_the_modem_on_the_cell_and_the_mcu_behind_the_schottky(board):
    name = "netlist.txt" if board == "pico" else "netlist-carrier.txt"
    nets = {}
    for line in (HARDWARE / "build-a" / name).read_text().splitlines():
        if line.startswith("net "):
            net, pins = line[4:].split(": ")
            nets[net] = pins.split()
    assert "U2.VBAT" in nets["VBAT"] and "D1.A" in nets["VBAT"]
    supply = "U1.VSYS" if board == "pico" else "U10.VIN"
    assert supply in nets["VSYS"] and "D1.K" in nets["VSYS"]
