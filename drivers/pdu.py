"""SMS PDU codec (3GPP TS 23.040 transfer layer, TS 23.038 alphabets): pure functions, MicroPython and CPython.

`encode_submit` builds what AT+CMGS takes in PDU mode, `encode_deliver` and `encode_status_report` what a network
sends (the modem simulator plays the network), `decode` reads all three. `decode` is total: any string gives a dict
or PDUError with a message naming what is wrong. `Reassembler` joins concatenated parts and never drops an
incomplete message silently: a missing part must not lose an alert.

decode() returns a dict with these keys:
  type           "deliver" | "submit" | "status-report"
  number         sender (deliver) or recipient (submit, status-report): "+" then digits for TON international,
                 plain digits otherwise (semi-octets A-E as * # a b c), the text of an alphanumeric address
  smsc           the service centre number, or None
  text           the text; for 8-bit data the hex of the octets
  encoding       "gsm7" | "ucs2" | "8bit" (compressed text is handed over as 8-bit data)
  timestamp      TP-SCTS as ISO 8601 with its zone ("2026-11-23T10:15:00+01:00"); None for a submit
  concat         {"ref", "part", "total"} from a concatenation element (IEI 00 or 08), or None
  reference      TP-MR (submit, status-report), else None
  status         TP-ST (status-report), else None
  status_report  TP-SRR (submit), TP-SRI (deliver), TP-SRQ (status-report), as a bool
  udh            [(iei, data hex)] of the user data header, or []
  ports          {"dest", "src"} from an application port element (IEI 04 or 05), or None
  pid, dcs       TP-PID and TP-DCS as integers
  truncated      True only when decode(strict=False) read less user data than TP-UDL announced
  warnings       what decode(strict=False) tolerated (a cut user data, an impossible time stamp given as
                 None, an odd last hex digit) and an odd UCS-2 octet dropped: [] for a clean PDU
and, where the PDU has them: discharge (status-report, ISO 8601), validity_minutes (relative TP-VP) or
validity_until (absolute TP-VP, ISO 8601).
"""
import binascii

from drivers import gsm7
from drivers.compat import ticks_diff


class PDUError(ValueError):
    """Bad input to the codec: a malformed PDU, a number that is not a number, a text too long."""


_HEX_DIGITS = "0123456789abcdefABCDEF"
_BCD = "0123456789*#abc"  # semi-octet values 0-14; 15 is the filler
_MAX_DIGITS = 20  # TS 23.040 §9.1.2.5: an address value is at most 10 octets

GSM7 = "gsm7"
UCS2 = "ucs2"
DATA8 = "8bit"
_DCS = {GSM7: 0x00, DATA8: 0x04, UCS2: 0x08}

_UD_OCTETS = 140
_SINGLE_GSM7 = 160
_SINGLE_UCS2 = 70
_MAX_PARTS = 255

_MTI_DELIVER = 0
_MTI_SUBMIT = 1
_MTI_STATUS = 2
_UDHI = 0x40

IEI_CONCAT8 = 0x00
IEI_CONCAT16 = 0x08
IEI_PORTS8 = 0x04
IEI_PORTS16 = 0x05


def _hex(data):
    return binascii.hexlify(data).decode().upper()


# ---------------------------------------------------------------------------------------------------- helpers


def is_gsm7(text):
    """True when every character is in the GSM 7-bit default alphabet or its extension table."""
    for ch in text:
        if not gsm7.char_septets(ch):
            return False
    return True


def septets(text):
    """Length of `text` in septets, extension characters counting two. PDUError if it is not GSM-7."""
    total = 0
    for ch in text:
        n = gsm7.char_septets(ch)
        if not n:
            raise PDUError("character %r is not in the GSM 7-bit alphabet" % ch)
        total += n
    return total


def parts_needed(text, force_ucs2=False, concat_ref=0):
    """How many SMS `text` takes (1 when it fits in one)."""
    _dcs, chunks, _udh_len = _split_text(text, force_ucs2, concat_ref)
    return len(chunks)


def validity_to_relative(minutes):
    """TP-VP relative format (TS 23.040 §9.2.3.12.1), rounding down to the step the network can express.
    PDUError below 5 minutes or above 63 weeks."""
    if not isinstance(minutes, int) or minutes < 5:
        raise PDUError("validity must be a whole number of minutes, at least 5")
    if minutes <= 720:
        return minutes // 5 - 1
    if minutes <= 1440:
        return (minutes - 720) // 30 + 143
    days = minutes // 1440
    if days <= 30:
        return days + 166
    weeks = days // 7
    if weeks <= 63:
        return weeks + 192
    raise PDUError("validity of %d minutes is longer than the 63 weeks TP-VP allows" % minutes)


def relative_to_minutes(vp):
    """Minutes a TP-VP relative value stands for."""
    if vp <= 143:
        return (vp + 1) * 5
    if vp <= 167:
        return 720 + (vp - 143) * 30
    if vp <= 196:
        return (vp - 166) * 1440
    return (vp - 192) * 7 * 1440


# ---------------------------------------------------------------------------------------------------- encoding


def _digits_of(number, what):
    """'+223...' -> ('223...', international). PDUError for anything but digits with an optional leading +."""
    if not isinstance(number, str):
        raise PDUError("%s must be a string of digits, not %r" % (what, number))
    international = number.startswith("+")
    digits = number[1:] if international else number
    if not digits:
        raise PDUError("%s is empty" % what)
    for ch in digits:
        if not ("0" <= ch <= "9"):
            raise PDUError("%s %r: only digits with an optional leading + are allowed" % (what, number))
    if len(digits) > _MAX_DIGITS:
        raise PDUError("%s %r has %d digits, at most %d" % (what, number, len(digits), _MAX_DIGITS))
    return digits, international


def _bcd(digits):
    out = bytearray()
    for i in range(0, len(digits), 2):
        low = ord(digits[i]) - 48
        high = ord(digits[i + 1]) - 48 if i + 1 < len(digits) else 0x0F
        out.append((high << 4) | low)
    return out


def _encode_address(number, what, alphanumeric_ok=False):
    """TP-DA / TP-OA / TP-RA: length in semi-octets, type of address, value."""
    if alphanumeric_ok and isinstance(number, str) and number and not _is_number(number):
        sept = gsm7.encode(number)
        if sept is None or len(sept) > 11:
            raise PDUError("%s %r: an alphanumeric address is at most 11 GSM-7 septets" % (what, number))
        packed = gsm7.pack(sept)
        # Semi-octets actually used by the septets, not counting the spare bits of the last octet.
        return bytes([(len(sept) * 7 + 3) // 4, 0xD0]) + packed
    digits, international = _digits_of(number, what)
    return bytes([len(digits), 0x91 if international else 0x81]) + _bcd(digits)


def _is_number(text):
    body = text[1:] if text.startswith("+") else text
    if not body:
        return False
    for ch in body:
        if not ("0" <= ch <= "9"):
            return False
    return True


def _encode_smsc(smsc):
    """The SMSC field: "00" (use the SIM's) or length in octets, type, value."""
    if smsc is None:
        return b"\x00"
    digits, international = _digits_of(smsc, "SMSC number")
    value = _bcd(digits)
    return bytes([len(value) + 1, 0x91 if international else 0x81]) + value


def _semi(value):
    return ((value % 10) << 4) | (value // 10)


def _encode_timestamp(ts, what):
    """(year, month, day, hour, minute, second, tz_quarter_hours) -> the 7 octets of TP-SCTS."""
    try:
        year, month, day, hour, minute, second, tz = ts
    except (TypeError, ValueError):
        raise PDUError("%s must be (year, month, day, hour, minute, second, tz_quarter_hours)" % what)
    for value in ts:
        if not isinstance(value, int):
            raise PDUError("%s: %r is not an integer" % (what, value))
    if not (1 <= month <= 12 and 1 <= day <= 31 and 0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise PDUError("%s %r is not a valid date and time" % (what, tuple(ts)))
    if not -79 <= tz <= 79:
        raise PDUError("%s: time zone %d quarter hours is out of range" % (what, tz))
    zone = _semi(-tz if tz < 0 else tz)
    if tz < 0:
        zone |= 0x08
    return bytes([_semi(year % 100), _semi(month), _semi(day), _semi(hour), _semi(minute), _semi(second), zone])


def _ucs2_bytes(text):
    """Text -> UTF-16 big-endian octets (TS 23.038's UCS-2, with surrogate pairs for characters beyond U+FFFF),
    in a bytearray: two octets a unit, not a list of ints, to keep a long text small on a microcontroller."""
    out = bytearray()
    for ch in text:
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            high = 0xD800 | (cp >> 10)
            low = 0xDC00 | (cp & 0x3FF)
            out.append(high >> 8)
            out.append(high & 0xFF)
            out.append(low >> 8)
            out.append(low & 0xFF)
        else:
            out.append(cp >> 8)
            out.append(cp & 0xFF)
    return out


def _cut(data, limit, width):
    """Split `data` (septets, width 1; UTF-16 octets, width 2) into chunks of at most `limit` units, never right
    after an escape septet or a high surrogate: an extension character or an emoji is never split."""
    chunks = []
    start = 0
    n = len(data)
    step = limit * width
    while start < n:
        end = start + step
        if end >= n:
            end = n
        elif width == 1 and data[end - 1] == gsm7.ESCAPE:
            end -= 1
        elif width == 2 and 0xD8 <= data[end - 2] <= 0xDB:
            end -= 2
        chunks.append(data[start:end])
        start = end
    return chunks


def _split_text(text, force_ucs2, concat_ref):
    """-> (alphabet, chunks of septets, UTF-16 octets or data octets, UDH length per part or 0)."""
    udh_len = 7 if concat_ref is not None and concat_ref > 255 else 6
    if isinstance(text, (bytes, bytearray)):
        if len(text) <= _UD_OCTETS:
            return DATA8, [bytes(text)], 0
        step = _UD_OCTETS - udh_len
        chunks = [bytes(text[i:i + step]) for i in range(0, len(text), step)]
        if len(chunks) > _MAX_PARTS:
            raise PDUError("data too long: %d parts needed, at most %d" % (len(chunks), _MAX_PARTS))
        return DATA8, chunks, udh_len
    if not isinstance(text, str):
        raise PDUError("text must be a string (or bytes for 8-bit data), not %r" % (text,))
    if len(text) > _MAX_PARTS * 153:
        # Refused before encoding: no alphabet fits more, and a microcontroller has no room to find out.
        raise PDUError("text too long: %d characters, at most %d parts" % (len(text), _MAX_PARTS))
    sept = None if force_ucs2 else gsm7.encode(text)
    if sept is not None:
        if len(sept) <= _SINGLE_GSM7:
            return GSM7, [sept], 0
        limit = (_UD_OCTETS - udh_len) * 8 // 7
        chunks = _cut(sept, limit, 1)
        alphabet = GSM7
    else:
        units = _ucs2_bytes(text)
        if len(units) <= 2 * _SINGLE_UCS2:
            return UCS2, [units], 0
        chunks = _cut(units, (_UD_OCTETS - udh_len) // 2, 2)
        alphabet = UCS2
    if len(chunks) > _MAX_PARTS:
        raise PDUError("text too long: %d parts needed, at most %d" % (len(chunks), _MAX_PARTS))
    return alphabet, chunks, udh_len


def _default_concat_ref(text, reference):
    # Deterministic (pure function), spread over 1..255 so that two long messages rarely share one.
    h = reference & 0xFF
    for ch in text:
        h = (h * 31 + (ch if isinstance(ch, int) else ord(ch))) & 0xFFFF
    return h % 255 + 1


def _dcs_for(alphabet, message_class):
    if message_class is None:
        return _DCS[alphabet]
    if message_class not in (0, 1, 2, 3):
        raise PDUError("message_class must be 0 (flash), 1, 2 or 3, not %r" % (message_class,))
    return 0x10 | _DCS[alphabet] | message_class


def _user_data(text, force_ucs2, concat_ref, reference, message_class=None):
    """-> (dcs, [(udhi, udl, ud bytes)]) for every part."""
    if concat_ref is not None and (not isinstance(concat_ref, int) or not 0 <= concat_ref <= 0xFFFF):
        raise PDUError("concat_ref must be an integer 0..65535, not %r" % (concat_ref,))
    alphabet, chunks, udh_len = _split_text(text, force_ucs2, concat_ref)
    if len(chunks) > 1 and concat_ref is None:
        concat_ref = _default_concat_ref(text, reference)
    parts = []
    total = len(chunks)
    for seq in range(1, total + 1):
        chunk = chunks[seq - 1]
        if total == 1:
            udh = b""
        elif udh_len == 7:
            udh = bytes([6, IEI_CONCAT16, 4, concat_ref >> 8, concat_ref & 0xFF, total, seq])
        else:
            udh = bytes([5, IEI_CONCAT8, 3, concat_ref, total, seq])
        if alphabet == GSM7:
            header_septets = (len(udh) * 8 + 6) // 7
            fill = header_septets * 7 - len(udh) * 8
            ud = udh + gsm7.pack(chunk, fill)
            udl = header_septets + len(chunk)
        else:
            ud = udh + chunk
            udl = len(ud)
        parts.append((bool(udh), udl, ud))
    return _dcs_for(alphabet, message_class), parts


def encode_submit(number, text, status_report=False, reference=0, concat_ref=None, validity_minutes=None,
                  smsc=None, force_ucs2=False, reject_duplicates=False, validity_until=None, message_class=None):
    """SMS-SUBMIT PDUs for AT+CMGS: a list of (pdu_hex, tpdu_length), one per part.

    `text` as bytes is sent as 8-bit data. Validity is relative (`validity_minutes`) or absolute
    (`validity_until`, a timestamp tuple like encode_deliver's). Every part carries the same TP-MR: the modem
    assigns its own on AT+CMGS anyway."""
    address = _encode_address(number, "number")
    smsc_field = _encode_smsc(smsc)
    if not isinstance(reference, int) or not 0 <= reference <= 255:
        raise PDUError("reference (TP-MR) must be an integer 0..255, not %r" % (reference,))
    if validity_minutes is not None and validity_until is not None:
        raise PDUError("give validity_minutes or validity_until, not both")
    vp = b""
    vpf = 0
    if validity_minutes is not None:
        vp = bytes([validity_to_relative(validity_minutes)])
        vpf = 0x10
    elif validity_until is not None:
        vp = _encode_timestamp(validity_until, "validity_until")
        vpf = 0x18
    dcs, parts = _user_data(text, force_ucs2, concat_ref, reference, message_class)
    out = []
    for udhi, udl, ud in parts:
        first = (_MTI_SUBMIT | vpf | (0x04 if reject_duplicates else 0) | (0x20 if status_report else 0)
                 | (_UDHI if udhi else 0))
        tpdu = bytearray([first, reference])
        tpdu += address
        tpdu += bytes([0x00, dcs])
        tpdu += vp
        tpdu.append(udl)
        tpdu += ud
        out.append((_hex(smsc_field + tpdu), len(tpdu)))
    return out


def encode_deliver(sender, text, timestamp, smsc=None, concat_ref=None, status_report_indication=False):
    """SMS-DELIVER PDUs (what the network hands a modem): a list of pdu_hex, one per part. `sender` may be
    alphanumeric (at most 11 GSM-7 characters)."""
    address = _encode_address(sender, "sender", alphanumeric_ok=True)
    smsc_field = _encode_smsc(smsc)
    scts = _encode_timestamp(timestamp, "timestamp")
    dcs, parts = _user_data(text, False, concat_ref, 0)
    out = []
    for udhi, udl, ud in parts:
        # 0x04: TP-MMS set, no more messages waiting at the SMSC.
        first = _MTI_DELIVER | 0x04 | (0x20 if status_report_indication else 0) | (_UDHI if udhi else 0)
        tpdu = bytearray([first])
        tpdu += address
        tpdu += bytes([0x00, dcs])
        tpdu += scts
        tpdu.append(udl)
        tpdu += ud
        out.append(_hex(smsc_field + tpdu))
    return out


def encode_status_report(recipient, message_reference, scts, discharge, status, smsc=None):
    """An SMS-STATUS-REPORT PDU (hex) about the message TP-MR `message_reference` sent to `recipient`."""
    if not isinstance(message_reference, int) or not 0 <= message_reference <= 255:
        raise PDUError("message_reference must be an integer 0..255, not %r" % (message_reference,))
    if not isinstance(status, int) or not 0 <= status <= 255:
        raise PDUError("status must be an integer 0..255, not %r" % (status,))
    tpdu = bytearray([_MTI_STATUS | 0x04, message_reference])
    tpdu += _encode_address(recipient, "recipient")
    tpdu += _encode_timestamp(scts, "scts")
    tpdu += _encode_timestamp(discharge, "discharge")
    tpdu.append(status)
    return _hex(_encode_smsc(smsc) + tpdu)


# ---------------------------------------------------------------------------------------------------- decoding


class _Reader:
    """Bounds-checked cursor over the PDU octets: running off the end is a PDUError naming the field."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def byte(self, what):
        if self.pos >= len(self.data):
            raise PDUError("PDU ends before the %s (%d octets)" % (what, len(self.data)))
        value = self.data[self.pos]
        self.pos += 1
        return value

    def rest(self):
        value = self.data[self.pos:]
        self.pos = len(self.data)
        return value

    def take(self, n, what):
        left = len(self.data) - self.pos
        if n > left:
            raise PDUError("PDU ends inside the %s: %d octets needed, %d left" % (what, n, left))
        value = self.data[self.pos:self.pos + n]
        self.pos += n
        return value


def _unhex(pdu_hex, strict=True):
    if isinstance(pdu_hex, (bytes, bytearray)):
        try:
            pdu_hex = bytes(pdu_hex).decode()
        except Exception:
            raise PDUError("PDU must be hexadecimal text")
    if not isinstance(pdu_hex, str):
        raise PDUError("PDU must be a hex string, not %s" % type(pdu_hex).__name__)
    text = pdu_hex.strip()
    if not text:
        raise PDUError("PDU is empty")
    for ch in text:
        if ch not in _HEX_DIGITS:
            raise PDUError("PDU contains %r, which is not a hex digit" % ch)
    if len(text) % 2:
        if strict:
            raise PDUError("PDU has an odd number of hex digits (%d)" % len(text))
        text = text[:-1]
    return binascii.unhexlify(text)


def _bcd_digits(raw, count):
    """`count` semi-octets of a BCD value (low nibble first); the 0xF filler is skipped."""
    out = []
    for i in range(count):
        b = raw[i >> 1]
        nibble = (b >> 4) if i & 1 else (b & 0x0F)
        if nibble != 0x0F:
            out.append(_BCD[nibble])
    return "".join(out)


def _with_ton(digits, toa):
    if (toa & 0x70) == 0x10 and digits:
        return "+" + digits
    return digits


def _read_address(r, what):
    length = r.byte(what + " length")
    toa = r.byte(what + " type")
    raw = r.take((length + 1) // 2, what)
    if (toa & 0x70) == 0x50:
        # Alphanumeric: GSM-7 packed; the length counts the semi-octets the septets use (some senders count
        # whole octets: then 7 spare bits may hold padding, dropped like unpack_all does).
        septets = gsm7.unpack(raw, 0, 0, length * 4 // 7)
        if septets and (length * 4) % 7 == 0 and septets[-1] in (0, gsm7.CR):
            septets = septets[:-1]
        return gsm7.decode(septets)
    return _with_ton(_bcd_digits(raw, length), toa)


def _read_smsc(r):
    length = r.byte("SMSC length")
    if length == 0:
        return None
    raw = r.take(length, "SMSC address")
    if length == 1:
        return None
    return _with_ton(_bcd_digits(raw[1:], (length - 1) * 2), raw[0])


def _read_timestamp(r, what, warnings=None):
    """TP-SCTS / TP-DT / absolute TP-VP as ISO 8601. With a `warnings` list (lenient decoding) an impossible date
    gives None and a warning instead of PDUError: a broken SMSC clock must not cost the message."""
    raw = r.take(7, what)
    try:
        return _timestamp_iso(raw, what)
    except PDUError as exc:
        if warnings is None:
            raise
        warnings.append(str(exc))
        return None


def _timestamp_iso(raw, what):
    values = []
    for i in range(7):
        b = raw[i]
        low = b & 0x0F
        high = b >> 4
        if i == 6:
            low &= 0x07  # bit 3 is the sign of the time zone
        if low > 9 or high > 9:
            raise PDUError("%s octet %d (%02X) is not two decimal digits" % (what, i + 1, b))
        values.append(low * 10 + high)
    year, month, day, hour, minute, second, zone = values
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and second <= 59):
        raise PDUError("%s %s is not a valid date and time" % (what, _hex(raw)))
    sign = "-" if raw[6] & 0x08 else "+"
    return "%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d" % (
        2000 + year, month, day, hour, minute, second, sign, zone // 4, (zone % 4) * 15)


def _alphabet(dcs):
    """TS 23.038 §4: the character set a TP-DCS names. Reserved codings are read as GSM-7, as the spec asks;
    compressed text is handed over as 8-bit data rather than dropped."""
    group = dcs >> 4
    if group <= 0x07:
        if dcs & 0x20:
            return DATA8
        return (GSM7, DATA8, UCS2, GSM7)[(dcs >> 2) & 0x03]
    if group == 0x0E:
        return UCS2
    if group == 0x0F:
        return DATA8 if dcs & 0x04 else GSM7
    return GSM7


def _parse_udh(ud):
    """-> (header octets incl. UDHL, [(iei, hex)], concat dict or None, ports dict or None)."""
    if not ud:
        raise PDUError("TP-UDHI is set but there is no user data")
    udhl = ud[0]
    end = 1 + udhl
    if end > len(ud):
        raise PDUError("user data header of %d octets is longer than the user data (%d)" % (udhl, len(ud) - 1))
    elements = []
    concat = None
    ports = None
    i = 1
    while i < end:
        if i + 2 > end:
            raise PDUError("user data header ends inside an information element")
        iei = ud[i]
        size = ud[i + 1]
        i += 2
        if i + size > end:
            raise PDUError("information element %02X (%d octets) runs past the user data header" % (iei, size))
        data = ud[i:i + size]
        i += size
        elements.append((iei, _hex(data)))
        if iei == IEI_PORTS8 and size == 2:
            ports = {"dest": data[0], "src": data[1]}
        elif iei == IEI_PORTS16 and size == 4:
            ports = {"dest": (data[0] << 8) | data[1], "src": (data[2] << 8) | data[3]}
        if iei == IEI_CONCAT8 and size == 3:
            ref, total, part = data[0], data[1], data[2]
        elif iei == IEI_CONCAT16 and size == 4:
            ref, total, part = (data[0] << 8) | data[1], data[2], data[3]
        else:
            continue
        # TS 23.040 §9.2.3.24.1: an element with a zero count or a part beyond it is ignored.
        if total and 1 <= part <= total:
            concat = {"ref": ref, "part": part, "total": total}
    return end, elements, concat, ports


def _ucs2_text(body):
    out = []
    n = len(body) - 1  # an odd last octet is half a character: dropped
    i = 0
    while i < n:
        unit = (body[i] << 8) | body[i + 1]
        i += 2
        if 0xD800 <= unit <= 0xDBFF and i < n:
            low = (body[i] << 8) | body[i + 1]
            if 0xDC00 <= low <= 0xDFFF:
                i += 2
                out.append(chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)))
                continue
        if 0xD800 <= unit <= 0xDFFF:
            unit = 0xFFFD  # a lone surrogate is not a character
        out.append(chr(unit))
    return "".join(out)


def _read_user_data(r, first, alphabet, result, strict):
    udl = r.byte("TP-UDL")
    need = gsm7.packed_length(udl) if alphabet == GSM7 else udl
    if strict or len(r.data) - r.pos >= need:
        unit = "septets" if alphabet == GSM7 else "octets"
        ud = r.take(need, "user data (TP-UDL %d %s)" % (udl, unit))
    else:
        ud = r.rest()  # lenient: decode the user data that is there, and say so
        result["truncated"] = True
        result["warnings"].append("user data shorter than TP-UDL %d: decoded what is there" % udl)
    header = 0
    if first & _UDHI:
        header, result["udh"], result["concat"], result["ports"] = _parse_udh(ud)
    if alphabet == GSM7:
        header_septets = (header * 8 + 6) // 7
        if header_septets > udl:
            raise PDUError("user data header (%d septets) is longer than TP-UDL (%d)" % (header_septets, udl))
        fill = header_septets * 7 - header * 8
        count = min(udl - header_septets, (len(ud) * 8 - header_septets * 7) // 7)
        result["text"] = gsm7.decode(gsm7.unpack(ud, header, fill, count))
    elif alphabet == UCS2:
        body = ud[header:]
        if len(body) % 2:
            result["warnings"].append("UCS-2 user data of an odd number of octets: last octet dropped")
        result["text"] = _ucs2_text(body)
    else:
        result["text"] = _hex(ud[header:])
    result["encoding"] = alphabet


def _new_result(kind, smsc, warnings):
    return {
        "type": kind, "number": None, "smsc": smsc, "text": "", "encoding": GSM7, "timestamp": None,
        "concat": None, "reference": None, "status": None, "status_report": False, "udh": [],
        "pid": 0, "dcs": 0, "ports": None, "truncated": False, "warnings": warnings,
    }


def _decode(pdu_hex, has_smsc, strict=True):
    r = _Reader(_unhex(pdu_hex, strict))
    warnings = []
    lenient = None if strict else warnings
    if lenient is not None and len(pdu_hex.strip()) % 2:
        warnings.append("odd number of hex digits: the last one dropped")
    smsc = _read_smsc(r) if has_smsc else None
    first = r.byte("first octet")
    mti = first & 0x03
    if mti == _MTI_DELIVER:
        result = _new_result("deliver", smsc, warnings)
        result["status_report"] = bool(first & 0x20)
        result["number"] = _read_address(r, "originating address")
        result["pid"] = r.byte("TP-PID")
        result["dcs"] = r.byte("TP-DCS")
        result["timestamp"] = _read_timestamp(r, "service centre time stamp", lenient)
        _read_user_data(r, first, _alphabet(result["dcs"]), result, strict)
    elif mti == _MTI_SUBMIT:
        result = _new_result("submit", smsc, warnings)
        result["status_report"] = bool(first & 0x20)
        result["reference"] = r.byte("TP-MR")
        result["number"] = _read_address(r, "destination address")
        result["pid"] = r.byte("TP-PID")
        result["dcs"] = r.byte("TP-DCS")
        vpf = (first >> 3) & 0x03
        if vpf == 2:
            result["validity_minutes"] = relative_to_minutes(r.byte("TP-VP"))
        elif vpf == 3:
            result["validity_until"] = _read_timestamp(r, "TP-VP", lenient)
        elif vpf:
            r.take(7, "TP-VP")  # enhanced format (TS 23.040 §9.2.3.12.3): skipped
        _read_user_data(r, first, _alphabet(result["dcs"]), result, strict)
    elif mti == _MTI_STATUS:
        result = _new_result("status-report", smsc, warnings)
        result["status_report"] = bool(first & 0x20)
        result["reference"] = r.byte("TP-MR")
        result["number"] = _read_address(r, "recipient address")
        result["timestamp"] = _read_timestamp(r, "service centre time stamp", lenient)
        result["discharge"] = _read_timestamp(r, "discharge time", lenient)
        result["status"] = r.byte("TP-ST")
        if r.pos < len(r.data):
            # TP-PI says which optional fields follow (TS 23.040 §9.2.3.27).
            pi = r.byte("TP-PI")
            if pi & 0x01:
                result["pid"] = r.byte("TP-PID")
            if pi & 0x02:
                result["dcs"] = r.byte("TP-DCS")
            if pi & 0x04:
                _read_user_data(r, first, _alphabet(result["dcs"]), result, strict)
    else:
        raise PDUError("TP-MTI 3 (first octet %02X) is reserved: not an SMS PDU" % first)
    return result


def decode(pdu_hex, has_smsc=True, strict=True):
    """Decode an SMS-DELIVER, SMS-SUBMIT or SMS-STATUS-REPORT PDU given as hex (with the SMSC field unless
    has_smsc is False). Returns a dict; PDUError for bad input.

    strict=False is for what a modem actually handed over: an odd last hex digit is dropped and user data
    shorter than TP-UDL is decoded as far as it goes, with "truncated": True, rather than refused."""
    try:
        return _decode(pdu_hex, has_smsc, strict)
    except PDUError:
        raise
    except Exception as exc:  # a decoder bug must still surface as the one documented error type
        raise PDUError("malformed PDU (%s: %s)" % (type(exc).__name__, exc))


# ---------------------------------------------------------------------------------------------------- reassembly


class Reassembler:
    """Joins the parts of concatenated messages, keyed by (number, ref, total). Duplicates are ignored, also
    copies of a message completed less than `timeout_ms` ago.
    A message whose first part is older than `timeout_ms`, or pushed out when more than `max_messages` are
    pending, comes out of `expire` marked incomplete with its missing part numbers: never dropped."""

    def __init__(self, timeout_ms=600000, max_messages=32):
        self.timeout_ms = timeout_ms
        self.max_messages = max_messages
        self._pending = {}  # key -> [first_ms, {part: decoded}]
        self._order = []  # keys, oldest first
        self._evicted = []
        # Completed recently: key -> (ms, {part: text}). A modem that failed to delete its parts hands them over
        # again; those copies are ignored, while a new message that reuses the reference (different text) is not.
        self._recent = {}

    def pending(self):
        return len(self._pending)

    def add(self, decoded, now_ms):
        concat = decoded.get("concat")
        if not concat:
            message = dict(decoded)
            message["parts"] = 1
            message["incomplete"] = False
            message["missing"] = []
            return message
        key = (decoded.get("number"), concat["ref"], concat["total"])
        recent = self._recent.get(key)
        if recent is not None and ticks_diff(now_ms, recent[0]) < self.timeout_ms:
            if recent[1].get(concat["part"]) == decoded.get("text"):
                return None
        entry = self._pending.get(key)
        if entry is None:
            if len(self._pending) >= self.max_messages:
                oldest = self._order.pop(0)
                self._evicted.append(self._join(self._pending.pop(oldest)[1], oldest[2]))
            entry = [now_ms, {}]
            self._pending[key] = entry
            self._order.append(key)
        parts = entry[1]
        if concat["part"] in parts:
            return None
        parts[concat["part"]] = decoded
        if len(parts) < concat["total"]:
            return None
        del self._pending[key]
        self._order.remove(key)
        self._remember(key, parts, now_ms)
        return self._join(parts, concat["total"])

    def _remember(self, key, parts, now_ms):
        if key not in self._recent and len(self._recent) >= self.max_messages:
            oldest = None
            for k in self._recent:
                if oldest is None or ticks_diff(self._recent[oldest][0], self._recent[k][0]) > 0:
                    oldest = k
            del self._recent[oldest]
        texts = {}
        for n in parts:
            texts[n] = parts[n].get("text")
        self._recent[key] = (now_ms, texts)

    def expire(self, now_ms):
        """Incomplete messages whose first part arrived `timeout_ms` ago or more (and any evicted ones)."""
        out = self._evicted
        self._evicted = []
        for key in list(self._order):
            entry = self._pending[key]
            if ticks_diff(now_ms, entry[0]) >= self.timeout_ms:
                del self._pending[key]
                self._order.remove(key)
                out.append(self._join(entry[1], key[2]))
        for key in list(self._recent):
            if ticks_diff(now_ms, self._recent[key][0]) >= self.timeout_ms:
                del self._recent[key]
        return out

    @staticmethod
    def _join(parts, total):
        numbers = sorted(parts)
        message = dict(parts[numbers[0]])
        message["text"] = "".join(parts[n]["text"] for n in numbers)
        message["udh"] = [ie for ie in message["udh"] if ie[0] not in (IEI_CONCAT8, IEI_CONCAT16)]
        message["concat"] = None
        message["parts"] = len(numbers)
        missing = [n for n in range(1, total + 1) if n not in parts]
        message["incomplete"] = bool(missing)
        message["missing"] = missing
        return message
