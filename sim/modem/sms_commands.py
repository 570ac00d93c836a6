"""SMS commands of the simulated modem (3GPP TS 27.005): configuration, storage, reading, writing, sending."""
import binascii

from . import tpdu
from .parser import DEFERRED, OK, CommandError, cms, parse_int, split_args
from .storage import REC_READ, REC_UNREAD, STO_SENT, STO_UNSENT, TEXT_STAT

STORAGE_ALIASES = {"SM_P": "SM", "ME_P": "ME", "MT": "SM"}


class SMSCommands:
    # ---- SMS configuration ----------------------------------------------------------------------------------------
    def _at_cmgf(self, kind, args):
        if kind == "read":
            return ["+CMGF: %d" % self.cmgf]
        if kind == "test":
            return ["+CMGF: (0,1)"]
        self.cmgf = parse_int(args or "0", 0, 1)
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
        self.csms = parse_int(args, 0, 1)
        return ["+CSMS: 1,1,1"]

    def _storage(self, name):
        name = STORAGE_ALIASES.get(name.upper(), name.upper())
        if name not in self.storages:
            raise cms(302)
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
                new[i] = parse_int(v, *limits[i])
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
            self.csmp = tuple(parse_int(v) if v else self.csmp[i] for i, v in enumerate(values[:4])) \
                + self.csmp[len(values[:4]):]
        return None

    def _at_csdh(self, kind, args):
        if kind == "read":
            return ["+CSDH: %d" % self.csdh]
        if kind == "test":
            return ["+CSDH: (0,1)"]
        self.csdh = parse_int(args or "0", 0, 1)
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
            raise cms(340)
        self.unacked_cmt = 0
        return None

    # ---- SMS storage -----------------------------------------------------------------------------------------------
    def _read_storage(self):
        return self.storages[self.cpms[0]]

    def _stat_arg(self, value):
        if self.cmgf == 0:
            return parse_int(value, 0, 4)
        names = {v: k for k, v in TEXT_STAT.items()}
        names["ALL"] = 4
        if value.upper() not in names:
            raise cms(305)
        return names[value.upper()]

    def _at_cmgr(self, kind, args):
        if kind == "test":
            return []
        if kind != "set":
            raise CommandError("ERROR")
        values = split_args(args)
        index = parse_int(values[0])
        mem = self._read_storage()
        if not mem.in_range(index):
            raise cms(321)
        msg = mem.slots.get(index)
        if msg is None:
            if self.profile.cmgr_empty_ok:
                return []
            raise cms(321)
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
        index = parse_int(values[0]) if values[0] else 0
        flag = parse_int(values[1], 0, 4) if len(values) > 1 and values[1] else 0
        if flag:
            mem.delete_by_flag(flag)
            return None
        if not mem.in_range(index):
            raise cms(321)
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
            length = parse_int(values[0], 7, 164)
            self._start_prompt({"cmd": "cmgs", "length": length})
        else:
            number = values[0]
            if not number:
                raise cms(305)
            self._start_prompt({"cmd": "cmgs", "number": number})
        return DEFERRED

    def _at_cmgw(self, kind, args):
        if kind == "test":
            return []
        values = split_args(args) if kind == "set" else [""]
        if self.cmgf == 0:
            length = parse_int(values[0], 7, 164)
            stat = parse_int(values[1], 0, 3) if len(values) > 1 and values[1] else STO_UNSENT
            self._start_prompt({"cmd": "cmgw", "length": length, "stat": stat})
        else:
            self._start_prompt({"cmd": "cmgw", "number": values[0]})
        return DEFERRED

    def _at_cmss(self, kind, args):
        if kind == "test":
            return []
        if kind != "set":
            raise CommandError("ERROR")
        values = split_args(args)
        index = parse_int(values[0])
        mem = self.storages[self.cpms[1]]
        msg = mem.slots.get(index)
        if msg is None:
            raise cms(321)
        _smsc, body = tpdu.split_smsc(binascii.unhexlify(msg.pdu_hex))
        if tpdu.pdu_type(body) != "submit":
            raise cms(302)
        self._begin_submit(body, "+CMSS", stored=msg)
        return DEFERRED

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
                self._send_response([], self._error_text(cms(322)))
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
                raise cms(305) from None
            hex_pdu, _length = parts[0]
            _smsc, body = tpdu.split_smsc(binascii.unhexlify(hex_pdu))
            return body
        text = "".join(data.split())
        try:
            raw = binascii.unhexlify(text)
        except (binascii.Error, ValueError):
            raise cms(304) from None
        try:
            _smsc, body = tpdu.split_smsc(raw)
        except tpdu.TPDUError:
            raise cms(304) from None
        if len(body) != pending["length"]:
            raise cms(304)
        if pending["cmd"] == "cmgs":
            try:
                tpdu.parse_submit(body)
            except tpdu.TPDUError:
                raise cms(304) from None
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
            self._schedule(self._round_trip(), lambda: self._end_submit(prefix, None, code),
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

        self._schedule(self._round_trip(), done, "submit")

    def _round_trip(self):
        """Ctrl-Z to +CMGS: the profile's typical time, give or take 30 % (radio conditions, SMSC load)."""
        return self._scaled(self.profile.cmgs_delay_s * self._rng.uniform(0.7, 1.3))

    def _end_submit(self, prefix, mr, error):
        self.state = "command"
        if error is not None:
            self._send_response([], self._error_text(cms(error)))
        else:
            self._send_response([["%s: %d" % (prefix, mr)]], OK)
        self._flush_held_urcs()
        self._replay_held_input()
