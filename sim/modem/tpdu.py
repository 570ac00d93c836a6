"""The SMS-centre side of 3GPP TS 23.040 that the simulated network needs: read an SMS-SUBMIT's header, relay its
user data unchanged into an SMS-DELIVER (as a real SMSC does: the DCS, UDH and user data travel untouched), and
build SMS-STATUS-REPORTs. Text encoding and decoding are drivers.pdu's job, not this module's.
"""
import binascii


class TPDUError(ValueError):
    """A TPDU the simulated modem or SMSC cannot accept (the modem answers +CMS ERROR: 304)."""


def _semi_octets(digits):
    if len(digits) % 2:
        digits += "F"
    return bytes(int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2))


def _digits(data, count):
    out = []
    for b in data:
        out.append("%X" % (b & 0x0F))
        out.append("%X" % (b >> 4))
    return "".join(out)[:count]


def encode_address(number):
    """TP-OA/TP-DA/TP-RA: length in digits, type of address, swapped digits."""
    toa = 0x91 if number.startswith("+") else 0x81
    digits = number.lstrip("+")
    if not digits.isdigit():
        raise TPDUError(f"address {number!r} is not a phone number")
    return bytes([len(digits), toa]) + _semi_octets(digits)


def decode_address(data, pos):
    """Return (number, next position) for an address field starting at pos."""
    if pos + 2 > len(data):
        raise TPDUError("truncated address")
    ndigits, toa = data[pos], data[pos + 1]
    nbytes = (ndigits + 1) // 2
    raw = data[pos + 2:pos + 2 + nbytes]
    if len(raw) != nbytes:
        raise TPDUError("truncated address")
    if toa & 0x70 == 0x50:  # alphanumeric: keep it printable, the simulator routes digits only
        number = binascii.hexlify(raw).decode()
    else:
        number = _digits(raw, ndigits)
        if toa & 0x70 == 0x10:
            number = "+" + number
    return number, pos + 2 + nbytes


def encode_smsc(number):
    """The SMSC field that modems put before a TPDU in PDU mode (length in octets, not digits)."""
    if not number:
        return b"\x00"
    toa = 0x91 if number.startswith("+") else 0x81
    body = bytes([toa]) + _semi_octets(number.lstrip("+"))
    return bytes([len(body)]) + body


def split_smsc(pdu):
    """Split a PDU-mode PDU (bytes) into (smsc number or None, tpdu bytes)."""
    if not pdu:
        raise TPDUError("empty PDU")
    n = pdu[0]
    if n == 0:
        return None, pdu[1:]
    if 1 + n > len(pdu):
        raise TPDUError("SMSC length past the end of the PDU")
    field = pdu[1:1 + n]
    number = _digits(field[1:], 2 * (n - 1)).rstrip("F")
    if field[0] & 0x70 == 0x10:
        number = "+" + number
    return number, pdu[1 + n:]


def encode_scts(stamp):
    """TP-SCTS from (year, month, day, hour, minute, second, tz_quarters)."""
    y, mo, d, h, mi, s, tz = stamp
    out = bytearray(_semi_octets("%02d%02d%02d%02d%02d%02d" % (y % 100, mo, d, h, mi, s)))
    q = abs(int(tz))
    octet = _semi_octets("%02d" % q)[0]
    if tz < 0:
        octet |= 0x08
    out.append(octet)
    return bytes(out)


def parse_submit(tpdu):
    """The header of an SMS-SUBMIT, and its user data (UDL included) as sent."""
    if len(tpdu) < 7:
        raise TPDUError("SMS-SUBMIT too short")
    fo = tpdu[0]
    if fo & 0x03 != 0x01:
        raise TPDUError("not an SMS-SUBMIT (TP-MTI %d)" % (fo & 0x03))
    mr = tpdu[1]
    number, pos = decode_address(tpdu, 2)
    if pos + 2 > len(tpdu):
        raise TPDUError("SMS-SUBMIT truncated after the address")
    pid, dcs = tpdu[pos], tpdu[pos + 1]
    pos += 2
    vpf = (fo >> 3) & 0x03
    validity_s = relative_validity_s(tpdu[pos]) if vpf == 2 and pos < len(tpdu) else None
    pos += {0: 0, 2: 1, 1: 7, 3: 7}[vpf]
    if pos >= len(tpdu):
        raise TPDUError("SMS-SUBMIT has no TP-UDL")
    udl = tpdu[pos]
    ud = tpdu[pos + 1:]
    septets = _is_gsm7(dcs)
    need = (udl * 7 + 7) // 8 if septets else udl
    if len(ud) < need or udl > 160 or (not septets and udl > 140):
        raise TPDUError("TP-UDL %d does not match %d octets of user data" % (udl, len(ud)))
    udhi = bool(fo & 0x40)
    return {
        "mr": mr, "number": number, "pid": pid, "dcs": dcs, "udhi": udhi,
        "status_report": bool(fo & 0x20), "ud": tpdu[pos:pos + 1 + need],
        "concat": _concat(ud) if udhi else None, "validity_s": validity_s,
    }


def relative_validity_s(vp):
    """TP-VP in relative format (TS 23.040 9.2.3.12.1) in seconds."""
    if vp <= 143:
        return (vp + 1) * 5 * 60
    if vp <= 167:
        return 12 * 3600 + (vp - 143) * 30 * 60
    if vp <= 196:
        return (vp - 166) * 86400
    return (vp - 192) * 7 * 86400


def _is_gsm7(dcs):
    """Whether TP-UDL counts septets (GSM 7-bit alphabet) rather than octets (TS 23.038 section 4)."""
    group = dcs >> 4
    if group < 0x8:
        return (dcs >> 2) & 0x03 == 0 and not dcs & 0x20  # compressed text counts octets
    if group in (0xC, 0xD):
        return True
    if group == 0xF:
        return dcs & 0x04 == 0
    return False


def _concat(ud):
    """(reference, part, total) from a concatenation information element, or None."""
    if not ud:
        return None
    udhl = ud[0]
    pos, end = 1, 1 + udhl
    while pos + 1 < end and end <= len(ud):
        iei, iel = ud[pos], ud[pos + 1]
        val = ud[pos + 2:pos + 2 + iel]
        if iei == 0x00 and iel == 3:
            return val[0], val[2], val[1]
        if iei == 0x08 and iel == 4:
            return (val[0] << 8) | val[1], val[3], val[2]
        pos += 2 + iel
    return None


def build_deliver(sender, submit, scts, status_report_indication=False, more_messages=False):
    """The SMS-DELIVER an SMSC makes of a SUBMIT: same PID, DCS, UDH and user data."""
    fo = 0x00
    if not more_messages:
        fo |= 0x04  # TP-MMS set: no more messages waiting
    if status_report_indication:
        fo |= 0x20
    if submit["udhi"]:
        fo |= 0x40
    return bytes([fo]) + encode_address(sender) + bytes([submit["pid"], submit["dcs"]]) + encode_scts(scts) \
        + submit["ud"]


def build_status_report(mr, recipient, scts, discharge, status):
    """SMS-STATUS-REPORT (TP-MTI 2, TP-MMS set); status 0 = delivered, 0x40+ = permanent failure."""
    return bytes([0x06, mr & 0xFF]) + encode_address(recipient) + encode_scts(scts) + encode_scts(discharge) \
        + bytes([status & 0xFF])


def pdu_type(tpdu):
    """'deliver', 'submit' or 'status-report' from TP-MTI (as seen by the mobile)."""
    return {0: "deliver", 1: "submit", 2: "status-report"}.get(tpdu[0] & 0x03, "reserved") if tpdu else "empty"
