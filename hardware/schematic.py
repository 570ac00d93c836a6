"""The circuits of both builds in SKiDL, with SKiDL's electrical rules check plus our own design rules.

Why SKiDL without KiCad: every part is a SKiDL template (`Part(tool=SKIDL, dest=TEMPLATE, pins=[...])`) with its
pin types, so no KiCad symbol library is needed and SKiDL's ERC can still find undriven nets, outputs shorted
together and unpowered power pins. The microcontroller's pins come from pinout.json, so the schematic cannot
disagree with the firmware. Our own rules (SKiDL has no notion of them): every IC power pin decoupled to ground,
at least 500 uF of bulk capacitance on the modem's VBAT, a flyback diode across every motor, every pinout function
wired.

    .venv/bin/python hardware/schematic.py --build a [--mcu-board pico|carrier] [--netlist FILE]

Build A has two microcontroller boards (the BOM's `mcu_board` option): `pico`, a Raspberry Pi Pico soldered onto the
carrier (or hand-wired), and `carrier`, the bare RP2040 with its flash, crystal, USB-C and a TPS63031 buck-boost on
the carrier PCB itself. Both wire the same GPIOs (pinout.json); only the parts around the chip differ.

Exit status 0 when SKiDL's ERC and our rules find nothing (no error, no warning), 1 otherwise.
"""
import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

HARDWARE = Path(__file__).resolve().parent
BULK_UF_MIN = 500.0

# SKiDL writes <script>.erc/.log into the working directory when imported and looks for KiCad libraries: give it
# an empty scratch directory so neither the repository nor the output is littered.
_SCRATCH = tempfile.TemporaryDirectory()
for _var in ("KICAD_SYMBOL_DIR", *(f"KICAD{v}_SYMBOL_DIR" for v in range(6, 11))):
    os.environ.setdefault(_var, _SCRATCH.name)
_cwd = os.getcwd()
os.chdir(_SCRATCH.name)
_SKIDL_OUT = io.StringIO()  # SKiDL's log handlers keep the stream they found at import: this one
with contextlib.redirect_stderr(_SKIDL_OUT):
    import skidl
    from skidl import SKIDL, TEMPLATE, Net, Part, Pin
os.chdir(_cwd)

T = Pin.types


def template(name, prefix, pins, **attrs):
    """A part template: pins as (number, name, type)."""
    return Part(tool=SKIDL, name=name, ref_prefix=prefix, dest=TEMPLATE,
                pins=[Pin(num=num, name=pin_name, func=func) for num, pin_name, func in pins], **attrs)


def two_pin(name, prefix):
    return template(name, prefix, [(1, "1", T.PASSIVE), (2, "2", T.PASSIVE)])


def load_pinout(build):
    return json.loads((HARDWARE / f"build-{build}" / "pinout.json").read_text())


class Circuit:
    """Builds one build's circuit into a fresh SKiDL circuit and keeps what the design rules need."""

    def __init__(self, build, mcu_board=None):
        self.build = build
        self.mcu_board = mcu_board
        self.pinout = load_pinout(build)
        self.circuit = skidl.Circuit()
        self.mcu = None
        self.wired = {}  # pinout function -> the nets it drives on the MCU

    def part(self, tmpl, **kwargs):
        return tmpl(circuit=self.circuit, **kwargs)

    def net(self, name):
        return Net(name, circuit=self.circuit)

    def join(self, name, *pins):
        net = self.net(name)
        for pin in pins:
            net += pin
        return net

    def r(self, value):
        return self.part(R, value=value)

    def c(self, value):
        return self.part(C, value=value)

    def decouple(self, net, gnd, *values):
        for value in values:
            cap = self.c(value)
            net += cap[1]
            gnd += cap[2]

    def mcu_pin(self, function, key="pin"):
        """The MCU pin the pinout gives this function, typed for what the firmware makes of it."""
        spec = self.pinout["functions"][function]
        self.wired.setdefault(function, []).append(key)
        prefix = "GP" if self.pinout["mcu"] == "rp2040" else "IO"
        pin = self.mcu[f"{prefix}{spec[key]}"]
        mode = {"tx": "out", "rx": "in", "sda": "bidir", "scl": "out"}.get(key, spec.get("mode"))
        if mode == "in":
            pin.func = {"up": T.PULLUP, "down": T.PULLDN}.get(spec.get("pull"), T.INPUT)
        elif mode in ("out", "pwm"):
            pin.func = T.OUTPUT
        elif mode == "adc":
            pin.func = T.PASSIVE
        return pin


R = two_pin("R", "R")
C = two_pin("C", "C")
D = template("D", "D", [(1, "K", T.PASSIVE), (2, "A", T.PASSIVE)])
# a diode in the power path feeds the rail at its cathode: typed so that SKiDL sees VSYS driven
POWER_DIODE = template("Schottky", "D", [(1, "K", T.PWROUT), (2, "A", T.PWRIN)])
LED = template("LED", "D", [(1, "K", T.PASSIVE), (2, "A", T.PASSIVE)])
MOTOR = two_pin("vibration motor", "M")
BUTTON = two_pin("tactile switch", "SW")
ANTENNA = template("antenna", "AE", [(1, "FEED", T.PASSIVE)])
BATTERY = template("LiPo cell with PCM", "BT", [(1, "+", T.PWROUT), (2, "-", T.PWROUT)])
NMOS = template("AO3400A", "Q", [(1, "G", T.INPUT), (2, "S", T.PASSIVE), (3, "D", T.PASSIVE)])
NPN = template("MMBT3904", "Q", [(1, "B", T.PASSIVE), (2, "E", T.PASSIVE), (3, "C", T.OPENCOLL)])

PICO_GPIO = [n for n in range(0, 23)] + [26, 27, 28]
PICO = template("Raspberry Pi Pico", "A", [
    *((i + 1, f"GP{n}", T.BIDIR) for i, n in enumerate(PICO_GPIO)),
    (101, "VBUS", T.PWROUT), (102, "VSYS", T.PWRIN), (103, "GND", T.PWRIN), (104, "3V3_OUT", T.PWROUT),
    (105, "3V3_EN", T.INPUT), (106, "RUN", T.INPUT), (107, "ADC_VREF", T.PASSIVE),
])
MODEM = template("SIMCom A7670E / SIM800L", "U", [
    (1, "VBAT", T.PWRIN), (2, "GND", T.PWRIN), (3, "RXD", T.INPUT), (4, "TXD", T.OUTPUT), (5, "DTR", T.INPUT),
    (6, "RI", T.OUTPUT), (7, "PWRKEY", T.INPUT), (8, "RESET", T.INPUT), (9, "VDD_EXT", T.PWROUT),
    (10, "SIM_VDD", T.PWROUT), (11, "SIM_DATA", T.BIDIR), (12, "SIM_CLK", T.OUTPUT), (13, "SIM_RST", T.OUTPUT),
    (14, "RF_ANT", T.PASSIVE),
])
SIM = template("Nano-SIM holder", "J", [
    (1, "VCC", T.PWRIN), (2, "RST", T.INPUT), (3, "CLK", T.INPUT), (4, "GND", T.PWRIN), (5, "IO", T.BIDIR),
])
SHIFTER = template("TXS0104E", "U", [
    (1, "VCCA", T.PWRIN), (2, "A1", T.BIDIR), (3, "A2", T.BIDIR), (4, "A3", T.BIDIR), (5, "A4", T.BIDIR),
    (8, "OE", T.INPUT), (7, "GND", T.PWRIN), (14, "VCCB", T.PWRIN), (13, "B1", T.BIDIR), (12, "B2", T.BIDIR),
    (11, "B3", T.BIDIR), (10, "B4", T.BIDIR),
])
GPS = template("Quectel L76K", "U", [
    (1, "VCC", T.PWRIN), (2, "V_BCKP", T.PWRIN), (3, "GND", T.PWRIN), (4, "TXD", T.OUTPUT), (5, "RXD", T.INPUT),
    (6, "RF_IN", T.PASSIVE),
])
LOAD_SWITCH = template("TPS22918", "U", [
    (1, "VIN", T.PWRIN), (2, "GND", T.PWRIN), (3, "ON", T.INPUT), (4, "VOUT", T.PWROUT), (5, "CT", T.PASSIVE),
    (6, "QOD", T.PASSIVE),
])
IMU = template("LIS3DH", "U", [
    (1, "VDD", T.PWRIN), (2, "VDD_IO", T.PWRIN), (3, "GND", T.PWRIN), (4, "SDA", T.BIDIR), (5, "SCL", T.INPUT),
    (6, "INT1", T.OUTPUT), (7, "SDO_SA0", T.INPUT), (8, "CS", T.INPUT),
])
RTC = template("PCF8563", "U", [
    (1, "OSCI", T.PASSIVE), (2, "OSCO", T.PASSIVE), (3, "INT", T.OPENCOLL), (4, "VSS", T.PWRIN), (5, "SDA", T.BIDIR),
    (6, "SCL", T.INPUT), (7, "CLKOUT", T.OPENCOLL), (8, "VDD", T.PWRIN),
])
CRYSTAL = two_pin("32.768 kHz crystal", "Y")
CHARGER = template("TP4056", "U", [
    (1, "TEMP", T.INPUT), (2, "PROG", T.PASSIVE), (3, "GND", T.PWRIN), (4, "VCC", T.PWRIN), (5, "BAT", T.PASSIVE),
    (6, "STDBY", T.OPENCOLL), (7, "CHRG", T.OPENCOLL), (8, "CE", T.INPUT),
])
ESP32_BOARD_GPIO = [2, 13, 14, 18, 32, 34]
# RP2040 in its QFN-56 (RP2040 Datasheet, section 1.4.2 'Pin Locations'); pin 57 is the exposed ground pad
_RP2040_GPIO_PIN = {0: 2, 1: 3, 2: 4, 3: 5, 4: 6, 5: 7, 6: 8, 7: 9, 8: 11, 9: 12, 10: 13, 11: 14, 12: 15, 13: 16,
                    14: 17, 15: 18, 16: 27, 17: 28, 18: 29, 19: 30, 20: 31, 21: 32, 22: 34, 23: 35, 24: 36, 25: 37,
                    26: 38, 27: 39, 28: 40, 29: 41}
RP2040 = template("RP2040", "U", [
    *((num, f"GP{n}", T.BIDIR) for n, num in _RP2040_GPIO_PIN.items()),
    *((num, "IOVDD", T.PWRIN) for num in (1, 10, 22, 33, 42, 49)),
    (23, "DVDD", T.PWRIN), (50, "DVDD", T.PWRIN), (44, "VREG_VIN", T.PWRIN), (45, "VREG_VOUT", T.PWROUT),
    (48, "USB_VDD", T.PWRIN), (43, "ADC_AVDD", T.PWRIN), (57, "GND", T.PWRIN),
    (19, "TESTEN", T.INPUT), (20, "XIN", T.PASSIVE), (21, "XOUT", T.PASSIVE), (24, "SWCLK", T.INPUT),
    (25, "SWDIO", T.BIDIR), (26, "RUN", T.INPUT), (46, "USB_DM", T.BIDIR), (47, "USB_DP", T.BIDIR),
    (51, "QSPI_SD3", T.BIDIR), (52, "QSPI_SCLK", T.OUTPUT), (53, "QSPI_SD0", T.BIDIR), (54, "QSPI_SD2", T.BIDIR),
    (55, "QSPI_SD1", T.BIDIR), (56, "QSPI_SS", T.BIDIR),
])
FLASH = template("W25Q16JV", "U", [
    (1, "CS", T.INPUT), (2, "IO1", T.BIDIR), (3, "IO2", T.BIDIR), (4, "GND", T.PWRIN), (5, "IO0", T.BIDIR),
    (6, "CLK", T.INPUT), (7, "IO3", T.BIDIR), (8, "VCC", T.PWRIN),
])
# TI TPS63031 (VSON-10, datasheet SLVS696D 'Pin Functions'): fixed 3.3 V, FB to VOUT, PS/SYNC low = power-save mode
BUCK_BOOST = template("TPS63031", "U", [
    (1, "VOUT", T.PWROUT), (2, "L2", T.PASSIVE), (3, "PGND", T.PWRIN), (4, "L1", T.PASSIVE), (5, "VIN", T.PWRIN),
    (6, "EN", T.INPUT), (7, "PS_SYNC", T.INPUT), (8, "VINA", T.PWRIN), (9, "GND", T.PWRIN), (10, "FB", T.INPUT),
])
INDUCTOR = two_pin("inductor", "L")
XTAL_12M = two_pin("12 MHz crystal", "Y")
USB_C = template("USB-C receptacle", "J", [
    (1, "VBUS", T.PWROUT), (2, "GND", T.PASSIVE), (3, "CC1", T.PASSIVE), (4, "CC2", T.PASSIVE), (5, "DP", T.BIDIR),
    (6, "DM", T.BIDIR),
])
BOOT_PADS = two_pin("BOOTSEL pads", "JP")
MCU_BOARDS = ("pico", "carrier")

LILYGO = template("LilyGO T-A7670G R2 (GPS)", "A", [
    *((i + 1, f"IO{n}", T.BIDIR if n < 34 else T.INPUT) for i, n in enumerate(ESP32_BOARD_GPIO)),
    (101, "3V3", T.PWROUT), (102, "VBAT", T.PWROUT), (103, "GND", T.PWROUT),
])

MODULES = {PICO.name, LILYGO.name}
# inputs with a pull-up inside the part (A76XX / SIM800L hardware design: PWRKEY and RESET pulled up internally)
INTERNAL_PULL_UPS = {"PWRKEY", "RESET"}


def wearer_parts(cc, vbat, gnd, v3):
    """Button, motor driver and LED: the same on both builds."""
    sw = cc.part(BUTTON, ref="SW1")
    cc.mcu_pin("button") & sw[1]
    gnd += sw[2]

    led, r_led = cc.part(LED, ref="D3" if cc.build == "a" else "D2"), cc.r("1k")
    cc.mcu_pin("led") & r_led & led["A"]
    gnd += led["K"]

    q1, r_gate, r_pull = cc.part(NMOS, ref="Q1"), cc.r("100"), cc.r("100k")
    motor, flyback = cc.part(MOTOR, ref="M1"), cc.part(D, value="1N4148W", ref="D2" if cc.build == "a" else "D1")
    gate = cc.net("MOTOR_GATE")
    cc.mcu_pin("motor") & r_gate & gate
    gate += q1["G"], r_pull[1]
    gnd += r_pull[2], q1["S"]
    drain = cc.net("MOTOR_DRAIN")
    drain += q1["D"], motor[2], flyback["A"]
    vbat += motor[1], flyback["K"]
    return motor


def imu_parts(cc, gnd, v3):
    imu = cc.part(IMU, ref="U4" if cc.build == "a" else "U2")
    v3 += imu["VDD"], imu["VDD_IO"], imu["CS"]  # CS high selects I2C
    gnd += imu["GND"], imu["SDO_SA0"]  # SA0 low: address 0x18
    cc.decouple(v3, gnd, "100nF")
    sda, scl = cc.net("IMU_SDA"), cc.net("IMU_SCL")
    sda += cc.mcu_pin("imu_i2c", "sda"), imu["SDA"]
    scl += cc.mcu_pin("imu_i2c", "scl"), imu["SCL"]
    for line in (sda, scl):
        pull = cc.r("4.7k")
        line += pull[1]
        v3 += pull[2]
    cc.join("IMU_INT", cc.mcu_pin("imu_int"), imu["INT1"])
    cc.i2c = (sda, scl)
    return imu


def rtc_parts(cc, gnd, v3):
    """The external RTC whose alarm wakes the RP2040 from dormant: on the IMU's bus, powered from the always-on
    3V3 rail (so no backup cell), INT open drain with its own pull-up, CLKOUT unused (disabled by firmware)."""
    rtc, xtal = cc.part(RTC, ref="U8"), cc.part(CRYSTAL, ref="Y1")
    v3 += rtc["VDD"]
    gnd += rtc["VSS"]
    cc.decouple(v3, gnd, "100nF")
    sda, scl = cc.i2c
    sda += rtc["SDA"]
    scl += rtc["SCL"]
    cc.join("RTC_OSCI", rtc["OSCI"], xtal[1])  # OSCI carries the integrated load capacitance
    cc.join("RTC_OSCO", rtc["OSCO"], xtal[2])
    rtc["CLKOUT"] += cc.circuit.NC
    pull = cc.r("100k")
    cc.join("RTC_INT", cc.mcu_pin("rtc_int"), rtc["INT"], pull[1])
    v3 += pull[2]
    return rtc


def build_a(mcu_board="pico"):
    if mcu_board not in MCU_BOARDS:
        raise ValueError(f"mcu_board must be one of {', '.join(MCU_BOARDS)}")
    cc = Circuit("a", mcu_board)
    gnd, vbat, vsys, vbus, v3 = (cc.net(n) for n in ("GND", "VBAT", "VSYS", "VBUS", "3V3"))
    if mcu_board == "pico":
        cc.mcu = cc.part(PICO, ref="U1")
        cc.mcu["GND"] += gnd
        cc.mcu["VSYS"] += vsys
        cc.mcu["VBUS"] += vbus
        cc.mcu["3V3_OUT"] += v3
    else:
        cc.mcu = cc.part(RP2040, ref="U1")

    cell = cc.part(BATTERY, ref="BT1")
    vbat += cell["+"]
    gnd += cell["-"]
    charger = cc.part(CHARGER, ref="U7")
    vbus += charger["VCC"], charger["CE"]
    vbat += charger["BAT"]
    gnd += charger["GND"], charger["TEMP"]  # TEMP to GND: no NTC
    prog = cc.r("2.4k")  # 500 mA charge current
    charger["PROG"] & prog & gnd
    charger["STDBY"] += cc.circuit.NC
    cc.decouple(vbus, gnd, "10uF")
    cc.decouple(vbat, gnd, "10uF")
    cc.join("CHRG", cc.mcu_pin("charge_status"), charger["CHRG"])

    schottky = cc.part(POWER_DIODE, value="SS14", ref="D1")
    vbat += schottky["A"]
    vsys += schottky["K"]
    cc.decouple(vsys, gnd, "100uF")

    modem = cc.part(MODEM, ref="U2")
    vbat += modem["VBAT"]
    gnd += modem["GND"]
    cc.decouple(vbat, gnd, "470uF", "470uF", "100nF", "33pF")
    vdd_ext = cc.net("VDD_EXT")
    shifter = cc.part(SHIFTER, ref="U5")
    vdd_ext += modem["VDD_EXT"], shifter["VCCA"], shifter["OE"]
    cc.decouple(vdd_ext, gnd, "100nF")
    v3 += shifter["VCCB"]
    cc.decouple(v3, gnd, "100nF")
    gnd += shifter["GND"]
    lines = [("modem_uart", "tx", "RXD", "1"), ("modem_uart", "rx", "TXD", "2"), ("modem_dtr", "pin", "DTR", "3"),
             ("modem_ri", "pin", "RI", "4")]
    for function, key, modem_pin, channel in lines:
        cc.join(f"MODEM_{modem_pin}_LV", modem[modem_pin], shifter[f"A{channel}"])
        cc.join(f"MODEM_{modem_pin}_3V3", shifter[f"B{channel}"], cc.mcu_pin(function, key))
    for function, modem_pin, ref in (("modem_pwrkey", "PWRKEY", "Q2"), ("modem_reset", "RESET", "Q3")):
        q, r_base = cc.part(NPN, ref=ref), cc.r("4.7k")
        cc.mcu_pin(function) & r_base & q["B"]
        gnd += q["E"]
        line = cc.net(modem_pin)
        line += q["C"], modem[modem_pin]
        if modem_pin == "RESET":  # the datasheet's filter against RF pickup on RESET
            filt = cc.c("100nF")
            line += filt[1]
            gnd += filt[2]
    sim = cc.part(SIM, ref="J2")
    sim_vdd = cc.net("SIM_VDD")
    sim_vdd += modem["SIM_VDD"], sim["VCC"]
    cc.decouple(sim_vdd, gnd, "100nF")
    gnd += sim["GND"]
    for modem_pin, sim_pin in (("SIM_DATA", "IO"), ("SIM_CLK", "CLK"), ("SIM_RST", "RST")):
        cc.join(modem_pin, modem[modem_pin], sim[sim_pin])
    cc.join("LTE_ANT", modem["RF_ANT"], cc.part(ANTENNA, ref="AE1")["FEED"])

    gps, switch = cc.part(GPS, ref="U3"), cc.part(LOAD_SWITCH, ref="U6")
    gps_vcc = cc.net("GPS_VCC")
    v3 += switch["VIN"], gps["V_BCKP"]
    gps_vcc += switch["VOUT"], gps["VCC"]
    gnd += switch["GND"], gps["GND"]
    switch["CT"] += cc.circuit.NC
    switch["QOD"] += cc.circuit.NC
    cc.decouple(gps_vcc, gnd, "100nF")
    cc.join("GPS_EN", cc.mcu_pin("gps_enable"), switch["ON"])
    cc.join("GPS_TXD", gps["TXD"], cc.mcu_pin("gps_uart", "rx"))
    cc.join("GPS_RXD", gps["RXD"], cc.mcu_pin("gps_uart", "tx"))
    cc.join("GPS_ANT", gps["RF_IN"], cc.part(ANTENNA, ref="AE2")["FEED"])

    imu_parts(cc, gnd, v3)
    rtc_parts(cc, gnd, v3)
    wearer_parts(cc, vbat, gnd, v3)

    adc = cc.net("VBAT_SENSE")
    top, bottom, filt = cc.r("470k"), cc.r("470k"), cc.c("100nF")
    vbat & top & adc & bottom & gnd
    adc += filt[1], cc.mcu_pin("battery_adc")
    gnd += filt[2]
    cc.modem_vbat = vbat
    if mcu_board == "carrier":
        carrier_mcu_parts(cc, gnd, vsys, vbus, v3)
    _no_connect_unused(cc)
    return cc


def carrier_mcu_parts(cc, gnd, vsys, vbus, v3):
    """What the Pico board carried, on the carrier PCB: the RP2040's supply and decoupling (Hardware design with
    RP2040, 'Minimal design example': 100 nF at every IOVDD and DVDD pin, 1 uF at VREG_VIN and VREG_VOUT), the
    QSPI flash, the 12 MHz crystal with its 1 kOhm series resistor and 15 pF loads, USB-C for charging and flashing,
    BOOTSEL pads, and the TPS63031 buck-boost that replaces the Pico's RT6150: VSYS (after the SS14) in, 3.3 V out
    down to 1.8 V in, so the MCU rides through the modem's bursts as on the Pico."""
    mcu = cc.mcu
    gnd += mcu["GND"], mcu["TESTEN"]
    v3 += mcu["IOVDD"], mcu["USB_VDD"], mcu["ADC_AVDD"], mcu["VREG_VIN"], mcu["RUN"]  # RUN tied high: no reset key
    cc.decouple(v3, gnd, *["100nF"] * 6, "100nF", "100nF", "1uF")  # 6 x IOVDD, USB_VDD, ADC_AVDD, VREG_VIN
    dvdd = cc.net("DVDD")
    dvdd += mcu["VREG_VOUT"], mcu["DVDD"]
    cc.decouple(dvdd, gnd, "1uF", "100nF", "100nF")

    reg, coil = cc.part(BUCK_BOOST, ref="U10"), cc.part(INDUCTOR, value="1.5uH", ref="L1")
    vsys += reg["VIN"], reg["VINA"], reg["EN"]
    gnd += reg["PGND"], reg["GND"], reg["PS_SYNC"]  # PS/SYNC low: power-save mode at light load
    v3 += reg["VOUT"], reg["FB"]  # fixed-output TPS63031: FB to VOUT
    cc.join("BB_L1", reg["L1"], coil[1])
    cc.join("BB_L2", reg["L2"], coil[2])
    cc.decouple(vsys, gnd, "10uF", "100nF")
    cc.decouple(v3, gnd, "22uF", "22uF")  # SLVS696D: at least 20 uF effective at the output; 0805 X5R at 3.3 V

    flash = cc.part(FLASH, ref="U9")
    v3 += flash["VCC"]
    gnd += flash["GND"]
    cc.decouple(v3, gnd, "100nF")
    for mcu_pin, flash_pin in (("QSPI_SCLK", "CLK"), ("QSPI_SD0", "IO0"), ("QSPI_SD1", "IO1"), ("QSPI_SD2", "IO2"),
                               ("QSPI_SD3", "IO3")):
        cc.join(mcu_pin, mcu[mcu_pin], flash[flash_pin])
    boot, r_boot = cc.part(BOOT_PADS, ref="JP1"), cc.r("1k")
    cc.join("QSPI_SS", mcu["QSPI_SS"], flash["CS"], r_boot[1])
    cc.join("BOOTSEL", r_boot[2], boot[1])  # bridge the pads while plugging USB: the ROM's USB bootloader
    gnd += boot[2]

    xtal, r_xtal = cc.part(XTAL_12M, value="ABM8-272-T3", ref="Y2"), cc.r("1k")
    xin, xout = cc.join("XIN", mcu["XIN"], xtal[1]), cc.join("XOUT", mcu["XOUT"], r_xtal[1])
    cc.join("XTAL_OUT", r_xtal[2], xtal[2])
    for line in (xin, xout):
        load = cc.c("15pF")
        line += load[1]
        gnd += load[2]

    usb = cc.part(USB_C, ref="J3")
    vbus += usb["VBUS"]
    gnd += usb["GND"]
    for cc_pin in ("CC1", "CC2"):  # 5.1 kOhm pull-downs: a USB-C charger then offers 5 V
        pull = cc.r("5.1k")
        cc.join(f"USB_{cc_pin}", usb[cc_pin], pull[1])
        gnd += pull[2]
    for usb_pin, mcu_pin in (("DP", "USB_DP"), ("DM", "USB_DM")):
        series = cc.r("27")
        cc.join(f"USB_{usb_pin}", usb[usb_pin], series[1])
        cc.join(f"MCU_{usb_pin}", series[2], mcu[mcu_pin])


def build_b():
    cc = Circuit("b")
    cc.mcu = cc.part(LILYGO, ref="U1")
    gnd, vbat, v3 = cc.net("GND"), cc.net("VBAT"), cc.net("3V3")
    gnd += cc.mcu["GND"]
    vbat += cc.mcu["VBAT"]
    v3 += cc.mcu["3V3"]
    for function in cc.pinout["functions"]:
        if cc.pinout["functions"][function].get("wired") == "board":
            cc.wired[function] = ["on the board"]
    imu_parts(cc, gnd, v3)
    wearer_parts(cc, vbat, gnd, v3)
    cc.modem_vbat = None  # the board carries the modem and its bulk capacitance
    _no_connect_unused(cc)
    return cc


def _no_connect_unused(cc):
    for part in cc.circuit.parts:
        for pin in part.pins:
            if not pin.is_connected():
                pin += cc.circuit.NC


BUILDERS = {"a": build_a, "b": build_b}


def _cap_uf(value):
    units = {"pF": 1e-6, "nF": 1e-3, "uF": 1.0}
    for unit, scale in units.items():
        if str(value).endswith(unit):
            return float(str(value)[: -len(unit)]) * scale
    raise ValueError(f"capacitor value {value!r} has no unit")


def _nets(cc):
    return [n for n in cc.circuit.nets if n.name != "__NOCONNECT" and n.pins]


def design_rule_problems(cc):
    """Our own rules, as readable lines."""
    problems = []
    nets = _nets(cc)
    gnd = next(n for n in nets if n.name == "GND")
    gnd_pins = {id(p) for p in gnd.pins}

    def caps_to_gnd(net):
        found = []
        for pin in net.pins:
            part = pin.part
            if part.ref_prefix == "C":
                other = [p for p in part.pins if p is not pin][0]
                if id(other) in gnd_pins:
                    found.append(part)
        return found

    for net in nets:
        if len(net.pins) < 2:
            problems.append(f"net {net.name} joins only {len(net.pins)} pin")
    for part in cc.circuit.parts:
        if part.ref_prefix != "U" or part.name in MODULES:  # modules carry their own decoupling
            continue
        for pin in part.pins:
            if pin.func == T.PWRIN and pin.net is not None and pin.net is not gnd and id(pin) not in gnd_pins:
                if not caps_to_gnd(pin.net):
                    problems.append(f"{part.ref} {pin.name} (net {pin.net.name}) has no decoupling capacitor")
    if cc.modem_vbat is not None:
        bulk = sum(_cap_uf(c.value) for c in caps_to_gnd(cc.modem_vbat))
        if bulk < BULK_UF_MIN:
            problems.append(f"modem VBAT has {bulk:.0f} uF, needs >= {BULK_UF_MIN:.0f} uF for 2 A bursts")
    for net in nets:  # an open-drain output idles floating without a resistor to a supply
        if any(p.func == T.OPENCOLL for p in net.pins) and net is not gnd:
            pulled = any(p.part.ref_prefix == "R" or p.func == T.PULLUP for p in net.pins)
            internal = any(p.name in INTERNAL_PULL_UPS for p in net.pins)
            if not (pulled or internal):
                problems.append(f"open-drain net {net.name} has no pull-up")
    for motor in (p for p in cc.circuit.parts if p.ref_prefix == "M"):
        motor_nets = {id(p.net) for p in motor.pins}
        diodes = [d for d in cc.circuit.parts if d.ref_prefix == "D" and {id(p.net) for p in d.pins} == motor_nets]
        if not diodes:
            problems.append(f"motor {motor.ref} has no flyback diode across it")
    for function in cc.pinout["functions"]:
        if function not in cc.wired:
            problems.append(f"pinout function {function} is not wired in the schematic")
    return problems


def run_erc(cc):
    """SKiDL's ERC on this circuit: (errors, warnings, report text)."""
    log = skidl.erc_logger
    start = len(_SKIDL_OUT.getvalue())
    with contextlib.redirect_stdout(_SKIDL_OUT):
        cc.circuit.ERC()
    errors = log.error.count + log.bare_error.count
    warnings = log.warning.count + log.bare_warning.count
    return errors, warnings, _SKIDL_OUT.getvalue()[start:]


def netlist_text(cc):
    board = f" (mcu_board={cc.mcu_board})" if cc.mcu_board and cc.mcu_board != "pico" else ""
    lines = [f"# Deme build {cc.build.upper()}{board} netlist, generated by hardware/schematic.py from pinout.json"]
    for part in sorted(cc.circuit.parts, key=lambda p: p.ref):
        value = f" {part.value}" if getattr(part, "value", part.name) != part.name else ""
        lines.append(f"part {part.ref} {part.name}{value}")
    for net in sorted(_nets(cc), key=lambda n: n.name):
        pins = " ".join(sorted(f"{p.part.ref}.{p.name}" for p in net.pins))
        lines.append(f"net {net.name}: {pins}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", choices=sorted(BUILDERS), default="a")
    parser.add_argument("--mcu-board", choices=MCU_BOARDS, default="pico",
                        help="build A only: Pico board (default) or bare RP2040 on the carrier PCB")
    parser.add_argument("--netlist", help="write the netlist (one line per part and per net) to this file")
    args = parser.parse_args(argv)
    if args.build != "a" and args.mcu_board != "pico":
        parser.error("--mcu-board applies to build A only")
    cc = build_a(args.mcu_board) if args.build == "a" else BUILDERS[args.build]()
    errors, warnings, report = run_erc(cc)
    problems = design_rule_problems(cc)
    board = f" (mcu_board={args.mcu_board})" if args.build == "a" else ""
    print(f"build {args.build}{board}: {len(cc.circuit.parts)} parts, {len(_nets(cc))} nets")
    print(f"SKiDL ERC: {errors} errors, {warnings} warnings")
    for line in report.splitlines():
        if "ERC WARNING" in line or "ERC ERROR" in line:
            print("  " + line.strip())
    print(f"design rules: {len(problems)} problems")
    for problem in problems:
        print("  " + problem)
    if args.netlist:
        Path(args.netlist).write_text(netlist_text(cc))
    return 0 if errors == warnings == len(problems) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
