"""GSM 7-bit default alphabet with its extension table (3GPP TS 23.038 §6.2.1) and septet packing (§6.1.2.1).

Pure functions over ints and bytes, shared by MicroPython and CPython. Errors are the caller's business: `encode`
returns None for text outside the alphabet, and `unpack` trusts the caller to have checked the length.
"""

ESCAPE = 0x1B
CR = 0x0D

# Index = septet value. 0x1B is the escape to the extension table, never a character of its own.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)

# Extension table (after ESC): form feed, ^ { } \ [ ~ ] | and the euro sign.
EXTENSION = {
    0x0A: "\x0c", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "€",
}

# Tables kept small for a microcontroller's heap: bytes indexed by septet or by ASCII code, and dicts only for
# the few characters outside ASCII. Decoding builds UTF-8 in a bytearray, then makes one str.
_INVALID = 0xFF
_EXT_FLAG = 0x80  # in _ENC: an extension character, code in the low 7 bits


def _tables():
    dec = bytearray(128)  # septet -> ASCII code, 0 when the character is not ASCII (then see dec_wide)
    dec_wide = {}  # septet -> UTF-8 bytes
    enc = bytearray(b"\xff" * 128)  # ASCII code -> septet | _EXT_FLAG for the extension table
    enc_wide = {}  # code point -> septet, or 0x100 | code for the extension table
    for i in range(128):
        if i == ESCAPE:
            continue
        ch = BASIC[i]
        o = ord(ch)
        if o < 128:
            dec[i] = o
            enc[o] = i
        else:
            dec_wide[i] = ch.encode()
            enc_wide[o] = i
    ext = {}
    for code in EXTENSION:
        ch = EXTENSION[code]
        ext[code] = ch.encode()
        o = ord(ch)
        if o < 128:
            enc[o] = _EXT_FLAG | code
        else:
            enc_wide[o] = 0x100 | code
    return bytes(dec), dec_wide, ext, bytes(enc), enc_wide


_DEC, _DEC_WIDE, _DEC_EXT, _ENC, _ENC_WIDE = _tables()


def _code(ch):
    """-> septet, 0x100 | code for an extension character, or None outside the alphabet."""
    o = ord(ch)
    if o < 128:
        v = _ENC[o]
        if v == _INVALID:
            return None
        return (0x100 | (v & 0x7F)) if v & _EXT_FLAG else v
    return _ENC_WIDE.get(o)


def char_septets(ch):
    """Septets one character takes (1, or 2 for the extension table), 0 when it is not in the alphabet."""
    code = _code(ch)
    if code is None:
        return 0
    return 2 if code > 0xFF else 1


def encode(text):
    """Text -> bytearray of septet values (escapes included), or None when a character is outside GSM-7."""
    out = bytearray()
    for ch in text:
        code = _code(ch)
        if code is None:
            return None
        if code > 0xFF:
            out.append(ESCAPE)
            out.append(code & 0x7F)
        else:
            out.append(code)
    return out


def _put(out, s):
    a = _DEC[s]
    if a:
        out.append(a)
    else:
        out.extend(_DEC_WIDE[s])


def decode(septets):
    """Septet values -> text. An unknown extension code shows its basic character and an escape with nothing
    after it (or ESC ESC, reserved) a space, as TS 23.038 asks of a receiving entity."""
    out = bytearray()
    escaped = False
    for s in septets:
        s &= 0x7F
        if escaped:
            escaped = False
            ext = _DEC_EXT.get(s)
            if ext is not None:
                out.extend(ext)
            elif s == ESCAPE:
                out.append(0x20)
            else:
                _put(out, s)
        elif s == ESCAPE:
            escaped = True
        else:
            _put(out, s)
    if escaped:
        out.append(0x20)
    return str(out, "utf-8")


def pack(septets, fill_bits=0, cr_pad=False):
    """Pack septets LSB first into octets, after `fill_bits` zero bits (the padding that aligns text after a
    user data header). Spare bits are zeros, as SMS packing asks (TS 23.038 §6.1.2.1.1): an SMS reader goes by
    TP-UDL. cr_pad=True puts <CR> in 7 spare bits instead, as USSD and cell broadcast packing ask (§6.1.2.3.1),
    for readers that only know the octet count."""
    out = bytearray()
    acc = 0
    nbits = fill_bits
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits == 1 and cr_pad:
        out.append((acc | (CR << 1)) & 0xFF)
    elif nbits:
        out.append(acc & 0xFF)
    return out


def packed_length(count, fill_bits=0):
    """Octets that `count` septets take after `fill_bits` padding bits."""
    return (fill_bits + 7 * count + 7) // 8


def unpack(data, offset, fill_bits, count):
    """`count` septets from `data[offset:]`, skipping `fill_bits` first. The caller checks the length
    (`packed_length`)."""
    out = bytearray(count)
    bit = offset * 8 + fill_bits
    last = len(data) - 1
    for i in range(count):
        index = bit >> 3
        shift = bit & 7
        value = data[index] >> shift
        if shift > 1 and index < last:
            value |= data[index + 1] << (8 - shift)
        out[i] = value & 0x7F
        bit += 7
    return out


def unpack_all(data):
    """Every septet in `data` when no count is known (an address, a USSD-style string): when the octets hold a
    whole number of septets, a last septet of <CR> or zeros is the padding of 7 spare bits, not a character."""
    count = len(data) * 8 // 7
    septets = unpack(data, 0, 0, count)
    if count and (len(data) * 8) % 7 == 0 and septets[-1] in (0, CR):
        septets = septets[:-1]
    return septets
