"""The one table of the modem models Deme supports: one row per model, read by the driver (quirks, detection), the
wearable's board and the hub (power-key timings), the hub's config and CLI (the names people type) and the simulator
(its profile per model). A fact about a model is written here once.

Row keys:
  name     canonical name (what status reports and error messages say)
  aliases  the spellings people type, compared without case: "sim800l", "SIM800" and "Sim800L" are the same
  detect   substrings of the AT+CGMI/AT+CGMM answers (upper case) that identify the model, most specific first
  quirks   the quirks class (drivers/modems/<module>.py), by key: see drivers.modems.quirks_for
  profile  the simulator's profile key (sim/modem/profiles.py), None when it has none
  timing   power-key and reset timings in ms, None when unknown (then only AT commands can switch it off):
             on_ms        PWRKEY low to switch on
             off_ms       PWRKEY low to switch off (orderly: the modem detaches from the network)
             off_wait_ms  after the off press, before the next on press
             reset_ms     RESET low to restart
             boot_ms      from the on press to the UART answering AT
             gate_off_ms  supply cut for a power cycle, on boards with a supply switch
Each timing cites the model's hardware design manual; "estimate" marks a value the manual does not give.

Runs on MicroPython and CPython: plain dicts and tuples, nothing imported.
"""

# A board fact more than a model fact: long enough for the modem's bulk capacitors (>= 500 uF) to discharge.
_GATE_OFF_MS = 1000

MODELS = (
    {"name": "SIM800L", "aliases": ("SIM800L", "SIM800", "SIM800C", "SIM800H"),
     # SIM900 speaks the same AT dialect (SIM900 AT Command Manual); its power key is not in this table.
     "detect": ("SIM800", "SIM900"), "quirks": "sim800", "profile": "sim800l",
     # SIM800L Hardware Design V1.01, 'Power on/down': PWRKEY low > 1 s to switch on; 1.5 s < t < 33 s to switch
     # off; T2 >= 2 s before the next press; RESET low >= 105 ms; STATUS high about 3 s after the press.
     "timing": {"on_ms": 1200, "off_ms": 1700, "off_wait_ms": 2000, "reset_ms": 150, "boot_ms": 3000,
                "gate_off_ms": _GATE_OFF_MS}},
    {"name": "A7670", "aliases": ("A7670", "A7670E", "A7670G", "A7670SA", "A76XX"),
     "detect": ("A76",), "quirks": "a7670", "profile": "a7670e",
     # SIMCom A76XX Series Hardware Design, 'Power on/off': Ton min 100 ms, typ. 500 ms; Toff >= 2.5 s (3 s kept);
     # Ton(uart) about 6 s. off_wait 2 s and RESET 2.6 s (LilyGO T-A76XX reference code): estimates.
     "timing": {"on_ms": 500, "off_ms": 3000, "off_wait_ms": 2000, "reset_ms": 2600, "boot_ms": 6000,
                "gate_off_ms": _GATE_OFF_MS}},
    {"name": "SIM7600", "aliases": ("SIM7600", "SIM7600E", "SIM7600G", "SIM7600E-H", "SIM7600G-H", "SIM7500"),
     # The A76XX quirks: same SIMCom LTE AT dialect (SIM7500_SIM7600 Series AT Command Manual V3.00).
     "detect": ("SIM76", "SIM75"), "quirks": "a7670", "profile": "sim7600",
     # SIM7500_SIM7600 Series Hardware Design V1.03, 'Power on/off': Ton min 100 ms, typ. 500 ms; Toff >= 2.5 s;
     # Ton(uart) about 11 s (12 s kept). off_wait 2 s and RESET 500 ms: estimates.
     "timing": {"on_ms": 500, "off_ms": 3000, "off_wait_ms": 2000, "reset_ms": 500, "boot_ms": 12000,
                "gate_off_ms": _GATE_OFF_MS}},
    {"name": "EC25", "aliases": ("EC25", "EC25-E", "EC25-EU", "EG25", "EG25-G", "EC21"),
     "detect": ("EC2", "EG2"), "quirks": "quectel", "profile": "ec25",
     # Quectel EC25 Hardware Design V1.x, 'Turn on/off': PWRKEY low >= 500 ms to switch on; >= 650 ms to switch
     # off, then the power-down procedure (up to about 30 s, the off wait); RESET_N low 150-460 ms; UART ready
     # >= 12 s after the press (13 s kept).
     "timing": {"on_ms": 600, "off_ms": 800, "off_wait_ms": 30000, "reset_ms": 300, "boot_ms": 13000,
                "gate_off_ms": _GATE_OFF_MS}},
    {"name": "BG95", "aliases": ("BG95", "BG95-M3", "BG95-M1", "BG77"),
     "detect": ("BG9", "BG7"), "quirks": "quectel", "profile": "bg95",
     # Quectel BG95 Hardware Design V1.x, 'Turn on/off': PWRKEY low 500-1000 ms to switch on; 650-1500 ms to switch
     # off, then >= 1.3 s until off; RESET_N low 2-3.8 s. boot 5 s (UART ready): estimate.
     "timing": {"on_ms": 700, "off_ms": 1000, "off_wait_ms": 2000, "reset_ms": 3000, "boot_ms": 5000,
                "gate_off_ms": _GATE_OFF_MS}},
    # A 27.007/27.005 modem with no known quirk; its power key is unknown, so nothing pulses it.
    {"name": "generic", "aliases": ("GENERIC",), "detect": (), "quirks": "generic", "profile": None,
     "timing": None},
)

# Makers whose strings identify a quirks family when the model string says nothing known (AT+CGMI answers).
_MAKER_ROWS = (("QUECTEL", "EC25"),)


class UnknownModemModel(ValueError):
    """A model name that is not in the table (or lacks what was asked of it); the message names the models that
    would do."""

    def __init__(self, name, known=None, what="unknown modem model"):
        super().__init__("%s %r; known: %s" % (what, name, ", ".join(known or model_names())))
        self.name = name


def model_names():
    """The canonical names, in table order."""
    return [row["name"] for row in MODELS]


def model_row(name):
    """The row of a model from any of its spellings (case and surrounding spaces ignored); UnknownModemModel
    naming the known models otherwise."""
    if isinstance(name, str):
        wanted = name.strip().upper()
        for row in MODELS:
            if wanted in row["aliases"]:
                return row
    raise UnknownModemModel(name)


def power_key_timing(name):
    """The power-key timings (ms) of a model; UnknownModemModel naming the models whose timings the table has, for
    an unknown name or a model without them."""
    timed = [row["name"] for row in MODELS if row["timing"] is not None]
    try:
        row = model_row(name)
    except UnknownModemModel:
        raise UnknownModemModel(name, timed)
    if row["timing"] is None:
        raise UnknownModemModel(name, timed, "no power-key timings for modem model")
    return row["timing"]


def timing_table():
    """{every spelling of every model with power-key timings: its timings}: aliases in the table's upper case."""
    table = {}
    for row in MODELS:
        if row["timing"] is not None:
            for alias in row["aliases"]:
                table[alias] = row["timing"]
    return table


def detect_row(manufacturer, model):
    """The row for what AT+CGMI / AT+CGMM answered, or the generic row. Never raises."""
    model_text = (model or "").upper() if isinstance(model, str) else ""
    maker_text = (manufacturer or "").upper() if isinstance(manufacturer, str) else ""
    for text in (model_text, maker_text + " " + model_text):
        for row in MODELS:
            for pattern in row["detect"]:
                if pattern in text:
                    return row
    for maker, name in _MAKER_ROWS:
        if maker in maker_text:
            return model_row(name)
    return model_row("generic")
