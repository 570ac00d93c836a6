# The modem model table (drivers/modems/models.py) on both runtimes: the names people type, detection from the
# modem's own identification, and an unknown name's error naming the known models. Runs on MicroPython and CPython.
from drivers import modems
from drivers.modems.models import MODELS, UnknownModemModel, detect_row, model_row, power_key_timing


def test_aliases_resolve_without_case_to_their_row_and_its_quirks():
    for spelling, name, quirks in (("SIM800L", "SIM800L", "sim800"), ("sim800", "SIM800L", "sim800"),
                                   ("sim800l", "SIM800L", "sim800"), ("SIM800", "SIM800L", "sim800"),
                                   ("A7670E", "A7670", "a7670"), ("A7670G", "A7670", "a7670"),
                                   ("a7670", "A7670", "a7670"), ("SIM7600", "SIM7600", "a7670"),
                                   ("ec25", "EC25", "quectel"), ("BG95", "BG95", "quectel"),
                                   ("generic", "generic", "generic")):
        assert model_row(spelling)["name"] == name, spelling
        assert modems.quirks_for(spelling).name == quirks, spelling
    for row in MODELS:
        for alias in row["aliases"]:
            assert model_row(alias.lower()) is row


def test_detection_reads_the_modems_own_identification():
    for maker, model, name in (("SIMCOM_Ltd", "SIMCOM_SIM800L", "SIM800L"), ("INCORPORATED", "A7670E-LASE", "A7670"),
                               ("SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H", "SIM7600"), ("Quectel", "EC25", "EC25"),
                               ("Quectel", "BG95-M3", "BG95"), ("Quectel", "", "EC25"), ("Huawei", "E173", "generic"),
                               (None, None, "generic"), (3, b"x", "generic")):
        assert detect_row(maker, model)["name"] == name, (maker, model)


def test_an_unknown_name_names_the_known_models():
    for bad in ("nokia3310", "", None, 800):
        try:
            model_row(bad)
        except UnknownModemModel as exc:
            assert "unknown modem model %r; known: SIM800L, A7670, SIM7600, EC25, BG95, generic" % (bad,) == str(exc)
        else:
            raise AssertionError("no error for %r" % (bad,))
    try:
        power_key_timing("generic")
    except ValueError as exc:
        assert str(exc) == "no power-key timings for modem model 'generic'; known: SIM800L, A7670, SIM7600, EC25, BG95"
    else:
        raise AssertionError("generic has no power-key timings")


def test_every_timing_row_has_every_timing_the_board_and_the_hub_read():
    for row in MODELS:
        timing = row["timing"]
        if timing is not None:
            for key in ("on_ms", "off_ms", "off_wait_ms", "reset_ms", "boot_ms", "gate_off_ms"):
                assert isinstance(timing[key], int) and timing[key] > 0, (row["name"], key)
            # hardware/README.md: on() is safe on a running modem because its press is shorter than the off press
            assert timing["on_ms"] < timing["off_ms"], row["name"]
