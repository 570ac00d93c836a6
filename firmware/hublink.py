"""The link to the hub through the modem: starting the modem and supervising it, the hub's SMS (authenticated,
never replayed, then handed on as acks), and the serving cell that alarms raised without a fix carry. Sending
alarms is the uplink's job (firmware/uplink.py).

    link = HubLink(modem, state, cfg, board)
    link.on_ack = alarms.hub_answered        # called with each accepted drivers.alert.parse_ack result
    await link.modem_task()                  # and link.cell_task(), each supervised
"""
from drivers.alert import ProtocolError, looks_like_ack, parse_ack
from drivers.compat import asleep_ms
from firmware.hoplog import log

START_RETRY_MS = 2000
POWER_CYCLE_EVERY = 3  # failed starts in a row before the modem's power is cycled


def log_modem_event(kind, detail):
    """The modem driver's `on_event`: what it reports about the link, in the hop log."""
    log("fw.modem", kind=kind, detail=str(detail) if detail is not None else None)


class HubLink:
    def __init__(self, modem, state, cfg, board):
        self.modem = modem
        self.state = state  # the flash's record of the last hub counter accepted
        self.cfg = cfg
        self.board = board
        self.cell = None  # the last serving cell known: {"mcc", "mnc", "lac", "cell_id"}
        self.on_ack = None

    async def on_sms(self, sms):
        """Called by the modem driver; returning means handled (the SMS is then deleted from the SIM)."""
        text = sms.get("text")
        if not looks_like_ack(text):
            log("fw.sms_ignored", sender=sms.get("number"))
            return
        device_id = self.cfg["device_id"]
        key = self.cfg["key"]
        try:
            ack = parse_ack(text, lambda i: key if i == device_id else None)
        except ProtocolError as exc:
            log("fw.ack_rejected", reason=str(exc), sender=sms.get("number"))
            return
        if not self.state.accept_hub_counter(ack["hub_counter"]):
            log("fw.ack_rejected", reason="replayed hub counter %d" % ack["hub_counter"])
            return
        log("fw.ack", status=ack["status"], n=ack["counter"], h=ack["hub_counter"])
        if self.on_ack is not None:
            self.on_ack(ack)

    async def refresh_cell(self):
        """The serving cell, kept for alarms raised while the modem is off (the last one known then)."""
        try:
            cell = await self.modem.serving_cell()
            if cell and cell.get("mcc") is not None and cell.get("cell_id") is not None:
                known = {"mcc": cell["mcc"], "mnc": cell["mnc"], "lac": cell.get("lac") or 0,
                         "cell_id": cell["cell_id"]}
                if known != self.cell:
                    self.cell = known
                    log("fw.cell", **known)
        except Exception as exc:
            log("fw.cell_failed", error=repr(exc))

    async def cell_task(self):
        while True:
            if not getattr(self.modem, "parked", False):  # off on purpose: the power manager refreshes on power-up
                await self.refresh_cell()
            await asleep_ms(self.cfg["cell_refresh_s"] * 1000)

    async def modem_task(self):
        self.modem.set_sms_handler(self.on_sms)
        power = self.board.modem_power
        if power is not None:
            # The board boots with the modem unpowered (hardware/README.md): switch it on first.
            await power.on()
        tries = 0
        while True:
            try:
                await self.modem.start(self.cfg["sim_pin"])
                log("fw.modem_ready", info=self.modem.info.get("model"))
                break
            except Exception as exc:
                tries += 1
                log("fw.modem_start_failed", error=repr(exc), tries=tries)
                if tries % POWER_CYCLE_EVERY == 0 and power is not None:
                    await power.cycle()
                await asleep_ms(START_RETRY_MS)
        await self.modem.supervise()
