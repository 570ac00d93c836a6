"""AT command line syntax (V.25ter / 3GPP TS 27.007 section 4) and result codes shared by the command mixins."""

OK = "OK"
ERROR = "ERROR"
MAX_LINE = 556  # SIMCom's documented command line limit

# 3GPP TS 27.007 section 9.2 (CME) and TS 27.005 section 3.2.5 (CMS); 38..42 are TS 24.011 RP causes.
CME_TEXT = {
    3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted", 11: "SIM PIN required",
    13: "SIM failure", 14: "SIM busy", 30: "no network service", 50: "Incorrect parameters",
    100: "unknown", 515: "Please wait, init or command processing in progress.",
}
CMS_TEXT = {
    38: "Network out of order", 41: "Temporary failure", 42: "Congestion", 300: "ME failure",
    302: "operation not allowed", 303: "operation not supported", 304: "invalid PDU mode parameter",
    305: "invalid text mode parameter", 310: "SIM not inserted", 320: "memory failure",
    321: "invalid memory index", 322: "memory full", 330: "SMSC address unknown", 331: "no network service",
    332: "network timeout", 340: "no +CNMA acknowledgement expected", 500: "unknown error",
}


class CommandError(Exception):
    """Ends a command line with an error final result (formatted per AT+CMEE by `_error_text`)."""

    def __init__(self, kind, code=None):
        super().__init__(kind, code)
        self.kind = kind  # "ERROR", "CME" or "CMS"
        self.code = code


def cme(code):
    return CommandError("CME", code)


def cms(code):
    return CommandError("CMS", code)


def split_args(text):
    """Split AT parameters on commas outside quotes; a quoted value is what is inside its quotes, an unquoted one
    is stripped of surrounding whitespace."""
    args, cur, inside, quoted, was_quoted = [], [], [], False, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            was_quoted = True
        elif ch == "," and not quoted:
            args.append("".join(inside) if was_quoted else "".join(cur).strip())
            cur, inside, was_quoted = [], [], False
        else:
            cur.append(ch)
            if quoted:
                inside.append(ch)
    args.append("".join(inside) if was_quoted else "".join(cur).strip())
    return args


def split_command_line(body):
    """Split what follows "AT" into single commands: basic (E0, V1, &F, S7=60, I) and extended (+X, separated by ;).

    Returns a list of (name, kind, args) with kind "exec", "read", "test" or "set"; raises CommandError(ERROR).
    """
    out, i, n = [], 0, len(body)
    while i < n:
        ch = body[i]
        if ch in " ;":
            i += 1
            continue
        if ch in "+^*$#%":
            j, quoted = i, False
            while j < n and (quoted or body[j] != ";"):
                if body[j] == '"':
                    quoted = not quoted
                j += 1
            out.append(_extended(body[i:j]))
            i = j
        elif ch == "&":
            j = i + 2
            while j < n and body[j].isdigit():
                j += 1
            out.append((body[i:i + 2].upper(), "exec", body[i + 2:j]))
            i = j
        elif ch.upper() == "S" and i + 1 < n and body[i + 1].isdigit():
            j = i + 1
            while j < n and body[j].isdigit():
                j += 1
            reg = body[i:j].upper()
            if body[j:j + 1] == "?":
                out.append((reg, "read", ""))
                j += 1
            elif body[j:j + 1] == "=":
                k = j + 1
                while k < n and body[k].isdigit():
                    k += 1
                out.append((reg, "set", body[j + 1:k]))
                j = k
            else:
                out.append((reg, "exec", ""))
            i = j
        elif ch.upper() == "D":
            out.append(("D", "exec", body[i + 1:]))
            i = n
        elif ch.isalpha():
            j = i + 1
            while j < n and body[j].isdigit():
                j += 1
            out.append((ch.upper(), "exec", body[i + 1:j]))
            i = j
        else:
            raise CommandError("ERROR")
    return out


def _extended(cmd):
    j = 1
    while j < len(cmd) and (cmd[j].isalnum() or cmd[j] == "_"):
        j += 1
    name, rest = cmd[:j].upper(), cmd[j:]
    if rest.startswith("=?"):
        return name, "test", rest[2:]
    if rest.startswith("?"):
        return name, "read", rest[1:]
    if rest.startswith("="):
        return name, "set", rest[1:]
    return name, "exec", rest


def parse_int(value, low=None, high=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CommandError("ERROR") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise CommandError("ERROR")
    return number


class _Deferred:
    """Marker: the command answers later (prompt, network round trip)."""


DEFERRED = _Deferred()
