"""Parsers of modem replies (3GPP TS 27.007 / 27.005 lines as drivers.at hands them over): pure and total, every
input gives a value or ATParseError. Model-specific replies (+CPSI, +QENG, +CENG) are parsed in drivers/modems/.
Runs on MicroPython and CPython."""
from drivers.at import ATParseError, is_unsolicited_registration, parse_int, response_fields, split_fields, unquote

REG_STAT = {0: "not registered", 1: "home", 2: "searching", 3: "denied", 4: "unknown", 5: "roaming"}
ACT_NAME = {0: "GSM", 1: "GSM compact", 2: "UTRAN", 3: "GSM/EGPRS", 4: "UTRAN/HSDPA", 5: "UTRAN/HSUPA",
            6: "UTRAN/HSPA", 7: "E-UTRAN", 8: "EC-GSM-IoT", 9: "E-UTRAN NB-S1", 13: "E-UTRA-NR"}


def valid_number(number):
    """The device-side number check: a str of digits with an optional leading +, 3 to 20 digits (TS 23.040
    9.1.2.5 allows 20 digits in an address). The hub validates properly with phonenumbers before calling."""
    if not isinstance(number, str):
        return False
    digits = number[1:] if number.startswith("+") else number
    if not 3 <= len(digits) <= 20:
        return False
    for c in digits:
        if not "0" <= c <= "9":
            return False
    return True


def is_hex(text):
    if not isinstance(text, str) or not text or len(text) % 2:
        return False
    for c in text:
        if not ("0" <= c <= "9" or "A" <= c <= "F" or "a" <= c <= "f"):
            return False
    return True


def parse_csq(line):
    """+CSQ: <rssi>,<ber> (27.007 8.5) -> {"rssi", "rssi_dbm", "ber"}; 99 means unknown (None)."""
    f = response_fields(line, "+CSQ:")
    if len(f) < 2:
        raise ATParseError("bad +CSQ: %r" % line)
    rssi = parse_int(f[0])
    ber = parse_int(f[1])
    if 0 <= rssi <= 31:
        dbm = -113 + 2 * rssi
    elif rssi == 99:
        dbm = None
    elif 100 <= rssi <= 191:  # TD-SCDMA range of 27.007: -116 dBm + (rssi - 100)
        dbm = -116 + (rssi - 100)
    else:
        raise ATParseError("rssi out of range: %r" % line)
    return {"rssi": rssi, "rssi_dbm": dbm, "ber": ber if 0 <= ber <= 7 else None}


def parse_registration(line):
    """+CREG/+CGREG/+CEREG in either form (27.007 7.2, 10.1.20, 10.1.22) -> {"stat", "status", "lac", "ci",
    "act", "act_name", "n", "via"}; lac is the LAC or TAC, ci the cell id, both as ints (None when absent)."""
    if not isinstance(line, str):
        raise ATParseError("not a line")
    colon = line.find(":")
    if colon < 2 or line[0] != "+":
        raise ATParseError("not a registration line: %r" % line)
    via = line[1:colon]
    if via not in ("CREG", "CGREG", "CEREG", "C5GREG"):
        raise ATParseError("not a registration line: %r" % line)
    f = split_fields(line[colon + 1:].strip())
    n = None
    if not is_unsolicited_registration(line):
        n = parse_int(f[0])
        f = f[1:]
    if not f or not f[0]:
        raise ATParseError("no <stat> in %r" % line)
    stat = parse_int(f[0])
    lac = ci = act = None
    if len(f) >= 3:
        lac = parse_int(f[1], 16) if unquote(f[1]) else None
        ci = parse_int(f[2], 16) if unquote(f[2]) else None
    if len(f) >= 4 and f[3]:
        act = parse_int(f[3])
    return {"stat": stat, "status": REG_STAT.get(stat, "unknown"), "lac": lac, "ci": ci, "act": act,
            "act_name": ACT_NAME.get(act) if act is not None else None, "n": n, "via": via}


def registered(reg):
    return reg is not None and reg.get("stat") in (1, 5)


def parse_cops(line):
    """+COPS: <mode>[,<format>,<oper>[,<AcT>]] (27.007 7.3) -> {"mode", "format", "name", "act"}."""
    f = response_fields(line, "+COPS:")
    result = {"mode": parse_int(f[0]), "format": None, "name": None, "act": None}
    if len(f) >= 3:
        result["format"] = parse_int(f[1])
        result["name"] = unquote(f[2])
    if len(f) >= 4 and f[3]:
        result["act"] = parse_int(f[3])
    return result


def parse_cpin(lines):
    """AT+CPIN? answer -> the state string ("READY", "SIM PIN", ...)."""
    for line in lines:
        if line.startswith("+CPIN:"):
            state = line[6:].strip()
            if state:
                return state
    raise ATParseError("no +CPIN state in %r" % (lines,))


def parse_cbc(line):
    """+CBC: <bcs>,<bcl>,<mV> (27.007 8.4 plus SIMCom/Quectel voltage) or +CBC: 3.900V (A76XX)
    -> {"charging", "percent", "voltage_mv"} (None where the model does not say)."""
    f = response_fields(line, "+CBC:")
    if len(f) == 1 and f[0][-1:] in ("V", "v"):
        text = f[0][:-1]
        dot = text.find(".")
        if dot < 0:
            mv = parse_int(text) * 1000
        else:
            frac = (text[dot + 1:] + "000")[:3]
            mv = parse_int(text[:dot]) * 1000 + parse_int(frac)
        return {"charging": None, "percent": None, "voltage_mv": mv}
    if len(f) < 2:
        raise ATParseError("bad +CBC: %r" % line)
    bcs = parse_int(f[0])
    return {"charging": bcs == 1, "percent": parse_int(f[1]),
            "voltage_mv": parse_int(f[2]) if len(f) >= 3 and f[2] else None}


def parse_cmgs(lines):
    """+CMGS: <mr>[,<scts>] (27.005 3.5.1) -> message reference (int)."""
    for line in lines:
        if line.startswith("+CMGS:"):
            return parse_int(split_fields(line[6:].strip())[0])
    raise ATParseError("no +CMGS line in %r" % (lines,))


def parse_cmti(line):
    """+CMTI: <mem>,<index> or +CDSI: <mem>,<index> -> (storage, index)."""
    colon = line.find(":") if isinstance(line, str) else -1
    if colon < 0:
        raise ATParseError("bad notice: %r" % (line,))
    f = split_fields(line[colon + 1:].strip())
    if len(f) < 2:
        raise ATParseError("bad notice: %r" % line)
    storage = unquote(f[0]).upper()
    if not 1 <= len(storage) <= 4:
        raise ATParseError("bad storage in %r" % line)
    for c in storage:
        if not ("A" <= c <= "Z" or c == "_"):  # it goes back into AT+CPMS="...": ASCII letters only
            raise ATParseError("bad storage in %r" % line)
    index = parse_int(f[1])
    if index < 0:
        raise ATParseError("bad index in %r" % line)
    return storage, index


def parse_cmgl(lines):
    """AT+CMGL=4 answer in PDU mode: pairs "+CMGL: <index>,<stat>,[<alpha>],<length>" then the PDU line
    (27.005 3.4.2) -> (entries [(index, stat, pdu_hex)], problems [text]). Malformed entries are reported in
    `problems` and skipped; never raises."""
    entries = []
    problems = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.startswith("+CMGL:"):
            problems.append("unexpected line %r" % line)
            continue
        try:
            f = split_fields(line[6:].strip())
            index = parse_int(f[0])
            stat = parse_int(f[1]) if len(f) > 1 and f[1] else None
            if index < 0:
                raise ATParseError("negative index")
        except ATParseError as exc:
            problems.append("bad header %r: %s" % (line, exc))
            continue
        if i < len(lines) and is_hex(lines[i]):
            entries.append((index, stat, lines[i]))
            i += 1
        else:
            problems.append("no PDU after %r" % line)
            entries.append((index, stat, None))
    return entries, problems


def parse_cmgr(lines):
    """AT+CMGR answer in PDU mode: "+CMGR: <stat>,[<alpha>],<length>" then the PDU -> (stat, pdu_hex), or None for
    an empty slot (SIM800 answers a bare OK)."""
    for i in range(len(lines)):
        if lines[i].startswith("+CMGR:"):
            f = split_fields(lines[i][6:].strip())
            stat = parse_int(f[0]) if f[0] else None
            if i + 1 < len(lines) and is_hex(lines[i + 1]):
                return stat, lines[i + 1]
            raise ATParseError("no PDU after %r" % lines[i])
    return None
