"""Per-model quirks of the cellular modems Deme supports, and `detect()` to pick them from AT+CGMI/AT+CGMM.

A quirks object holds what differs between models (registration commands, SMS storage, serving-cell query, boot
URCs); drivers.modem does everything else the same way for all. Each model module cites the AT manual a quirk
comes from. Which model uses which quirks, and every name a model goes by, is the table in drivers/modems/models.py.
"""
# Nothing heavy at import: firmware/board.py reads the model table (drivers.modems.models) on a small heap, before
# the AT channel is loaded.
from drivers.modems.models import UnknownModemModel, detect_row, model_row


class Generic:
    """A 3GPP TS 27.007/27.005 modem with no known quirk."""

    name = "generic"
    storage = "SM"  # SIM storage: every model reads and deletes there (27.005 3.2.2 <mem1>)
    # AT+<x>? commands to ask, most specific access technology first
    registration = ("CREG",)  # type: tuple
    cnmi = "AT+CNMI=2,1,0,1,0"  # store MT SMS and announce +CMTI; status reports routed as +CDS (27.005 3.4.1)
    # lines meaning "the modem (re)booted or powered down: its settings are lost"
    reboot_urcs = ("RDY",)  # type: tuple
    battery = True  # AT+CBC answers (27.007 8.4)
    start_delay_ms = 0  # extra wait after the first AT reply before SIM/SMS commands succeed
    # Orderly switch-off by command (detach from the network first); None: 27.007 has none, use the power key.
    power_down = None  # type: str | None

    async def serving_cell(self, modem):
        """mcc/mnc from AT+COPS (numeric format) and lac/cell id from AT+CREG=2 then AT+CREG? (27.007 7.2, 7.3)."""
        reg = await modem.registration()
        cops = await modem.operator(numeric=True)
        return cell_from(cops.get("name"), reg.get("lac"), reg.get("ci"), reg.get("act_name"))


def cell_from(plmn, lac, cell_id, rat):
    """{"mcc", "mnc", "lac", "cell_id", "rat"} from a numeric PLMN string like "61002" or "610-02"."""
    mcc = mnc = None
    if plmn:
        digits = plmn.replace("-", "").strip()
        if 5 <= len(digits) <= 6 and digits.isdigit():
            mcc = int(digits[:3])
            mnc = int(digits[3:])
    return {"mcc": mcc, "mnc": mnc, "lac": lac, "cell_id": cell_id, "rat": rat}


def first_line(lines, prefix):
    from drivers.at import ATError

    for line in lines:
        if line.startswith(prefix):
            return line
    raise ATError("no %s line in the answer" % prefix)


def _quirks_class(key):
    # Imported here: the model modules import Generic from this package.
    if key == "sim800":
        from drivers.modems.sim800 import SIM800
        return SIM800
    if key == "a7670":
        from drivers.modems.a7670 import A7670
        return A7670
    if key == "quectel":
        from drivers.modems.quectel import Quectel
        return Quectel
    return Generic


def quirks_for(name):
    """Quirks of a model by any of its names in the table ("SIM800L", "sim800", "a7670", "EC25", "generic"...);
    UnknownModemModel (a ValueError naming the known models) otherwise."""
    return _quirks_class(model_row(name)["quirks"])()


def detect(manufacturer, model):
    """Quirks for the strings AT+CGMI / AT+CGMM (or ATI) gave; Generic when unknown. Never raises."""
    return _quirks_class(detect_row(manufacturer, model)["quirks"])()


__all__ = ["Generic", "UnknownModemModel", "detect", "quirks_for", "model_row", "cell_from", "first_line"]
