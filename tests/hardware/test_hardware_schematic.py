"""The SKiDL schematics pass SKiDL's ERC and our design rules, and both checks catch the faults they exist for.

SKiDL keeps global state and writes log files where it is imported, so each check runs in a subprocess whose
working directory is a temporary one."""
import json
import subprocess
import sys

import pytest

from tests.support.micropython import REPO

SCHEMATIC = REPO / "hardware" / "schematic.py"

FAULTS_SCRIPT = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("schematic", sys.argv[1])
s = importlib.util.module_from_spec(spec)
spec.loader.exec_module(s)

def pin_on(cc, ref, name):
    part = next(p for p in cc.circuit.parts if p.ref == ref)
    return part[name]

def caps_on(cc, net_name, value=None):
    net = next(n for n in cc.circuit.nets if n.name == net_name)
    return [p.part for p in net.pins if p.part.ref_prefix == "C" and (value is None or p.part.value == value)]

def check(cc):
    errors, warnings, report = s.run_erc(cc)
    return {"errors": errors, "warnings": warnings, "report": report, "rules": s.design_rule_problems(cc)}

results = {}
results["clean_a"] = check(s.build_a())
results["clean_b"] = check(s.build_b())
results["clean_a_carrier"] = check(s.build_a("carrier"))

def gpio_nets(cc):  # GPIO -> what else its net joins, as part.pin
    mcu = next(p for p in cc.circuit.parts if p.ref == "U1")
    return {pin.name: sorted(f"{q.part.ref}.{q.name}" for q in pin.net.pins if q.part is not mcu)
            for pin in mcu.pins if pin.name.startswith("GP") and pin.net is not None and pin.net.name != "__NOCONNECT"}
results["gpio_nets_pico"] = gpio_nets(s.build_a("pico"))
results["gpio_nets_carrier"] = gpio_nets(s.build_a("carrier"))

cc = s.build_a("carrier")  # the RP2040 core supply (DVDD) without its capacitors
for cap in caps_on(cc, "DVDD"):
    cap[1].disconnect()
results["carrier_no_dvdd_caps"] = check(cc)
cc = s.build_a("carrier")  # the carrier's 3V3 pins: driven by the buck-boost, the power path after the SS14
results["carrier_3v3_drivers"] = sorted(f"{p.part.ref}.{p.name}" for p in pin_on(cc, "U10", "VOUT").net.pins
                                        if p.func == s.T.PWROUT)
results["carrier_vin"] = sorted(f"{p.part.ref}.{p.name}" for p in pin_on(cc, "U10", "VIN").net.pins
                                if p.part.ref_prefix != "C")

cc = s.build_a()  # the GPS's TXD output shorted to the modem's TXD output
net = pin_on(cc, "U2", "TXD").net
pin_on(cc, "U3", "TXD").disconnect()
net += pin_on(cc, "U3", "TXD")
results["outputs_shorted"] = check(cc)

cc = s.build_a()  # the GPS supply's decoupling capacitor left off
for cap in caps_on(cc, "GPS_VCC"):
    cap[1].disconnect()
results["no_decoupling"] = check(cc)

cc = s.build_a()  # the modem's bulk capacitors left off
for cap in caps_on(cc, "VBAT", "470uF"):
    cap[1].disconnect()
results["no_bulk"] = check(cc)

cc = s.build_b()  # the motor without its flyback diode
pin_on(cc, "D1", "A").disconnect()
results["no_flyback"] = check(cc)

cc = s.build_a()  # the IMU's supply pin left unconnected from 3V3
pin_on(cc, "U4", "VDD").disconnect()
s_net = s.Net("IMU_VDD_FLOATING", circuit=cc.circuit)
s_net += pin_on(cc, "U4", "VDD")
results["unpowered"] = check(cc)

cc = s.build_a()  # the RTC's open-drain INT without its pull-up
pull = next(p.part for p in pin_on(cc, "U8", "INT").net.pins if p.part.ref_prefix == "R")
pull[1].disconnect()
results["no_pull_up"] = check(cc)

cc = s.build_a()  # the RTC's decoupling capacitor: its VDD is the 3V3 net, shared with the IMU and shifter
results["rtc_bus"] = sorted(f"{p.part.ref}.{p.name}" for p in pin_on(cc, "U8", "SDA").net.pins)
results["rtc_int_mcu"] = sorted(f"{p.part.ref}.{p.name}" for p in pin_on(cc, "U8", "INT").net.pins)

original = s.load_pinout
def with_supply_switch(build):
    data = original(build)
    data["functions"]["modem_power_en"] = {"pin": 16, "mode": "out", "active": "high"}
    return data
s.load_pinout = with_supply_switch
results["unwired_function"] = check(s.build_a())
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("skidl")
    script = cwd / "faults.py"
    script.write_text(FAULTS_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), str(SCHEMATIC)], capture_output=True, text=True, cwd=cwd,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("build", ["a", "b", "a_carrier"])
def test_schematic_passes_skidl_erc_and_our_rules(results, build):
    clean = results[f"clean_{build}"]
    assert (clean["errors"], clean["warnings"], clean["rules"]) == (0, 0, []), clean["report"]


def test_skidl_erc_catches_two_outputs_on_one_net(results):
    r = results["outputs_shorted"]
    assert r["errors"] >= 1 and "OUTPUT" in r["report"], r["report"]


def test_skidl_erc_catches_an_unpowered_supply_pin(results):
    r = results["unpowered"]
    assert r["errors"] + r["warnings"] >= 1 and "IMU_VDD_FLOATING" in r["report"], r["report"]


def test_rules_catch_a_missing_decoupling_capacitor(results):
    assert any("U3 VCC (net GPS_VCC) has no decoupling capacitor" in p for p in results["no_decoupling"]["rules"])


def test_rules_catch_missing_bulk_capacitance_on_the_modem_supply(results):
    assert any("modem VBAT has" in p and "needs >= 500 uF" in p for p in results["no_bulk"]["rules"])


def test_rules_catch_a_motor_without_flyback_diode(results):
    assert "motor M1 has no flyback diode across it" in results["no_flyback"]["rules"]


def test_rules_catch_a_pinout_function_the_schematic_does_not_wire(results):
    assert "pinout function modem_power_en is not wired in the schematic" in results["unwired_function"]["rules"]


def test_rules_catch_an_open_drain_output_without_pull_up(results):
    assert "open-drain net RTC_INT has no pull-up" in results["no_pull_up"]["rules"]


def test_build_a_rtc_shares_the_imu_bus_and_wakes_the_mcu_on_its_pinout_pin():
    pinout = json.loads((REPO / "hardware" / "build-a" / "pinout.json").read_text())
    assert pinout["parts"]["rtc"] == "PCF8563" and pinout["parts"]["rtc_address"] == 0x51
    assert pinout["parts"]["rtc_address"] not in (0x18, 0x19, 0x68, 0x69)  # LIS3DH SA0 low/high, MPU-6050 AD0


def test_build_a_rtc_wiring(results):
    assert {"U1.GP6", "U4.SDA", "U8.SDA"} <= set(results["rtc_bus"])
    pin = json.loads((REPO / "hardware" / "build-a" / "pinout.json").read_text())["functions"]["rtc_int"]["pin"]
    assert f"U1.GP{pin}" in results["rtc_int_mcu"] and "U8.INT" in results["rtc_int_mcu"]


def test_carrier_wires_every_gpio_as_the_pico_does(results):
    """Same pinout, same nets: only the parts around the chip differ between mcu_board=pico and carrier."""
    assert results["gpio_nets_carrier"] == results["gpio_nets_pico"]
    assert len(results["gpio_nets_pico"]) >= 16


def test_carrier_power_path_keeps_the_mcu_behind_the_diode_on_its_buck_boost(results):
    assert results["carrier_3v3_drivers"] == ["U10.VOUT"]
    assert "D1.K" in results["carrier_vin"] and "U2.VBAT" not in results["carrier_vin"]


def test_rules_catch_the_carrier_rp2040_core_supply_without_capacitors(results):
    assert any("U1 DVDD (net DVDD) has no decoupling capacitor" in p
               for p in results["carrier_no_dvdd_caps"]["rules"])


@pytest.mark.parametrize("build, mcu_board, name", [("a", "pico", "netlist.txt"), ("b", None, "netlist.txt"),
                                                     ("a", "carrier", "netlist-carrier.txt")])
def test_committed_netlist_is_current_and_the_command_succeeds(tmp_path, build, mcu_board, name):
    out = tmp_path / "netlist.txt"
    board = ["--mcu-board", mcu_board] if mcu_board else []
    proc = subprocess.run([sys.executable, str(SCHEMATIC), "--build", build, *board, "--netlist", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SKiDL ERC: 0 errors, 0 warnings" in proc.stdout and "design rules: 0 problems" in proc.stdout
    committed = (REPO / "hardware" / f"build-{build}" / name).read_text()
    assert out.read_text() == committed, f"run hardware/schematic.py --build {build} {' '.join(board)} --netlist " \
                                         f"hardware/build-{build}/{name} and commit"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["netlist.txt"]
