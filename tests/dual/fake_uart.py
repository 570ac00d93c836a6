# A scripted modem on a fake UART (any/read/write), for the AT channel and modem tests on MicroPython and CPython.
# Like python-gsmmodem's fakemodem: each command the driver writes is answered from a script of
#   (expected command, reply lines)
# consumed in order, then from a table {command: reply lines}, then from `default` (None: no answer at all).
# A reply line ">" sends the "\r\n> " prompt and waits for the payload ended by Ctrl-Z (recorded in .payloads);
# the lines after it are sent once the payload arrived. A reply may also be a function(command) -> lines.
# Every written chunk is kept in .writes, so tests can check exactly what reached the modem.

PROMPT = ">"


class FakeUART:
    def __init__(self, script=(), table=None, default=("OK",), echo=False, chunk=0):
        self.script = list(script)
        self.table = table or {}
        self.default = default
        self.echo = echo
        self.chunk = chunk  # >0: read() gives at most this many bytes (exercises the framer)
        self.rx = bytearray()
        self.writes = []
        self.commands = []
        self.payloads = []
        self.unexpected = []
        self.aborts = 0
        self._line = bytearray()
        self._after_prompt = None  # reply lines waiting for the payload

    # --- UART interface ---
    def any(self):
        return len(self.rx)

    def read(self, n=-1):
        if not self.rx:
            return None
        if n is None or n < 0 or n > len(self.rx):
            n = len(self.rx)
        if self.chunk and n > self.chunk:
            n = self.chunk
        data = bytes(self.rx[:n])
        self.rx = self.rx[n:]
        return data

    def write(self, data):
        data = bytes(data)
        self.writes.append(data)
        for b in data:
            self._byte(b)
        return len(data)

    # --- test side ---
    def inject(self, text):
        """Unsolicited bytes from the modem (str or bytes), e.g. "\\r\\n+CMTI: \\"SM\\",3\\r\\n"."""
        self.rx.extend(text.encode() if isinstance(text, str) else text)

    def written(self):
        return b"".join(self.writes)

    def send_lines(self, lines):
        for line in lines:
            if line == PROMPT:
                self.rx.extend(b"\r\n> ")
            else:
                self.rx.extend(b"\r\n" + line.encode() + b"\r\n")

    # --- modem side ---
    def _byte(self, b):
        if self._after_prompt is not None:
            if b == 0x1A:
                self.payloads.append(bytes(self._line).decode())
                if self.echo:
                    self.rx.extend(bytes(self._line) + b"\x1a")
                self._line = bytearray()
                rest = self._after_prompt
                self._after_prompt = None
                self.send_lines(rest)
            elif b == 0x1B:
                self._line = bytearray()
                self._after_prompt = None
                self.aborts += 1
                self.send_lines(["OK"])
            else:
                self._line.append(b)
            return
        if b == 0x1B:
            self.aborts += 1
            return
        if b == 13:
            cmd = bytes(self._line).decode()
            self._line = bytearray()
            if self.echo:
                self.rx.extend(cmd.encode() + b"\r")
            self._answer(cmd)
        elif b != 10:
            self._line.append(b)

    def _reply_for(self, cmd):
        if self.script and self.script[0][0] == cmd:
            return self.script.pop(0)[1]
        if cmd in self.table:
            return self.table[cmd]
        if self.script:
            self.unexpected.append(cmd)
        return self.default

    def _answer(self, cmd):
        self.commands.append(cmd)
        reply = self._reply_for(cmd)
        if callable(reply):
            reply = reply(cmd)
        if reply is None:
            return
        reply = list(reply)
        if PROMPT in reply:
            i = reply.index(PROMPT)
            self.send_lines(reply[:i + 1])
            self._after_prompt = reply[i + 1:]
        else:
            self.send_lines(reply)
