"""`deme pdu`: decode an SMS PDU read from a modem, or build the PDUs AT+CMGS takes for a text."""
import json

from drivers.pdu import PDUError, decode, encode_submit
from hub.cli import UsageError


def register(subparsers):
    parser = subparsers.add_parser("pdu", help="decode or encode SMS PDUs (3GPP TS 23.040)")
    actions = parser.add_subparsers(dest="pdu_action", metavar="ACTION")
    actions.required = True

    dec = actions.add_parser("decode", help="print a PDU's fields as JSON")
    dec.add_argument("hex", nargs="+",
                     help="the PDU in hex, with its SMSC field (as AT+CMGL/AT+CMGR print it); pieces are joined")
    dec.add_argument("--no-smsc", action="store_true", help="the PDU starts at the first TPDU octet")
    dec.add_argument("--lenient", action="store_true",
                     help="decode user data shorter than TP-UDL says instead of refusing it")
    dec.set_defaults(func=run_decode)

    enc = actions.add_parser("encode", help="print the SMS-SUBMIT PDUs for a text, one per line")
    enc.add_argument("--to", required=True, metavar="NUMBER", help="recipient, digits with an optional leading +")
    enc.add_argument("--text", required=True)
    enc.add_argument("--status-report", action="store_true", help="ask the network for a delivery report")
    enc.add_argument("--smsc", metavar="NUMBER", help="service centre (default: the SIM's)")
    enc.add_argument("--json", action="store_true", help='print a JSON list of {"pdu", "length"}')
    enc.set_defaults(func=run_encode)


def run_decode(args):
    try:
        fields = decode("".join(args.hex), has_smsc=not args.no_smsc, strict=not args.lenient)
    except PDUError as exc:
        raise UsageError(f"invalid PDU: {exc}") from None
    print(json.dumps(fields, ensure_ascii=False, indent=2))
    return 0


def run_encode(args):
    try:
        parts = encode_submit(args.to, args.text, status_report=args.status_report, smsc=args.smsc)
    except PDUError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps([{"pdu": pdu_hex, "length": length} for pdu_hex, length in parts]))
    else:
        for pdu_hex, _length in parts:
            print(pdu_hex)
    return 0
