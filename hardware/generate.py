"""Regenerate what is derived from the hardware data: each build's wiring.svg (from pinout.json) and BOM.md (from
the bom.csv files). Run `.venv/bin/python hardware/generate.py`; the tests fail when a committed file is stale, so
the pictures can never disagree with the pinout.
"""
import itertools
import sys
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from hub.design import hardware_data, power  # noqa: E402  (the path above makes the repo importable as a script)

BOM_GOAL_EUR = 25.0

# (function, role) -> (component, what the wire reaches). The pin numbers come from the pinout, never from here.
TARGETS = {
    ("modem_uart", "uart_tx"): ("modem", "RXD (through the level shifter)"),
    ("modem_uart", "uart_rx"): ("modem", "TXD (through the level shifter)"),
    ("modem_dtr", "out"): ("modem", "DTR (through the level shifter)"),
    ("modem_ri", "in"): ("modem", "RI (through the level shifter)"),
    ("modem_pwrkey", "out"): ("modem", "PWRKEY (NPN pulls it low)"),
    ("modem_reset", "out"): ("modem", "RESET (NPN pulls it low)"),
    ("modem_power_en", "out"): ("modem", "modem supply switch"),
    ("gps_uart", "uart_tx"): ("gps", "RXD"),
    ("gps_uart", "uart_rx"): ("gps", "TXD"),
    ("gps_enable", "out"): ("gps", "power / wake"),
    ("imu_i2c", "i2c_sda"): ("imu", "SDA"),
    ("imu_i2c", "i2c_scl"): ("imu", "SCL"),
    ("imu_int", "in"): ("imu", "INT1"),
    ("rtc_int", "in"): ("rtc", "INT (100 kOhm pull-up to 3V3)"),
    ("button", "in"): ("wearer", "button to GND"),
    ("motor", "pwm"): ("wearer", "motor MOSFET gate"),
    ("motor", "out"): ("wearer", "motor MOSFET gate"),
    ("led", "out"): ("wearer", "LED (+ 1 kOhm to GND)"),
    ("battery_adc", "adc"): ("power", "VBAT divider midpoint"),
    ("charge_status", "in"): ("power", "charger CHRG"),
}
COMPONENT_ORDER = ("modem", "gps", "imu", "rtc", "wearer", "power")
COLORS = {"modem": "#c0392b", "gps": "#2471a3", "imu": "#7d3c98", "rtc": "#117a65", "wearer": "#1e8449",
          "power": "#b9770e"}
POWER_NOTES = {
    "a": [
        "Battery + (protected 1,000 mAh LiPo) -> modem VBAT directly, short thick wires, 2 x 470 uF + 100 nF + "
        "33 pF at the modem",
        "Battery + -> SS14 Schottky -> Pico VSYS (pin 39), 100 uF from VSYS to GND; Battery - -> GND (pins 3, 8, "
        "13...)",
        "Pico VBUS (pin 40) -> TP4056 IN (charges from the Pico's USB); TP4056 BAT -> Battery +",
        "Pico 3V3(OUT) (pin 36) -> level shifter VCCB, IMU VCC, GPS V_BCKP and load switch IN; modem VDD_EXT -> level "
        "shifter VCCA and OE",
        "On the carrier PCB with the bare RP2040 (BOM option mcu_board=carrier) the same GPIOs are traces: "
        "connect only the battery, motor and button",
    ],
    "b": [
        "18650 cell in the board's holder (mind the polarity printed on the board); the board charges it from USB-C",
        "Board 3V3 -> IMU VCC; board GND -> IMU GND, button, LED cathode, MOSFET source",
        "Board VBAT (battery +) -> motor +, motor - -> MOSFET drain, 1N4148W across the motor (cathode to +)",
        "Leave the microSD slot empty: its lines carry the IMU's I2C",
    ],
}


def _component_title(component, pinout):
    parts = pinout["parts"]
    return {
        "modem": f"Modem {parts['modem']}",
        "gps": f"GPS {parts.get('gps', '')}",
        "imu": f"IMU {parts.get('imu', '')} (I2C 0x{parts['imu_address']:02X})",
        "rtc": f"RTC {parts.get('rtc', '')} (I2C 0x{parts.get('rtc_address') or 0:02X}, on the IMU's bus)",
        "wearer": "Button, motor, LED",
        "power": "Battery and charger",
    }[component]


def _pin_label(pinout, pin, mcu_table):
    board = mcu_table["boards"].get(pinout["board"], {})
    if pinout["mcu"] == "rp2040":
        header = board.get("header_pin", {}).get(str(pin))
        return f"GP{pin}" + (f"  (pin {header})" if header else "")
    return f"IO{pin}"


def wiring_rows(pinout):
    """[(component, pin, role, function, target, on_board, irq)] in drawing order."""
    board = hardware_data.board_module()
    irq_pins = {pin for _, pin, role, _ in board.pin_uses(pinout) if role == "irq"}
    rows = []
    for name, pin, role, _bus in board.pin_uses(pinout):
        if role == "irq":
            continue
        component, target = TARGETS[(name, role)]
        on_board = pinout["functions"][name].get("wired") == "board"
        rows.append((component, pin, role, name, target, on_board, pin in irq_pins))
    rows.sort(key=lambda r: (COMPONENT_ORDER.index(r[0]), r[1]))
    return rows


def wiring_svg(build):
    pinout = hardware_data.load_pinout(build)
    mcu_table = hardware_data.load_mcu(pinout["mcu"])
    rows = wiring_rows(pinout)
    row_h, top, gap = 34, 110, 18
    groups = [(c, [r for r in rows if r[0] == c]) for c in COMPONENT_ORDER]
    groups = [(c, g) for c, g in groups if g]
    height = top + len(rows) * row_h + gap * len(groups) + 60 + 22 * len(POWER_NOTES[build])
    width = 1100
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="20" y="30" font-size="15" font-weight="bold">{escape(pinout["name"])}</text>',
        f'<text x="20" y="52" fill="#555">Wiring generated from hardware/build-{build}/pinout.json by '
        'hardware/generate.py: do not edit by hand.</text>',
        f'<text x="20" y="72" fill="#555">Left: {escape(pinout["board"])} pins. Right: where each wire goes. '
        '(on the board) = already wired by the board maker.</text>',
    ]
    mcu_x, mcu_w, tgt_x, tgt_w = 20, 250, 640, 440
    y = top
    mcu_top = top - 20
    for component, group in groups:
        color = COLORS[component]
        box_top = y - 20
        out.append(f'<rect x="{tgt_x}" y="{box_top}" width="{tgt_w}" height="{len(group) * row_h + 6}" rx="6" '
                   f'fill="{color}" fill-opacity="0.08" stroke="{color}"/>')
        out.append(f'<text x="{tgt_x + tgt_w - 8}" y="{box_top + 16}" text-anchor="end" font-weight="bold" '
                   f'fill="{color}">{escape(_component_title(component, pinout))}</text>')
        for _, pin, role, name, target, on_board, irq in group:
            label = _pin_label(pinout, pin, mcu_table)
            role_text = role.replace("_", " ").upper() + (" + IRQ" if irq else "")
            dash = ' stroke-dasharray="6 4"' if on_board else ""
            out.append(f'<text x="{mcu_x + 12}" y="{y + 4}" font-weight="bold">{escape(label)}</text>')
            out.append(f'<circle cx="{mcu_x + mcu_w}" cy="{y}" r="4" fill="{color}"/>')
            out.append(f'<line x1="{mcu_x + mcu_w}" y1="{y}" x2="{tgt_x}" y2="{y}" stroke="{color}" '
                       f'stroke-width="2.5"{dash}/>')
            out.append(f'<text x="{mcu_x + mcu_w + 12}" y="{y - 5}" font-size="11" fill="{color}">'
                       f'{escape(name)} {escape(role_text)}</text>')
            out.append(f'<circle cx="{tgt_x}" cy="{y}" r="4" fill="{color}"/>')
            suffix = " (on the board)" if on_board else ""
            out.append(f'<text x="{tgt_x + 12}" y="{y + 4}">{escape(target + suffix)}</text>')
            y += row_h
        y += gap
    out.insert(5, f'<rect x="{mcu_x}" y="{mcu_top}" width="{mcu_w}" height="{y - gap - mcu_top}" rx="8" '
                  'fill="#eef2f5" stroke="#34495e" stroke-width="2"/>')
    y += 10
    out.append(f'<text x="20" y="{y}" font-weight="bold">Power wiring</text>')
    for note in POWER_NOTES[build]:
        y += 22
        out.append(f'<text x="30" y="{y}">- {escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def bom_markdown():
    lines = [
        "# Bill of materials: cost per wearable",
        "",
        "Generated by `hardware/generate.py` from `hardware/build-*/bom.csv` (do not edit by hand). Prices are "
        "typical distributor or marketplace prices in EUR for about 100 units, each with its source and date in "
        "the CSV; every one is an **estimate** until a city gets its own quotes. VAT, shipping and the SIM card "
        "(an operator's contract) are not included.",
        "",
        f"Goal: at most {BOM_GOAL_EUR:.0f} EUR per wearable.",
        "",
        "| build | choice | total EUR | goal |",
        "| --- | --- | ---: | --- |",
    ]
    for build in hardware_data.BUILDS:
        rows = hardware_data.load_bom(build)
        options = hardware_data.bom_options(rows)
        for combo in itertools.product(*options.values()):
            choice = dict(zip(options, combo))
            total = hardware_data.bom_total(rows, choice)
            verdict = "meets" if total <= BOM_GOAL_EUR else f"misses by {total - BOM_GOAL_EUR:.2f}"
            text = ", ".join(f"{k} {v}" for k, v in choice.items())
            lines.append(f"| {build.upper()} | {text} | {total:.2f} | {verdict} |")
    lines += ["", *bom_reading(), ""]
    return "\n".join(lines)


def bom_reading():
    """The paragraph under the table: what meets the goal, what does not and what would, all computed."""
    rows = hardware_data.load_bom("a")
    base = {"gps": "L76K", "imu": "LIS3DH"}
    total = {(board, modem): hardware_data.bom_total(rows, {"mcu_board": board, "modem": modem, **base})
             for board in ("pico", "carrier") for modem in ("SIM800L", "A7670E")}
    module = next(r for r in rows if r["option"] == "modem=A7670E" and r["ref"] == "U2")
    without_module = total["carrier", "A7670E"] - module["unit_price_eur"]
    needed = BOM_GOAL_EUR - without_module
    standby = {"build": "a", "modem": "A7670E"}  # the firmware's default: modem gated, RP2040 dormant
    days_pico = power.compute(power.PowerConfig(**standby)).days
    days_carrier = power.compute(power.PowerConfig(**standby, mcu_board="carrier")).days
    france_verdict = ("meets the goal" if total["carrier", "A7670E"] <= BOM_GOAL_EUR else
                      f"misses the goal by {total['carrier', 'A7670E'] - BOM_GOAL_EUR:.2f} EUR")
    return [
        "Reading it (GPS L76K, IMU LIS3DH, the reference choice):",
        "",
        f"- **Mali (SIM800L, 2G)**: {total['pico', 'SIM800L']:.2f} EUR on the Pico board, "
        f"{total['carrier', 'SIM800L']:.2f} EUR on the carrier PCB: both meet the goal.",
        f"- **France (A7670E, LTE)**: {total['pico', 'A7670E']:.2f} EUR on the Pico board, "
        f"{total['carrier', 'A7670E']:.2f} EUR on the carrier PCB, which {france_verdict}. Everything but the LTE "
        f"module costs {without_module:.2f} EUR on the carrier, so the goal needs the A7670E at "
        f"{needed:.2f} EUR or less; it lists at {module['unit_price_eur']:.2f} EUR for 100 units. Only a volume "
        "quote (above 1,000 units, or a city's tender) can close that: no distributor listing does, and we do not "
        "count on it.",
        "- **mcu_board=carrier** puts the RP2040, its 2 MB flash, the 12 MHz crystal, USB-C and a TPS63031 "
        "buck-boost (in place of the Pico's RT6150, same power path: after the SS14, 3.3 V held down to 1.8 V in) "
        "on the carrier PCB. It costs the installer an SMT assembly order (JLCPCB or any assembler, one panel at "
        "least, laid out from `build-a/netlist-carrier.txt`): the QFN-56 at 0.4 mm pitch cannot be hand-soldered. "
        "**mcu_board=pico** keeps a Pico that can be hand-wired or soldered onto the simpler carrier, for a pilot "
        "of a few units. Same GPIOs, same pinout.json, same firmware. The carrier also lowers the dormant floor: "
        f"standby profile with the A7670E {days_pico:.1f} days on the Pico, {days_carrier:.1f} days on the "
        "carrier (estimates in power.json 'mcu_boards', to be measured).",
        "- For every option the RTC is the BM8563, pin- and register-compatible with the NXP PCF8563 (the drop-in "
        "second source) at about a quarter of its price. Examined and not taken: a PCB-trace LTE antenna (band "
        "20, 800 MHz, is France's coverage band and needs about 9 cm of radiator, which a 50 x 35 mm board "
        "cannot give), a discrete P-MOSFET instead of the TPS22918 GPS switch (about 0.30 EUR less, but no "
        "controlled inrush on the shared 3V3 rail), a cheaper level translator (none that is auto-direction "
        "down to 1.8 V costs less).",
        "- Build B (the LilyGO board) costs about 39 EUR: it buys speed of assembly, not price, and its 18650 "
        "cell makes it a belt or bag device rather than a wristband.",
    ]


POWER_CASES = (
    ("A Pico, A7670E: firmware standby", power.PowerConfig(build="a", modem="A7670E")),
    ("A Pico, SIM800L: firmware standby", power.PowerConfig(build="a", modem="SIM800L")),
    ("A carrier, A7670E: firmware standby", power.PowerConfig(build="a", modem="A7670E", mcu_board="carrier")),
    ("A carrier, SIM800L: firmware standby", power.PowerConfig(build="a", modem="SIM800L", mcu_board="carrier")),
    ("A Pico, A7670E: heartbeat every 4 h", power.PowerConfig(build="a", modem="A7670E", heartbeat_min=240)),
    ("A Pico, A7670E: modem asleep, registered*", power.PowerConfig(build="a", modem="A7670E", modem_mode="drx")),
    ("A Pico, A7670E: modem_mode always", power.PowerConfig(build="a", modem="A7670E", modem_mode="idle")),
    ("A Pico, A7670E: GPS always on", power.PowerConfig(build="a", modem="A7670E", gps="always")),
    ("B, 1,000 mAh: firmware standby", power.PowerConfig(build="b", battery_mah=1000)),
    ("B, 18650 3,500 mAh: firmware standby", power.PowerConfig(build="b", battery_mah=3500)),
)


def power_svg():
    """Battery life of the main configurations (hourly heartbeat, no alert) against the 14-day goal."""
    row_h, left, bar_w, top = 34, 330, 520, 70
    days = [(label, power.compute(config).days) for label, config in POWER_CASES]
    scale = bar_w / 30.0
    height = top + row_h * len(days) + 50
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="900" height="{height}" viewBox="0 0 900 {height}" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="13">',
        f'<rect width="900" height="{height}" fill="white"/>',
        '<text x="20" y="28" font-size="15" font-weight="bold">Battery life, heartbeat SMS every 60 min, no alert '
        '(deme power)</text>',
        '<text x="20" y="48" fill="#555">Generated by hardware/generate.py from hardware/build-*/power.json; '
        'figures are datasheet values and marked estimates. * not in the firmware.</text>',
    ]
    for i, (label, value) in enumerate(days):
        y = top + i * row_h
        color = "#1e8449" if value >= power.GOAL_DAYS else "#c0392b"
        width = min(value, 30.0) * scale
        out.append(f'<text x="{left - 10}" y="{y + 17}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y + 4}" width="{width:.1f}" height="20" fill="{color}"/>')
        out.append(f'<text x="{left + width + 6:.1f}" y="{y + 19}">{value:.1f} days</text>')
    goal_x = left + power.GOAL_DAYS * scale
    bottom = top + row_h * len(days)
    out.append(f'<line x1="{goal_x:.1f}" y1="{top - 6}" x2="{goal_x:.1f}" y2="{bottom}" stroke="#333" '
               'stroke-dasharray="5 4"/>')
    out.append(f'<text x="{goal_x:.1f}" y="{bottom + 18}" text-anchor="middle">goal: {power.GOAL_DAYS} days</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def power_path_boxes():
    """(x, y, w, h, title, detail) of the build A power-path picture; GPIO numbers from the pinout."""
    f = hardware_data.load_pinout("a")["functions"]
    return (
        (20, 80, 190, 70, "USB 5 V", "Pico micro-USB (VBUS, pin 40)"),
        (20, 200, 190, 70, "TP4056 charger", f"500 mA (PROG 2.4 kOhm), CHRG -> GP{f['charge_status']['pin']}"),
        (20, 320, 190, 80, "LiPo 1,000 mAh", "with protection (PCM); 3.5-4.2 V"),
        (330, 300, 230, 120, "Modem VBAT", "A7670E / SIM800L, 2 A bursts; 2 x 470 uF polymer + 100 nF + 33 pF at "
                                            "the pins; short thick wires from the cell"),
        (330, 170, 230, 80, "SS14 Schottky", "keeps the modem from draining VSYS during a burst"),
        (330, 40, 230, 90, "Pico VSYS (pin 39)",
         "100 uF; RT6150 (Pico) or TPS63031 (carrier) holds 3.3 V down to 1.8 V"),
        (660, 40, 220, 90, "3V3 (pin 36)", "IMU, level shifter B side, GPS backup, load switch"),
        (660, 170, 220, 80, "TPS22918 load switch", f"EN = GP{f['gps_enable']['pin']} -> GPS VCC (off between "
                                                    "alerts)"),
        (660, 300, 220, 80, "TXS0104E A side", "powered by the modem's VDD_EXT (1.8 / 2.8 V)"),
    )


POWER_PATH_ARROWS = (
    (115, 150, 115, 200, "VBUS"), (115, 270, 115, 320, "BAT"), (210, 360, 330, 360, "VBAT"),
    (210, 345, 330, 210, "VBAT"), (445, 170, 445, 130, "VSYS"), (560, 85, 660, 85, "3V3"),
    (770, 130, 770, 170, "3V3"), (560, 340, 660, 340, "VDD_EXT"),
)


def power_path_svg():
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="450" viewBox="0 0 900 450" '
        'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
        '<path d="M0,0 L10,4 L0,8 z" fill="#34495e"/></marker></defs>',
        '<rect width="900" height="450" fill="white"/>',
        '<text x="20" y="25" font-size="15" font-weight="bold">Build A power path: the cell feeds the modem '
        'directly; the Pico is isolated by a diode</text>',
    ]
    for x1, y1, x2, y2, _label in POWER_PATH_ARROWS:
        out.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#34495e" stroke-width="2" '
                   'marker-end="url(#arrow)"/>')
    for x, y, w, h, title, detail in power_path_boxes():
        out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="#fdf2e9" stroke="#b9770e"/>')
        out.append(f'<text x="{x + 8}" y="{y + 20}" font-weight="bold">{escape(title)}</text>')
        words, line, lines = detail.split(), "", []
        for word in words:
            if len(line) + len(word) > w // 7:
                lines.append(line)
                line = ""
            line = f"{line} {word}".strip()
        lines.append(line)
        for i, text in enumerate(lines):
            out.append(f'<text x="{x + 8}" y="{y + 38 + 15 * i}">{escape(text)}</text>')
    for x1, y1, x2, y2, label in POWER_PATH_ARROWS:  # labels last: never hidden under a box
        mid_x = min(x1, x2) + 10 if y1 == y2 else (x1 + x2) / 2 + 6
        mid_y = (y1 + y2) / 2 - 4
        out.append(f'<text x="{mid_x:.0f}" y="{mid_y:.0f}" fill="#34495e">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def outputs():
    """{path: expected text} for every generated file."""
    img = REPO / "docs" / "img"
    files = {hardware_data.HARDWARE / "BOM.md": bom_markdown()}
    for build in hardware_data.BUILDS:
        svg = wiring_svg(build)
        files[hardware_data.build_dir(build) / "wiring.svg"] = svg
        files[img / f"wiring-build-{build}.svg"] = svg
    files[img / "battery-life.svg"] = power_svg()
    files[img / "power-path-build-a.svg"] = power_path_svg()
    return files


def main():
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
