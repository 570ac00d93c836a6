"""Bills of materials: every price has its source and date, totals are computed, generated files are current."""
import importlib.util
import itertools

import pytest

from hub.design import hardware_data

spec = importlib.util.spec_from_file_location("hardware_generate", hardware_data.HARDWARE / "generate.py")
generate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generate)


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_every_row_is_complete_and_priced_with_source_and_date(build):
    rows = hardware_data.load_bom(build)
    assert rows
    for row in rows:
        assert row["part"] and row["manufacturer"] and row["mpn"], row
        assert row["price_source"] and row["price_date"][:4].isdigit(), row


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_total_is_the_sum_of_quantity_times_price_for_each_choice(build):
    rows = hardware_data.load_bom(build)
    options = hardware_data.bom_options(rows)
    for combo in itertools.product(*options.values()):
        choice = dict(zip(options, combo))
        lines = hardware_data.bom_lines(rows, choice)
        chosen = {r["option"] for r in lines if r["option"]}
        assert chosen == {f"{k}={v}" for k, v in choice.items()}
        expected = sum(r["quantity"] * r["unit_price_eur"] for r in rows
                       if not r["option"] or r["option"] in chosen)
        assert hardware_data.bom_total(rows, choice) == pytest.approx(expected, abs=0.005)


def test_the_default_parts_of_each_pinout_are_in_its_bom():
    for build in hardware_data.BUILDS:
        pinout = hardware_data.load_pinout(build)
        choice = hardware_data.default_choice(build)
        for key, value in choice.items():
            if key == "mcu_board":  # named by the pinout's board, not by a part
                assert hardware_data.MCU_BOARD_OPTIONS[pinout["board"]] == value
            else:
                assert pinout["parts"][key] == value


def test_every_mcu_board_name_is_a_board_of_the_rp2040_table():
    boards = hardware_data.load_mcu("rp2040")["boards"]
    assert set(hardware_data.MCU_BOARD_OPTIONS) <= set(boards)
    options = hardware_data.bom_options(hardware_data.load_bom("a"))["mcu_board"]
    assert sorted(options) == sorted(hardware_data.MCU_BOARD_OPTIONS.values())


@pytest.mark.parametrize("mcu_board", ["pico", "carrier"])
def test_each_mcu_board_option_makes_one_whole_wearable(mcu_board):
    """One microcontroller (U1) and one carrier PCB whichever the option; the carrier also carries what the Pico
    board did: flash, 12 MHz crystal, buck-boost and its inductor, USB connector."""
    rows = hardware_data.load_bom("a")
    lines = hardware_data.bom_lines(rows, {"mcu_board": mcu_board, "modem": "A7670E", "gps": "L76K", "imu": "LIS3DH"})
    refs = [r["ref"] for r in lines]
    assert refs.count("U1") == 1 and refs.count("PCB1") == 1, refs
    mpns = {r["mpn"] for r in lines}
    carrier_only = {"RP2040", "W25Q16JVUXIQ", "ABM8-272-T3", "TPS63031DSKR", "SWPA3015S1R5NT", "TYPE-C-31-M-12"}
    if mcu_board == "carrier":
        assert carrier_only <= mpns and "SC0915" not in mpns
    else:
        assert "SC0915" in mpns and not carrier_only & mpns


def test_build_a_for_mali_meets_the_cost_goal_and_france_is_reported_honestly():
    rows = hardware_data.load_bom("a")
    markdown = generate.bom_markdown()
    for board in ("pico", "carrier"):
        mali = hardware_data.bom_total(rows, {"mcu_board": board, "modem": "SIM800L", "gps": "L76K", "imu": "LIS3DH"})
        france = hardware_data.bom_total(rows, {"mcu_board": board, "modem": "A7670E", "gps": "L76K",
                                                "imu": "LIS3DH"})
        assert mali <= generate.BOM_GOAL_EUR
        verdict = "meets" if france <= generate.BOM_GOAL_EUR else f"misses by {france - generate.BOM_GOAL_EUR:.2f}"
        assert f"| {france:.2f} | {verdict} |" in markdown
        assert f"{france:.2f} EUR on the" in markdown and f"{mali:.2f} EUR on the" in markdown


def test_the_reading_names_the_module_price_the_goal_needs():
    rows = hardware_data.load_bom("a")
    choice = {"mcu_board": "carrier", "modem": "A7670E", "gps": "L76K", "imu": "LIS3DH"}
    module = next(r for r in rows if r["mpn"] == "A7670E-LASE")
    needed = generate.BOM_GOAL_EUR - (hardware_data.bom_total(rows, choice) - module["unit_price_eur"])
    assert f"the A7670E at {needed:.2f} EUR or less" in generate.bom_markdown()


def test_bom_choices_are_checked():
    rows = hardware_data.load_bom("a")
    with pytest.raises(hardware_data.HardwareDataError, match="no modem option 'BG95'"):
        hardware_data.bom_lines(rows, {"modem": "BG95", "gps": "L76K", "imu": "LIS3DH"})
    with pytest.raises(hardware_data.HardwareDataError, match="choose a value for gps"):
        hardware_data.bom_lines(rows, {"modem": "SIM800L", "imu": "LIS3DH"})


def test_a_bom_row_without_a_price_source_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "build-a"
    bad.mkdir()
    good = (hardware_data.HARDWARE / "build-a" / "bom.csv").read_text().splitlines()
    header, first = good[0], good[1]
    broken = first.replace('"approved resellers, list price 4 USD, qty 100"', '""')
    assert broken != first
    (bad / "bom.csv").write_text(header + "\n" + broken + "\n")
    monkeypatch.setattr(hardware_data, "HARDWARE", tmp_path)
    with pytest.raises(hardware_data.HardwareDataError, match="source and date"):
        hardware_data.load_bom("a")


def test_generated_files_are_up_to_date():
    stale = [str(path) for path, text in generate.outputs().items() if path.read_text() != text]
    assert stale == [], "run .venv/bin/python hardware/generate.py and commit: " + ", ".join(stale)


@pytest.mark.parametrize("build", hardware_data.BUILDS)
def test_wiring_picture_shows_every_pin_of_the_pinout(build):
    svg = (hardware_data.build_dir(build) / "wiring.svg").read_text()
    board = hardware_data.board_module()
    pinout = hardware_data.load_pinout(build)
    prefix = "GP" if pinout["mcu"] == "rp2040" else "IO"
    for name, pin, _role, _ in board.pin_uses(pinout):
        assert f">{prefix}{pin}" in svg, (name, pin)
        assert f">{name} " in svg, name
