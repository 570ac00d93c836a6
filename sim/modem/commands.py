"""The AT command interpreter of a simulated modem: the command line, V.25ter basics, identification, SIM,
functionality and network commands (3GPP TS 27.007 plus each maker's own). SMS commands are in sms_commands.py.

Mixins: SimulatedModem (device.py) supplies the byte I/O (`_send_response`, `_send_urc`, `_start_prompt`,
`_schedule`) and the state reset at boot; these modules decide what a real modem of the profile would answer.
"""
import time

from .parser import (
    CME_TEXT,
    CMS_TEXT,
    DEFERRED,
    ERROR,
    OK,
    CommandError,
    cme,
    cms,
    parse_int,
    split_args,
    split_command_line,
)

SMS_COMMANDS = frozenset(("+CMGF", "+CMGS", "+CMGR", "+CMGL", "+CMGD", "+CMGW", "+CMSS", "+CPMS", "+CNMI", "+CSMP",
                          "+CSDH", "+CNMA", "+CSCA", "+CSMS"))
# Commands only some makers implement; a profile lists those its model answers.
MAKER_COMMANDS = frozenset(("+CENG", "+CCID", "+CPOWD", "+CPSI", "+CICCID", "+CPOF", "+QENG", "+QCCID", "+QPOWD",
                            "+CEREG"))


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
                    raise cms(302)  # before "SMS Ready"/"SMS DONE" the SMS layer refuses (SIM800 users see ERROR)
                result = handler(kind, args)
                if result is DEFERRED:
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
        return cme(100) if self.profile.unknown_is_cme else CommandError("ERROR")

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
            raise cme(515)

    # ---- V.25ter basics -------------------------------------------------------------------------------------
    def _at_e(self, kind, args):
        self.echo = parse_int(args or "0", 0, 1) == 1

    def _at_v(self, kind, args):
        self.verbose = parse_int(args or "0", 0, 1) == 1

    def _at_q(self, kind, args):
        parse_int(args or "0", 0, 1)

    def _at_x(self, kind, args):
        parse_int(args or "0", 0, 4)

    def _at_z(self, kind, args):
        self._reset_settings()

    def _at_amp_f(self, kind, args):
        self._reset_settings()

    def _at_amp_w(self, kind, args):
        pass

    def _at_amp_d(self, kind, args):
        parse_int(args or "0", 0, 2)

    def _at_amp_c(self, kind, args):
        parse_int(args or "0", 0, 1)

    def _at_amp_k(self, kind, args):
        parse_int(args or "0", 0, 6)

    def _at_sreg(self, name, kind, args):
        if kind == "read":
            return ["%03d" % self.sregs.get(name, 0)]
        if kind == "set":
            self.sregs[name] = parse_int(args, 0, 255)
        return None

    def _at_i(self, kind, args):
        return [line.format(imei=self.imei) for line in self.profile.ati]

    def _at_h(self, kind, args):
        pass

    def _at_d(self, kind, args):
        raise cme(30) if not self._registered() else CommandError("ERROR")

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
        parse_int(args or "0", 0, 1)
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
        self.cmee = parse_int(args or "0", 0, 2)
        return None

    def _need_sim(self):
        if self.faults.get("sim_absent"):
            raise cme(10)

    def _at_cpin(self, kind, args):
        self._need_sim()
        if kind == "read":
            return ["+CPIN: READY"]
        if kind == "test":
            return []
        raise cme(3)  # no PIN is asked: entering one is not allowed

    def _at_cfun(self, kind, args):
        if kind == "read":
            return ["+CFUN: %d" % self.cfun]
        if kind == "test":
            return ["+CFUN: (0,1,4),(0,1)"]
        values = split_args(args)
        fun = parse_int(values[0], 0, 7)
        if fun not in (0, 1, 4):
            raise cme(50)
        reset = len(values) > 1 and values[1] and parse_int(values[1], 0, 1) == 1
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
        setattr(self, attr, parse_int(args or "0", 0, 2))
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
            mode = parse_int(values[0] or "0", 0, 4)
            if mode == 3 and len(values) > 1:
                self.cops_format = parse_int(values[1], 0, 2)
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
            self.ceng_mode = parse_int(split_args(args)[0], 0, 4)
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
