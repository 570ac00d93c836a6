"""SIMCom A7670E / A7670SA / SIM7600 (LTE Cat-1 with GSM fallback on A7670E, Cat-4 on SIM7600).

Sources: SIMCom "A76XX Series AT Command Manual" V1.06 and "SIM7500_SIM7600 Series AT Command Manual" V3.00.
- Boot: the module prints "*ATREADY: 1" (A76XX) or "RDY" (SIM7600), then "+CPIN: READY", "SMS DONE", "PB DONE"
  (A76XX manual, chapter 2 "URC list"; SIM7600 manual 2.1).
- Registration on LTE is AT+CEREG (EPS), on 2G/3G AT+CREG/AT+CGREG: ask CEREG first.
- Serving cell: AT+CPSI? "+CPSI: <System Mode>,<Operation Mode>,<MCC>-<MNC>,<LAC|TAC hex>,<Cell ID>,..."
  e.g. "+CPSI: LTE,Online,460-00,0x1816,12345678,..." or "+CPSI: GSM,Online,460-00,0x182d,12401,...".
  System mode "NO SERVICE" has no more fields.
- AT+CBC answers "+CBC: <vbat>V", e.g. "+CBC: 3.900V" (A76XX manual AT+CBC).
"""
from drivers.at import ATParseError, parse_int, response_fields
from drivers.modems import Generic, cell_from, first_line


def parse_cpsi(line):
    """+CPSI line -> {"mcc", "mnc", "lac", "cell_id", "rat"}; ATParseError for a malformed line."""
    f = response_fields(line, "+CPSI:")
    rat = f[0] or None
    if len(f) < 5 or rat == "NO SERVICE":
        return {"mcc": None, "mnc": None, "lac": None, "cell_id": None, "rat": rat}
    plmn = f[2].split("-")
    if len(plmn) != 2:
        raise ATParseError("bad MCC-MNC in %r" % line)
    cell = cell_from(plmn[0] + plmn[1], parse_int(f[3], 16), parse_int(f[4]), rat)
    if cell["mcc"] is None:
        raise ATParseError("bad MCC-MNC in %r" % line)
    return cell


class A7670(Generic):
    name = "a7670"
    registration = ("CEREG", "CGREG", "CREG")
    reboot_urcs = ("RDY", "*ATREADY: 1", "POWERED DOWN", "NORMAL POWER DOWN")
    power_down = "AT+CPOF"  # A76XX Series AT Command Manual "AT+CPOF Power down the module"

    async def serving_cell(self, modem):
        lines = await modem.channel.command("AT+CPSI?", timeout_ms=5000)
        return parse_cpsi(first_line(lines, "+CPSI:"))
