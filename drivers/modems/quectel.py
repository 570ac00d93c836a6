"""Quectel EC25 / EG25-G (LTE Cat-4) and BG95 (LTE-M/NB-IoT, with GSM fallback on BG95-M3).

Sources: Quectel "EC25&EC21 AT Commands Manual" V1.3 and "BG95&BG77 AT Commands Manual" V1.0.
- Boot URCs: "RDY", then "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE".
- "POWERED DOWN" after AT+QPOWD or a power key press.
- Registration: AT+CEREG (LTE), AT+CGREG, AT+CREG.
- Serving cell: AT+QENG="servingcell" (EC25 manual 5.x, "QENG"):
  LTE: +QENG: "servingcell",<state>,"LTE",<is_tdd>,<MCC>,<MNC>,<cellID hex>,<PCID>,<earfcn>,<band>,<ul_bw>,
        <dl_bw>,<TAC hex>,<RSRP>,<RSRQ>,<RSSI>,<SINR>,<srxlev>
  GSM: +QENG: "servingcell",<state>,"GSM",<MCC>,<MNC>,<LAC hex>,<cellID hex>,<BSIC>,<arfcn>,...
  WCDMA: +QENG: "servingcell",<state>,"WCDMA",<MCC>,<MNC>,<LAC hex>,<cellID hex>,...
  state "SEARCH" / "LIMSRV" may come without the cell fields.
  BG95 (CAT-M) reports "eMTC" or "CAT-M" / "NBIoT" in the RAT field with the LTE layout.
- AT+CBC: "+CBC: <bcs>,<bcl>,<voltage mV>".
"""
from drivers.at import ATParseError, parse_int, response_fields, unquote
from drivers.modems import Generic, first_line

_LTE_LIKE = ("LTE", "CAT-M", "EMTC", "CAT-NB", "NBIOT", "NB-IOT")


def parse_qeng(line):
    """+QENG: "servingcell",... -> {"mcc", "mnc", "lac", "cell_id", "rat"}; ATParseError if malformed."""
    f = response_fields(line, "+QENG:")
    if len(f) < 3 or unquote(f[0]) != "servingcell":
        return {"mcc": None, "mnc": None, "lac": None, "cell_id": None, "rat": None} if len(f) >= 2 else _bad(line)
    rat = unquote(f[2])
    if rat.upper() in _LTE_LIKE:
        if len(f) < 13:
            return {"mcc": None, "mnc": None, "lac": None, "cell_id": None, "rat": rat}
        return {"mcc": parse_int(f[4]), "mnc": parse_int(f[5]), "lac": parse_int(f[12], 16),
                "cell_id": parse_int(f[6], 16), "rat": rat}
    if len(f) < 7:
        return {"mcc": None, "mnc": None, "lac": None, "cell_id": None, "rat": rat}
    return {"mcc": parse_int(f[3]), "mnc": parse_int(f[4]), "lac": parse_int(f[5], 16),
            "cell_id": parse_int(f[6], 16), "rat": rat}


def _bad(line):
    raise ATParseError("not a serving cell line: %r" % (line,))


class Quectel(Generic):
    name = "quectel"
    registration = ("CEREG", "CGREG", "CREG")
    reboot_urcs = ("RDY", "POWERED DOWN")
    # EC25/BG95 AT Commands Manual "AT+QPOWD Power off": 1 = normal power off, then the URC POWERED DOWN
    power_down = "AT+QPOWD=1"

    async def serving_cell(self, modem):
        lines = await modem.channel.command('AT+QENG="servingcell"', timeout_ms=5000)
        return parse_qeng(first_line(lines, "+QENG:"))
