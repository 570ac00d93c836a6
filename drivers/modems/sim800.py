"""SIMCom SIM800 / SIM800L / SIM900: 2G (GSM/GPRS) only.

Sources: SIMCom "SIM800 Series AT Command Manual" V1.09 (2015-08-03).
- Boot URCs: "RDY" (when not autobauding), "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready" (section 1.4,
  "Unsolicited result code"); SMS commands answer +CMS ERROR until "SMS Ready".
- No LTE: AT+CEREG is not implemented; registration is AT+CREG (CS) and AT+CGREG (GPRS).
- Message storage "SM" (SIM) by default; AT+CPMS accepts "SM", "ME", "SM_P", "ME_P", "MT".
- Serving cell: AT+CENG engineering mode (6.2.21). AT+CENG=1,0 then AT+CENG? answers
    +CENG: <mode>,<Ncell>
    +CENG: 0,"<bcch>,<rxl>,<rxq>,<mcc>,<mnc>,<bsic>,<cellid>,<rla>,<txp>,<lac>,<TA>"   (cellid, lac in hex)
  and with mode 3: +CENG: 0,<mcc>,<mnc>,<lac>,<cellid>,<bsic>,<rxl>. Cell 0 is the serving cell.
  The driver turns engineering mode off again (AT+CENG=0): it keeps the radio measuring neighbours.
- AT+CBC answers "+CBC: <bcs>,<bcl>,<voltage mV>".
- "NORMAL POWER DOWN", "UNDER-VOLTAGE POWER DOWN", "UNDER-VOLTAGE WARNNING" (sic) are URCs (section 1.4).
"""
from drivers.at import ATError, ATParseError, parse_int, split_fields, unquote
from drivers.modems import Generic, cell_from


def parse_ceng(lines):
    """AT+CENG? lines -> {"mcc", "mnc", "lac", "cell_id", "rat": "GSM"} of cell 0; ATParseError if absent."""
    for line in lines:
        if not line.startswith("+CENG:"):
            continue
        f = split_fields(line[6:].strip())
        if len(f) < 2 or f[0] != "0":
            continue
        if f[1][:1] == '"':
            inner = split_fields(unquote(f[1]))
            if len(inner) < 10:
                raise ATParseError("short +CENG cell line: %r" % line)
            mcc, mnc, cell_id, lac = inner[3], inner[4], inner[6], inner[9]
        elif len(f) >= 5:
            mcc, mnc, lac, cell_id = f[1], f[2], f[3], f[4]
        else:
            continue  # "+CENG: 0,0": the mode header, not a cell
        cell = cell_from(unquote(mcc) + unquote(mnc), parse_int(lac, 16), parse_int(cell_id, 16), "GSM")
        if cell["mcc"] is None:
            raise ATParseError("bad MCC/MNC in %r" % line)
        return cell
    raise ATParseError("no serving cell in the AT+CENG? answer")


class SIM800(Generic):
    name = "sim800"
    registration = ("CGREG", "CREG")
    reboot_urcs = ("RDY", "NORMAL POWER DOWN", "UNDER-VOLTAGE POWER DOWN")
    # SIM800 Series AT Command Manual "AT+CPOWD Power off": 1 = normal power off, answered NORMAL POWER DOWN
    power_down = "AT+CPOWD=1"

    async def serving_cell(self, modem):
        try:
            await modem.channel.command("AT+CENG=1,0")
            try:
                return parse_ceng(await modem.channel.command("AT+CENG?"))
            finally:
                await modem.channel.command("AT+CENG=0")
        except ATError as exc:  # includes ATParseError: fall back to CREG=2 + COPS
            modem._log("AT+CENG: %s; using AT+CREG" % exc)
            return await Generic.serving_cell(self, modem)
