"""What distinguishes one real modem model from another, as seen from its UART.

Each profile is modelled on the manufacturer's AT command manual (SIMCom SIM800 Series AT Command Manual,
SIMCom A76XX and SIM7500/SIM7600 Series AT Command Manuals, Quectel EC2x/BG95 AT Commands Manuals): boot URCs,
identification strings, default error verbosity, SMS storage sizes, registration commands, serving-cell command
and typical timings. Timings are seconds at time_scale=1; the simulator multiplies them by its time_scale.
Storage sizes are those of a typical SIM card ("SM") and of the module's own memory ("ME").

Which profile a model name means, and every spelling of it, is the driver's model table (drivers/modems/models.py):
a profile's key is its row's "profile", and `get_profile` accepts any name of the row.
"""
from dataclasses import dataclass

from drivers.modems.models import MODELS, UnknownModemModel, model_row


def profile_key(model):
    """The simulator profile of a model, by any of its names in the table."""
    return model_row(model)["profile"]


@dataclass(frozen=True)
class Profile:
    key: str
    manufacturer: str                  # AT+CGMI
    model: str                         # AT+CGMM
    revision: str                      # AT+CGMR (full info line)
    ati: tuple                         # ATI info lines; "{imei}" is replaced
    boot_urcs: tuple                   # (delay_s after power-on, line)
    radio: str                         # "GSM", "LTE" (Cat-1), "LTE-M"
    registration: tuple                # registration read commands the model knows
    cell_command: str                  # the model's serving-cell command
    storages: dict                     # name -> capacity
    cpms_test: str
    cnmi_test: str
    cnmi_default: tuple = (2, 1, 0, 0, 0)
    cmee_default: int = 0
    imei_prefix: str = "86"
    cmgs_delay_s: float = 3.0          # from Ctrl-Z to +CMGS (network round trip)
    boot_s: float = 3.0                # power-on to first command answered
    cmgr_empty_ok: bool = True         # reading an empty slot: OK alone (SIM800) or +CMS ERROR: 321 (Qualcomm-based)
    cbc_style: str = "simcom2g"        # battery reply format
    operator: str = "Orange ML"
    act: int = None                    # access technology in +COPS/+CREG (None: 2G-only firmware omits it)
    power_down: tuple = ("+CPOWD", "NORMAL POWER DOWN")
    gcap: str = "+GCAP: +CGSM"
    pdu_alpha: str = '""'              # the empty <alpha> in +CMGR/+CMGL/+CMT: SIMCom prints "", Quectel nothing
    profile_commands: tuple = ()       # maker-specific commands this model answers (others answer ERROR)
    unknown_is_cme: bool = False       # unknown command: +CME ERROR: 100 per CMEE (SIM800) or plain ERROR
    charsets: tuple = ("IRA", "GSM", "UCS2")
    first_index: int = 1               # SIM7500/SIM7600 manual: SMS indexes "start with zero"


SIM800L = Profile(
    key=profile_key("SIM800L"),
    manufacturer="SIMCOM_Ltd",
    model="SIMCOM_SIM800L",
    revision="Revision:1418B04SIM800L24",
    ati=("SIM800 R14.18",),
    boot_urcs=((0.3, "RDY"), (0.5, "+CFUN: 1"), (1.5, "+CPIN: READY"), (6.0, "Call Ready"), (6.5, "SMS Ready")),
    radio="GSM",
    registration=("+CREG", "+CGREG"),
    cell_command="+CENG",
    storages={"SM": 50, "ME": 50},
    cpms_test='+CPMS: ("SM","ME","SM_P","ME_P","MT"),("SM","ME","SM_P","ME_P","MT"),("SM","ME","SM_P","ME_P","MT")',
    cnmi_test="+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)",
    cnmi_default=(2, 1, 0, 0, 0),
    cmee_default=0,
    cmgs_delay_s=3.5,
    boot_s=1.0,
    cbc_style="simcom2g",
    act=None,
    profile_commands=("+CENG", "+CCID", "+CPOWD", "+CGREG"),
    unknown_is_cme=True,
    charsets=("IRA", "GSM", "UCS2", "HEX", "PCCP", "PCDN", "8859-1"),
)

A7670E = Profile(
    key=profile_key("A7670E"),
    # A76XX firmware reports its maker as "INCORPORATED" (seen on A7670E/G units in the field)
    manufacturer="INCORPORATED",
    model="A7670E-LASE",
    revision="+CGMR: A011B12A7670M7",
    ati=("Manufacturer: INCORPORATED", "Model: A7670E-LASE", "Revision: A011B12A7670M7", "IMEI: {imei}",
         "+GCAP: +CGSM,+FCLASS,+DS"),
    boot_urcs=((4.0, "*ATREADY: 1"), (6.0, "+CPIN: READY"), (9.0, "SMS DONE"), (10.0, "PB DONE")),
    radio="LTE",
    registration=("+CREG", "+CGREG", "+CEREG"),
    cell_command="+CPSI",
    storages={"SM": 50, "ME": 23},
    cpms_test='+CPMS: ("SM","ME","SM_P","ME_P","MT"),("SM","ME","SM_P","ME_P","MT"),("SM","ME","SM_P","ME_P","MT")',
    cnmi_test="+CNMI: (0-2),(0-3),(0,2),(0-2),(0-1)",
    cnmi_default=(2, 1, 0, 0, 0),
    cmee_default=2,
    cmgs_delay_s=1.5,
    boot_s=4.0,
    cbc_style="simcom_volts",
    act=7,
    power_down=("+CPOF", ""),
    gcap="+GCAP: +CGSM,+FCLASS,+DS",
    profile_commands=("+CPSI", "+CICCID", "+CPOF", "+CGREG", "+CEREG"),
)

SIM7600 = Profile(
    key=profile_key("SIM7600"),
    manufacturer="SIMCOM INCORPORATED",
    model="SIMCOM_SIM7600E-H",
    revision="+CGMR: LE20B04SIM7600M22",
    ati=("Manufacturer: SIMCOM INCORPORATED", "Model: SIMCOM_SIM7600E-H", "Revision: SIM7600M22_V2.0",
         "IMEI: {imei}", "+GCAP: +CGSM,+DS,+ES"),
    boot_urcs=((8.0, "RDY"), (9.0, "+CPIN: READY"), (13.0, "SMS DONE"), (14.0, "PB DONE")),
    radio="LTE",
    registration=("+CREG", "+CGREG", "+CEREG"),
    cell_command="+CPSI",
    storages={"SM": 50, "ME": 23},
    cpms_test='+CPMS: ("ME","MT","SM","SR"),("ME","MT","SM","SR"),("ME","MT","SM","SR")',
    cnmi_test="+CNMI: (0-2),(0-3),(0,2),(0-2),(0-1)",
    cnmi_default=(2, 1, 0, 0, 0),
    cmee_default=2,
    cmgs_delay_s=1.5,
    boot_s=8.0,
    cbc_style="simcom_volts",
    act=7,
    power_down=("+CPOF", ""),
    gcap="+GCAP: +CGSM,+DS,+ES",
    profile_commands=("+CPSI", "+CICCID", "+CPOF", "+CGREG", "+CEREG"),
    first_index=0,
    cmgr_empty_ok=False,
)

EC25 = Profile(
    key=profile_key("EC25"),
    manufacturer="Quectel",
    model="EC25",
    revision="EC25EFAR06A06M4G",
    ati=("Quectel", "EC25", "Revision: EC25EFAR06A06M4G"),
    boot_urcs=((5.0, "RDY"), (5.5, "+CFUN: 1"), (6.0, "+CPIN: READY"), (6.5, "+QUSIM: 1"),
               (10.0, "+QIND: SMS DONE"), (11.0, "+QIND: PB DONE")),
    radio="LTE",
    registration=("+CREG", "+CGREG", "+CEREG"),
    cell_command='+QENG="servingcell"',
    storages={"SM": 50, "ME": 255},
    cpms_test='+CPMS: ("SM","ME","MT"),("SM","ME","MT"),("SM","ME","MT")',
    cnmi_test="+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
    cnmi_default=(2, 1, 0, 0, 0),
    cmee_default=1,
    imei_prefix="86",
    cmgs_delay_s=1.5,
    boot_s=5.0,
    cmgr_empty_ok=False,
    cbc_style="quectel",
    act=7,
    power_down=("+QPOWD", "POWERED DOWN"),
    gcap="+GCAP: +CGSM",
    pdu_alpha="",
    profile_commands=("+QENG", "+QCCID", "+CCID", "+QPOWD", "+CGREG", "+CEREG"),
)

BG95 = Profile(
    key=profile_key("BG95"),
    manufacturer="Quectel",
    model="BG95-M3",
    revision="BG95M3LAR02A03",
    ati=("Quectel", "BG95-M3", "Revision: BG95M3LAR02A03"),
    boot_urcs=((4.0, "RDY"), (4.5, "+CFUN: 1"), (5.0, "+CPIN: READY"), (5.5, "+QUSIM: 1"),
               (8.0, "+QIND: SMS DONE")),
    radio="LTE-M",
    registration=("+CREG", "+CGREG", "+CEREG"),
    cell_command='+QENG="servingcell"',
    storages={"SM": 50, "ME": 255},
    cpms_test='+CPMS: ("SM","ME","MT"),("SM","ME","MT"),("SM","ME","MT")',
    cnmi_test="+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
    cnmi_default=(2, 1, 0, 0, 0),
    cmee_default=1,
    cmgs_delay_s=2.5,
    boot_s=4.0,
    cbc_style="quectel",
    act=8,
    power_down=("+QPOWD", "POWERED DOWN"),
    gcap="+GCAP: +CGSM",
    pdu_alpha="",
    profile_commands=("+QENG", "+QCCID", "+CCID", "+QPOWD", "+CGREG", "+CEREG"),
    cmgr_empty_ok=False,
)

PROFILES = {p.key: p for p in (SIM800L, A7670E, SIM7600, EC25, BG95)}


def get_profile(name):
    """The profile of a model by any of its names ("sim800l", "SIM800", "A7670G", "ec25"...); ValueError naming the
    known profiles otherwise."""
    try:
        key = profile_key(name)
    except UnknownModemModel:
        key = None
    if key not in PROFILES:
        known = [row["profile"] for row in MODELS if row["profile"] in PROFILES]
        raise ValueError(f"unknown modem profile {name!r}; known: {', '.join(known)}")
    return PROFILES[key]
