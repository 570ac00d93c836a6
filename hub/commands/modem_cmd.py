"""`deme modem probe PORT` and `deme sms send PORT NUMBER TEXT`: talk to a modem through drivers.modem.

`probe` prints what the modem says about itself and the network as JSON; `sms send` validates the number with
phonenumbers (E.164; local numbers read in `--region`, Mali by default), sends in PDU mode and prints the message
references. Both run the same driver as the hub service, over hub.platform.serialport.
"""
import argparse
import asyncio
import json

import phonenumbers

from drivers.at import ATError, ATTimeout
from drivers.modem import Modem, SIMError
from drivers.modems.models import UnknownModemModel, model_row
from drivers.pdu import PDUError
from hub.cli import UsageError
from hub.platform.serialport import SerialPortError, SerialUART

# How long to knock before declaring "no modem here": a modem still booting needs a few seconds.
SYNC = {"sync_tries": 5, "sync_timeout_ms": 1000}


def register(subparsers):
    # COMMANDS in hub/cli.py names this module for both "modem" and "sms": register each once.
    if "modem" not in subparsers.choices:
        modem = subparsers.add_parser("modem", help="talk to a GSM modem on a serial port")
        modem_sub = modem.add_subparsers(dest="modem_command", metavar="ACTION")
        modem_sub.required = True
        probe = modem_sub.add_parser("probe", help="print the modem's identity, SIM and network state as JSON")
        _common(probe)
        probe.set_defaults(func=probe_command)
    if "sms" not in subparsers.choices:
        sms = subparsers.add_parser("sms", help="send an SMS through a GSM modem")
        sms_sub = sms.add_subparsers(dest="sms_command", metavar="ACTION")
        sms_sub.required = True
        send = sms_sub.add_parser("send", help="send TEXT to NUMBER and print the message references")
        _common(send)
        send.add_argument("number", metavar="NUMBER", help="international (+223...) or local to --region")
        send.add_argument("text", metavar="TEXT")
        send.add_argument("--status-report", action="store_true", help="ask the network for a delivery report")
        send.add_argument("--region", default="ML", help="country of local numbers (ISO 3166 code, default ML)")
        send.set_defaults(func=send_command)


def _common(parser):
    parser.add_argument("port", metavar="PORT", help="serial device of the modem, e.g. /dev/ttyUSB0 or a pty")
    parser.add_argument("--baud", type=int, default=115200, help="baud rate (default 115200)")
    parser.add_argument("--model", type=modem_model, default=None,
                        help="modem model, any name of the model table: SIM800L, A7670E, EC25... (default: detect)")
    parser.add_argument("--pin", default=None, help="SIM PIN, if the SIM asks for one")


def modem_model(name):
    """`--model`: the name as given when the model table knows it; argparse's error names the known models."""
    try:
        model_row(name)
    except UnknownModemModel as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return name


def normalise_number(number, region="ML"):
    """E.164 form of `number` ("+22376123456"); UsageError naming the problem otherwise."""
    region = (region or "").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise UsageError(f"unknown region {region!r}: give an ISO 3166 country code such as ML or FR")
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        raise UsageError(f"invalid phone number {number!r}: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise UsageError(f"invalid phone number {number!r} (read as {region} number "
                         f"{phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _with_modem(args, work):
    """Open the port, start the modem, run `await work(modem)`; every failure becomes one clear UsageError."""
    uart = SerialUART(args.port, args.baud)
    try:
        uart.open()
    except SerialPortError as exc:
        raise UsageError(str(exc)) from exc

    async def session():
        modem = Modem(uart, model=args.model, **SYNC)
        try:
            return await work(modem)
        finally:
            await modem.stop()

    try:
        return asyncio.run(session())
    except ATTimeout as exc:
        raise UsageError(f"no answer from a modem on {args.port} ({exc}): check the port, the baud rate "
                         "and that the modem is powered") from exc
    except SIMError as exc:
        raise UsageError(f"SIM problem: {exc.state}" + (" (give --pin)" if exc.state == "SIM PIN" else "")) from exc
    except ATError as exc:
        raise UsageError(f"modem error: {exc}") from exc
    except SerialPortError as exc:
        raise UsageError(str(exc)) from exc
    except PDUError as exc:
        raise UsageError(f"cannot encode the SMS: {exc}") from exc
    finally:
        uart.close()


def probe_command(args):
    async def work(modem):
        sim_problem = None
        try:
            await modem.start(pin=args.pin)
        except SIMError as exc:  # identity and radio still answer without a SIM
            sim_problem = exc.state
        result = await modem.probe()
        if sim_problem is not None:
            result["sim"] = sim_problem
        return result

    result = _with_modem(args, work)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


def send_command(args):
    number = normalise_number(args.number, args.region)

    async def work(modem):
        await modem.start(pin=args.pin)
        return await modem.send_sms(number, args.text, status_report=args.status_report)

    refs = _with_modem(args, work)
    print(f"sent to {number}: {len(refs)} part(s), message reference(s) "
          + ", ".join("?" if r is None else str(r) for r in refs))
    return 0
