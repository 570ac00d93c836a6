"""The AT command interpreter of a simulated modem (3GPP TS 27.007 / 27.005 plus each maker's own commands).

A mixin: SimulatedModem (device.py) supplies the byte I/O (`_send_response`, `_send_urc`, `_prompt`, `_schedule`)
and the state reset at boot; this module decides what a real modem of the profile would answer.
"""
import binascii
import time

from . import tpdu
from .storage import REC_READ, REC_UNREAD, STO_SENT, STO_UNSENT, TEXT_STAT

OK = "OK"
ERROR = "ERROR"

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
STORAGE_ALIASES = {"SM_P": "SM", "ME_P": "ME", "MT": "SM"}
MAX_LINE = 556
SMS_COMMANDS = frozenset(("+CMGF", "+CMGS", "+CMGR", "+CMGL", "+CMGD", "+CMGW", "+CMSS", "+CPMS", "+CNMI", "+CSMP",
                          "+CSDH", "+CNMA", "+CSCA", "+CSMS"))
# Commands only some makers implement; a profile lists those its model answers.
MAKER_COMMANDS = frozenset(("+CENG", "+CCID", "+CPOWD", "+CPSI", "+CICCID", "+CPOF", "+QENG", "+QCCID", "+QPOWD",
                            "+CEREG"))  # SIMCom's documented command line limit


class CommandError(Exception):
    """Ends a command line with an error final result (formatted per AT+CMEE by `_error_text`)."""

    def __init__(self, kind, code=None):
        super().__init__(kind, code)
        self.kind = kind  # "ERROR", "CME" or "CMS"
        self.code = code


def _cme(code):
    return CommandError("CME", code)


def _cms(code):
    return CommandError("CMS", code)


def split_args(text):
    """Split AT parameters on commas outside quotes; quotes removed, whitespace around values dropped."""
    args, cur, quoted, was_quoted = [], [], False, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            was_quoted = True
        elif ch == "," and not quoted:
            args.append("".join(cur) if was_quoted else "".join(cur).strip())
            cur, was_quoted = [], False
        else:
            cur.append(ch)
    args.append("".join(cur) if was_quoted else "".join(cur).strip())
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


def _int(value, low=None, high=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise CommandError("ERROR") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise CommandError("ERROR")
    return number


class ATCommands:
    """Handlers named `_at_<name>` (`+CMGS` -> `_at_cmgs`); each returns info lines or raises CommandError."""

    # ---- command line -------------------------------------------------------------------------------------
    def _run_command_line(self, line):
        """Execute one line received from the host; the final result ends the response.

        Each command's information text is framed on its own (V.25ter 5.7.1), so `lines` is a list of blocks.
        """
        up = line.upper()
        start = up.find("AT")
        if start < 0:
            return  # real modems ignore lines that do not start with AT
        body = line[start + 2:]
        lines = []
        try:
            self._check_busy()
            commands = split_command_line(body)
            for index, (name, kind, args) in enumerate(commands):
                handler = self._handler(name)
                if handler is None:
                    raise self._unknown()
                if name in SMS_COMMANDS and not self.sms_ready:
                    raise _cms(302)  # before "SMS Ready"/"SMS DONE" the SMS layer refuses (SIM800 users see ERROR)
                result = handler(kind, args)
                if result is _DEFERRED:
                    # a prompt (> ) is out; the rest of the line is ignored as on real modems
                    if index + 1 < len(commands):
                        self.log.debug("ignoring commands after a prompting command")
                    return
                if result:
                    lines.append(result)
        except CommandError as exc:
            self._send_response(lines, self._error_text(exc))
            return
        self._send_response(lines, OK)

    def _unknown(self):
        # SIM800 answers an unknown command like an ME error (+CME ERROR: 100 with CMEE=1, seen in python-gsmmodem
        # logs of a SIM800C); SIMCom LTE and Quectel firmware answer a plain ERROR
        return _cme(100) if self.profile.unknown_is_cme else CommandError("ERROR")

    def _handler(self, name):
        if name in MAKER_COMMANDS and name not in self.profile.profile_commands:
            return None
        attr = "_at_" + name.lstrip("+^*$#%&").lower()
        if name.startswith("&"):
            attr = "_at_amp_" + name[1:].lower()
        elif name.startswith("S") and name[1:].isdigit():
            attr = "_at_sreg"
            return lambda kind, args: self._at_sreg(name, kind, args)
        return getattr(self, attr, None)

    def _error_text(self, exc):
        if exc.kind == "ERROR" or self.cmee == 0:
            return ERROR
        prefix = "+CME ERROR: " if exc.kind == "CME" else "+CMS ERROR: "
        table = CME_TEXT if exc.kind == "CME" else CMS_TEXT
        if self.cmee == 2 and exc.code in table:
            return prefix + table[exc.code]
        return prefix + str(exc.code)

    def _check_busy(self):
        if self.faults.get("busy", 0) > 0:
            self.faults["busy"] -= 1
            raise _cme(515)

    # ---- V.25ter basics -------------------------------------------------------------------------------------
    def _at_e(self, kind, args):
        self.echo = _int(args or "0", 0, 1) == 1

    def _at_v(self, kind, args):
        self.verbose = _int(args or "0", 0, 1) == 1

    def _at_q(self, kind, args):
        _int(args or "0", 0, 1)

    def _at_x(self, kind, args):
        _int(args or "0", 0, 4)

    def _at_z(self, kind, args):
        self._reset_settings()

    def _at_amp_f(self, kind, args):
        self._reset_settings()

    def _at_amp_w(self, kind, args):
        pass

    def _at_amp_d(self, kind, args):
        _int(args or "0", 0, 2)

    def _at_amp_c(self, kind, args):
        _int(args or "0", 0, 1)

    def _at_amp_k(self, kind, args):
        _int(args or "0", 0, 6)

    def _at_sreg(self, name, kind, args):
        if kind == "read":
            return ["%03d" % self.sregs.get(name, 0)]
        if kind == "set":
            self.sregs[name] = _int(args, 0, 255)
        return None

    def _at_i(self, kind, args):
        return [line.format(imei=self.imei) for line in self.profile.ati]

    def _at_h(self, kind, args):
        pass

    def _at_d(self, kind, args):
        raise _cme(30) if not self._registered() else CommandError("ERROR")

    def _at_ipr(self, kind, args):
        if kind == "read":
            return ["+IPR: 115200"]
        if kind == "test":
            return ["+IPR: (0,300,600,1200,2400,4800,9600,19200,38400,57600,115200),()"]
        return None

    def _at_ifc(self, kind, args):
        return ["+IFC: 0,0"] if kind == "read" else None

    def _at_icf(self, kind, args):
        return ["+ICF: 3,3"] if kind == "read" else None

    # ---- identification ---------------------------------------------------------------------------------------
    def _ident(self, kind, value):
        if kind == "test":
            return []
        if kind not in ("exec",):
            raise CommandError("ERROR")
        return [value]

    def _at_cgmi(self, kind, args):
        return self._ident(kind, self.profile.manufacturer)

    _at_gmi = _at_cgmi

    def _at_cgmm(self, kind, args):
        return self._ident(kind, self.profile.model)

    _at_gmm = _at_cgmm

    def _at_cgmr(self, kind, args):
        return self._ident(kind, self.profile.revision)

    def _at_gmr(self, kind, args):
        return self._ident(kind, self.profile.revision.replace("+CGMR: ", ""))

    def _at_cgsn(self, kind, args):
        return self._ident(kind, self.imei)

    _at_gsn = _at_cgsn

    def _at_gcap(self, kind, args):
        return self._ident(kind, self.profile.gcap)

    def _at_cimi(self, kind, args):
        self._need_sim()
        return self._ident(kind, self.imsi)

    def _at_ccid(self, kind, args):
        self._need_sim()
        return [self.iccid] if self.profile.key == "sim800l" else ["+CCID: " + self.iccid]

    def _at_ciccid(self, kind, args):
        self._need_sim()
        return ["+ICCID: " + self.iccid]

    def _at_qccid(self, kind, args):
        self._need_sim()
        return ["+QCCID: " + self.iccid]

    def _at_cvhu(self, kind, args):
        if kind == "read":
            return ["+CVHU: 0"]
        if kind == "test":
            return ["+CVHU: (0,1)"]
        _int(args or "0", 0, 1)
        return None

    def _at_cnum(self, kind, args):
        self._need_sim()
        if kind != "exec":
            return []
        toa = 145 if self.number.startswith("+") else 129
        return ['+CNUM: "","%s",%d' % (self.number, toa)]

    # ---- error reporting, SIM, functionality ------------------------------------------------------------------
    def _at_cmee(self, kind, args):
        if kind == "read":
            return ["+CMEE: %d" % self.cmee]
        if kind == "test":
            return ["+CMEE: (0-2)"]
        self.cmee = _int(args or "0", 0, 2)
        return None

    def _need_sim(self):
        if self.faults.get("sim_absent"):
            raise _cme(10)

    def _at_cpin(self, kind, args):
        self._need_sim()
        if kind == "read":
            return ["+CPIN: READY"]
        if kind == "test":
            return []
        raise _cme(3)  # no PIN is asked: entering one is not allowed

    def _at_cfun(self, kind, args):
        if kind == "read":
            return ["+CFUN: %d" % self.cfun]
        if kind == "test":
            return ["+CFUN: (0,1,4),(0,1)"]
        values = split_args(args)
        fun = _int(values[0], 0, 7)
        if fun not in (0, 1, 4):
            raise _cme(50)
        reset = len(values) > 1 and values[1] and _int(values[1], 0, 1) == 1
        self.cfun = fun
        self._set_registration(1 if fun == 1 and not self.faults.get("registration_loss") else 0)
        if reset:
            self._schedule(self._scaled(0.05), lambda: self._reboot("AT+CFUN=1,1"), "cfun-reset")
        return None

    def _at_cpas(self, kind, args):
        return ["+CPAS: 0"] if kind in ("exec", "read") else ["+CPAS: (0-5)"]

    def _power_down(self, kind, args):
        if kind == "test":
            return []
        reply = self.profile.power_down[1]
        self._schedule(0.0, self._power_off, "power-down command")
        return [reply] if reply else []

    def _at_cpowd(self, kind, args):
        return self._power_down(kind, args)

    def _at_cpof(self, kind, args):
        return self._power_down(kind, args)

    def _at_qpowd(self, kind, args):
        return self._power_down(kind, args)

    # ---- network ------------------------------------------------------------------------------------------------
    def _registered(self):
        return self.reg_stat in (1, 5)

    def _act(self):
        """<AcT> of 27.007 for the current radio (None: 2G-only firmware that never prints it)."""
        if self.profile.act is None:
            return None
        return 0 if self.rat == "GSM" else self.profile.act

    def _stat_for(self, prefix):
        """Registration status as each command reports it: EPS (+CEREG) only on LTE, CS/PS on any radio."""
        if prefix == "+CEREG" and self.rat == "GSM":
            return 0 if self.reg_stat in (1, 5) else self.reg_stat
        return self.reg_stat

    def _reg_line(self, prefix, n, with_n=True):
        stat = self._stat_for(prefix)
        fields = [str(stat)]
        if with_n:
            fields.insert(0, str(n))
        if n >= 2 and stat in (1, 5):
            fields.append('"%04X"' % self.cell["lac"])
            fields.append('"%04X"' % (self.cell["ci"] & 0xFFFF) if self.rat == "GSM" else '"%X"' % self.cell["ci"])
            if self._act() is not None:
                fields.append(str(self._act()))
        return "%s: %s" % (prefix, ",".join(fields))

    def _registration_cmd(self, name, kind, args):
        attr = "reg_n_" + name.lstrip("+").lower()
        if kind == "read":
            return [self._reg_line(name, getattr(self, attr))]
        if kind == "test":
            return ["%s: (0-2)" % name]
        setattr(self, attr, _int(args or "0", 0, 2))
        return None

    def _at_creg(self, kind, args):
        return self._registration_cmd("+CREG", kind, args)

    def _at_cgreg(self, kind, args):
        return self._registration_cmd("+CGREG", kind, args)

    def _at_cereg(self, kind, args):
        return self._registration_cmd("+CEREG", kind, args)

    def _at_csq(self, kind, args):
        if kind == "test":
            return ["+CSQ: (0-31,99),(0-7,99)"]
        rssi = self.rssi if self._registered() or self.reg_stat == 2 else 99
        ber = 0 if self.rat == "GSM" and rssi != 99 else 99
        return ["+CSQ: %d,%d" % (rssi, ber)]

    def _at_cops(self, kind, args):
        if kind == "test":
            act = ",%d" % self._act() if self._act() is not None else ""
            return ['+COPS: (2,"%s","%s","%s"%s),,(0-4),(0-2)' % (
                self.operator, self.operator[:8], self.plmn, act)]
        if kind == "set":
            values = split_args(args)
            mode = _int(values[0] or "0", 0, 4)
            if mode == 3 and len(values) > 1:
                self.cops_format = _int(values[1], 0, 2)
            return None
        if not self._registered():
            return ["+COPS: 0"]
        act = ",%d" % self._act() if self._act() is not None else ""
        name = {0: self.operator, 1: self.operator[:8], 2: self.plmn}[self.cops_format]
        return ['+COPS: 0,%d,"%s"%s' % (self.cops_format, name, act)]

    def _at_cbc(self, kind, args):
        if kind == "test":
            return []
        style = self.profile.cbc_style
        if style == "simcom_volts":
            return ["+CBC: %.3fV" % (self.battery_mv / 1000)]
        return ["+CBC: 0,%d,%d" % (self.battery_pct, self.battery_mv)]

    def _at_cclk(self, kind, args):
        if kind == "set":
            return None
        t = time.gmtime(time.time() + self.tz_quarters * 900)
        return ['+CCLK: "%02d/%02d/%02d,%02d:%02d:%02d%+03d"' % (
            t.tm_year % 100, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, self.tz_quarters)]

    def _at_ceng(self, kind, args):
        # SIM800 engineering mode (SIM800 Series AT Command Manual, AT+CENG): mode 3 lists the serving cell as
        # <cell>,<mcc>,<mnc>,<lac>,<cellid>,<bsic>,<rxl>
        if kind == "test":
            return ["+CENG: (0-4),(0-1)"]
        if kind == "set":
            self.ceng_mode = _int(split_args(args)[0], 0, 4)
            return None
        lines = ["+CENG: %d,0" % self.ceng_mode]
        if self.ceng_mode and self._registered():
            c = self.cell
            rxl = max(0, min(63, self.rssi * 2))
            if self.ceng_mode == 3:
                lines.append('+CENG: 0,%s,%s,%04x,%04x,%d,%d' % (
                    c["mcc"], c["mnc"], c["lac"], c["ci"] & 0xFFFF, c["bsic"], rxl))
            else:
                lines.append('+CENG: 0,"%04d,%02d,00,%s,%s,%d,%04x,%02d,05,%04x,255"' % (
                    c["arfcn"], rxl, c["mcc"], c["mnc"], c["bsic"], c["ci"] & 0xFFFF, rxl, c["lac"]))
        return lines

    def _at_cpsi(self, kind, args):
        # SIMCom LTE modules: +CPSI: <mode>,<status>,<mcc>-<mnc>,<tac>,<sci>,<pci>,<band>,<earfcn>,...
        if kind == "test":
            return []
        if kind == "set":
            return None
        if not self._registered():
            return ["+CPSI: NO SERVICE,Online"]
        c = self.cell
        if self.rat == "GSM":  # 2G fallback: <LAC>,<Cell ID>,<ARFCN band>,<RxLev>,<Track LO>,<C1>-<C2>
            return ["+CPSI: GSM,Online,%s-%s,0x%04X,%d,%d EGSM 900,%d,0,%d-%d" % (
                c["mcc"], c["mnc"], c["lac"], c["ci"] & 0xFFFF, c["arfcn"], -113 + 2 * self.rssi,
                self.rssi + 12, self.rssi + 12)]
        return ["+CPSI: LTE,Online,%s-%s,0x%04X,%d,%d,EUTRAN-BAND%d,%d,5,5,%d,%d,%d,%d" % (
            c["mcc"], c["mnc"], c["lac"], c["ci"], c["pci"], c["band"], c["earfcn"],
            -110 + 2 * self.rssi * 10 // 10, -1100 + 20 * self.rssi, -700 + 10 * self.rssi, 14)]

    def _at_qeng(self, kind, args):
        # Quectel: AT+QENG="servingcell" -> +QENG: "servingcell",<state>,"LTE","FDD",<mcc>,<mnc>,<cellid>,...
        if kind == "test":
            return ['+QENG: "servingcell","neighbourcell"']
        if kind != "set" or split_args(args)[0].lower() != "servingcell":
            raise CommandError("ERROR")
        if not self._registered():
            return ['+QENG: "servingcell","SEARCH"']
        c = self.cell
        if self.rat == "GSM":  # <mcc>,<mnc>,<lac>,<cellid>,<bsic>,<arfcn>,<band>,<rxlev>,...
            return ['+QENG: "servingcell","NOCONN","GSM",%s,%s,%X,%X,%d,%d,"EGSM900",%d,0,-,-,-' % (
                c["mcc"], c["mnc"], c["lac"], c["ci"] & 0xFFFF, c["bsic"], c["arfcn"], -113 + 2 * self.rssi)]
        rat = "eMTC" if self.profile.radio == "LTE-M" else "LTE"
        return ['+QENG: "servingcell","NOCONN","%s","FDD",%s,%s,%X,%d,%d,%d,5,5,%X,%d,-10,%d,14,-' % (
            rat, c["mcc"], c["mnc"], c["ci"], c["pci"], c["earfcn"], c["band"], c["lac"],
            -113 + 2 * self.rssi, -113 + 2 * self.rssi + 30)]

    def _at_cgatt(self, kind, args):
        if kind == "read":
            return ["+CGATT: %d" % (1 if self._registered() else 0)]
        return ["+CGATT: (0,1)"] if kind == "test" else None

    # ---- SMS configuration ----------------------------------------------------------------------------------------
    def _at_cmgf(self, kind, args):
        if kind == "read":
            return ["+CMGF: %d" % self.cmgf]
        if kind == "test":
            return ["+CMGF: (0,1)"]
        self.cmgf = _int(args or "0", 0, 1)
        return None

    def _at_cscs(self, kind, args):
        sets = self.profile.charsets
        if kind == "read":
            return ['+CSCS: "%s"' % self.cscs]
        if kind == "test":
            return ["+CSCS: (%s)" % ",".join('"%s"' % s for s in sets)]
        value = split_args(args)[0].upper()
        if value not in sets:
            raise CommandError("ERROR")
        self.cscs = value
        return None

    def _at_csms(self, kind, args):
        if kind == "read":
            return ["+CSMS: %d,1,1,1" % self.csms]
        if kind == "test":
            return ["+CSMS: (0,1)"]
        self.csms = _int(args, 0, 1)
        return ["+CSMS: 1,1,1"]

    def _storage(self, name):
        name = STORAGE_ALIASES.get(name.upper(), name.upper())
        if name not in self.storages:
            raise _cms(302)
        return name

    def _at_cpms(self, kind, args):
        if kind == "test":
            return [self.profile.cpms_test]
        if kind == "read":
            fields = []
            for mem in self.cpms:
                s = self.storages[mem]
                fields.append('"%s",%d,%d' % (mem, s.used, s.capacity))
            return ["+CPMS: " + ",".join(fields)]
        if kind != "set":
            raise CommandError("ERROR")
        values = [v for v in split_args(args)]
        if not values or len(values) > 3 or not values[0]:
            raise CommandError("ERROR")
        chosen = list(self.cpms)
        for i, v in enumerate(values):
            if v:
                chosen[i] = self._storage(v)
        self.cpms = chosen
        return ["+CPMS: " + ",".join("%d,%d" % (self.storages[m].used, self.storages[m].capacity) for m in chosen)]

    def _at_cnmi(self, kind, args):
        if kind == "read":
            return ["+CNMI: " + ",".join(str(v) for v in self.cnmi)]
        if kind == "test":
            return [self.profile.cnmi_test]
        values = split_args(args)
        new = list(self.cnmi)
        limits = ((0, 3), (0, 3), (0, 3), (0, 2), (0, 1))
        for i, v in enumerate(values[:5]):
            if v != "":
                new[i] = _int(v, *limits[i])
        self.cnmi = tuple(new)
        return None

    def _at_csca(self, kind, args):
        if kind == "read":
            if not self.smsc:
                return ['+CSCA: "",129']
            return ['+CSCA: "%s",%d' % (self.smsc, 145 if self.smsc.startswith("+") else 129)]
        if kind == "test":
            return []
        self.smsc = split_args(args)[0]
        return None

    def _at_csmp(self, kind, args):
        if kind == "read":
            return ["+CSMP: %s" % ",".join(str(v) for v in self.csmp)]
        if kind == "set":
            values = split_args(args)
            self.csmp = tuple(_int(v) if v else self.csmp[i] for i, v in enumerate(values[:4])) \
                + self.csmp[len(values[:4]):]
        return None

    def _at_csdh(self, kind, args):
        if kind == "read":
            return ["+CSDH: %d" % self.csdh]
        if kind == "test":
            return ["+CSDH: (0,1)"]
        self.csdh = _int(args or "0", 0, 1)
        return None

    def _at_cmms(self, kind, args):
        if kind == "read":
            return ["+CMMS: 0"]
        return ["+CMMS: (0-2)"] if kind == "test" else None

    def _at_cscb(self, kind, args):
        if kind == "read":
            return ['+CSCB: 0,"",""']
        return None

    def _at_cnma(self, kind, args):
        if kind == "test":
            return ["+CNMA: (0-2)"] if self.cmgf == 0 else []
        if self.csms != 1 or not self.unacked_cmt:
            raise _cms(340)
        self.unacked_cmt = 0
        return None

    # ---- SMS storage -----------------------------------------------------------------------------------------------
    def _read_storage(self):
        return self.storages[self.cpms[0]]

    def _stat_arg(self, value):
        if self.cmgf == 0:
            return _int(value, 0, 4)
        names = {v: k for k, v in TEXT_STAT.items()}
        names["ALL"] = 4
        if value.upper() not in names:
            raise _cms(305)
        return names[value.upper()]

    def _at_cmgr(self, kind, args):
        if kind == "test":
            return []
        if kind != "set":
            raise CommandError("ERROR")
        values = split_args(args)
        index = _int(values[0])
        mem = self._read_storage()
        if not mem.in_range(index):
            raise _cms(321)
        msg = mem.slots.get(index)
        if msg is None:
            if self.profile.cmgr_empty_ok:
                return []
            raise _cms(321)
        lines = self._format_read(msg, "+CMGR", None)
        peek = len(values) > 1 and values[1] == "1"
        if msg.stat == REC_UNREAD and not peek:
            msg.stat = REC_READ
        return lines

    def _format_read(self, msg, prefix, index):
        head = "" if index is None else "%d," % index
        if self.cmgf == 0:
            alpha = self.profile.pdu_alpha
            return ["%s: %s%d,%s,%d" % (prefix, head, msg.stat, alpha, msg.tpdu_length), msg.pdu_hex]
        return self._format_text(msg, prefix, head)

    def _format_text(self, msg, prefix, head):
        # Text mode is not Deme's path (a Ctrl-Z in a text ends the message); kept minimal for tools that ask.
        from drivers import pdu as codec
        try:
            d = codec.decode(msg.pdu_hex, has_smsc=True)
        except codec.PDUError:
            return ['%s: %s"%s",""' % (prefix, head, TEXT_STAT[msg.stat]), ""]
        number = d.get("number") or ""
        ts = d.get("timestamp") or ""
        stamp = ""
        if len(ts) >= 25:  # ISO 8601 from drivers.pdu -> "yy/MM/dd,hh:mm:ss+zz" (zone in quarter hours)
            sign = -1 if ts[19] == "-" else 1
            quarters = sign * (int(ts[20:22]) * 4 + int(ts[23:25]) // 15)
            stamp = "%s/%s/%s,%s%+03d" % (ts[2:4], ts[5:7], ts[8:10], ts[11:19], quarters)
        return ['%s: %s"%s","%s","","%s"' % (prefix, head, TEXT_STAT[msg.stat], number, stamp), d.get("text") or ""]

    def _at_cmgl(self, kind, args):
        if kind == "test":
            if self.cmgf == 0:
                return ["+CMGL: (0-4)"]
            return ['+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")']
        values = split_args(args) if kind == "set" else [("0" if self.cmgf == 0 else "REC UNREAD")]
        stat = self._stat_arg(values[0])
        peek = len(values) > 1 and values[1] == "1"
        mem = self._read_storage()
        lines = []
        for index in sorted(mem.slots):
            msg = mem.slots[index]
            if stat != 4 and msg.stat != stat:
                continue
            lines.extend(self._format_read(msg, "+CMGL", index))
            if msg.stat == REC_UNREAD and not peek:
                msg.stat = REC_READ
        return lines

    def _at_cmgd(self, kind, args):
        mem = self._read_storage()
        if kind == "test":
            used = ",".join(str(i) for i in sorted(mem.slots))
            return ["+CMGD: (%s),(0-4)" % used]
        if kind != "set":
            raise CommandError("ERROR")
        values = split_args(args)
        index = _int(values[0]) if values[0] else 0
        flag = _int(values[1], 0, 4) if len(values) > 1 and values[1] else 0
        if flag:
            mem.delete_by_flag(flag)
            return None
        if not mem.in_range(index):
            raise _cms(321)
        mem.slots.pop(index, None)
        return None

    # ---- sending ---------------------------------------------------------------------------------------------------
    def _at_cmgs(self, kind, args):
        if kind == "test":
            return []
        if kind != "set":
            raise CommandError("ERROR")
        values = split_args(args)
        if self.cmgf == 0:
            length = _int(values[0], 7, 164)
            self._start_prompt({"cmd": "cmgs", "length": length})
        else:
            number = values[0]
            if not number:
                raise _cms(305)
            self._start_prompt({"cmd": "cmgs", "number": number})
        return _DEFERRED

    def _at_cmgw(self, kind, args):
        if kind == "test":
            return []
        values = split_args(args) if kind == "set" else [""]
        if self.cmgf == 0:
            length = _int(values[0], 7, 164)
            stat = _int(values[1], 0, 3) if len(values) > 1 and values[1] else STO_UNSENT
            self._start_prompt({"cmd": "cmgw", "length": length, "stat": stat})
        else:
            self._start_prompt({"cmd": "cmgw", "number": values[0]})
        return _DEFERRED

    def _at_cmss(self, kind, args):
        if kind == "test":
            return []
        if kind != "set":
            raise CommandError("ERROR")
        values = split_args(args)
        index = _int(values[0])
        mem = self.storages[self.cpms[1]]
        msg = mem.slots.get(index)
        if msg is None:
            raise _cms(321)
        _smsc, body = tpdu.split_smsc(binascii.unhexlify(msg.pdu_hex))
        if tpdu.pdu_type(body) != "submit":
            raise _cms(302)
        self._begin_submit(body, "+CMSS", stored=msg)
        return _DEFERRED

    def _finish_prompt(self, pending, data):
        """The host ended the prompt with Ctrl-Z; data is what it typed (hex in PDU mode, text in text mode)."""
        try:
            body = self._prompt_tpdu(pending, data)
        except CommandError as exc:
            self._send_response([], self._error_text(exc))
            return
        if pending["cmd"] == "cmgw":
            mem = self.storages[self.cpms[1]]
            stat = pending.get("stat", STO_UNSENT)
            index = mem.store(stat, binascii.hexlify(tpdu.encode_smsc(None) + body).decode(), len(body))
            if index is None:
                self._send_response([], self._error_text(_cms(322)))
            else:
                self._send_response([["+CMGW: %d" % index]], OK)
            return
        self._begin_submit(body, "+CMGS")

    def _prompt_tpdu(self, pending, data):
        if "length" not in pending:
            from drivers import pdu as codec
            try:
                parts = codec.encode_submit(pending["number"], data.replace("\r", "\n").rstrip("\n"))
            except codec.PDUError:
                raise _cms(305) from None
            hex_pdu, _length = parts[0]
            _smsc, body = tpdu.split_smsc(binascii.unhexlify(hex_pdu))
            return body
        text = "".join(data.split())
        try:
            raw = binascii.unhexlify(text)
        except (binascii.Error, ValueError):
            raise _cms(304) from None
        try:
            _smsc, body = tpdu.split_smsc(raw)
        except tpdu.TPDUError:
            raise _cms(304) from None
        if len(body) != pending["length"]:
            raise _cms(304)
        if pending["cmd"] == "cmgs":
            try:
                tpdu.parse_submit(body)
            except tpdu.TPDUError:
                raise _cms(304) from None
        return body

    def _begin_submit(self, body, prefix, stored=None):
        """Hand the SUBMIT to the network; +CMGS/+CMSS comes back after the profile's network round trip."""
        self.state = "waiting"
        faults = self.faults
        if faults.get("brownout"):
            # the transmit burst (about 2 A) pulls the supply under the reset threshold: no reply, a reboot
            faults["brownout"] -= 1
            self._reboot("brown-out during transmission")
            return
        if faults.get("cms_error"):
            faults["cms_error"] -= 1
            code = faults.get("cms_error_code", 500)
            self._schedule(self._scaled(self.profile.cmgs_delay_s), lambda: self._end_submit(prefix, None, code),
                           "cms_error")
            return
        if not self._registered() or self.cfun != 1:
            self._schedule(self._scaled(1.0), lambda: self._end_submit(prefix, None, 331), "no service")
            return
        mr = self.next_mr
        self.next_mr = (self.next_mr + 1) % 256
        body = body[:1] + bytes([mr]) + body[2:]  # the mobile, not the host, sets TP-MR

        def done():
            error = None
            if self.network is not None:
                error = self.network.submit(self, body, mr)
            else:
                self.sent.append(body)
            if error is None and stored is not None:
                stored.stat = STO_SENT
            self._end_submit(prefix, mr, error)

        self._schedule(self._scaled(self.profile.cmgs_delay_s), done, "submit")

    def _end_submit(self, prefix, mr, error):
        self.state = "command"
        if error is not None:
            self._send_response([], self._error_text(_cms(error)))
        else:
            self._send_response([["%s: %d" % (prefix, mr)]], OK)
        self._flush_held_urcs()
        self._replay_held_input()


class _Deferred:
    """Marker: the command answers later (prompt, network round trip)."""


_DEFERRED = _Deferred()
__all__ = ["ATCommands", "CommandError", "split_args", "split_command_line", "REC_READ", "REC_UNREAD", "STO_SENT"]
