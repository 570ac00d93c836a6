"""SIMCom SIM800 / SIM800L / SIM900: 2G (GSM/GPRS) only.

Sources: SIMCom "SIM800 Series AT Command Manual" V1.09/V1.10.
- Boot URCs: "RDY" (when not autobauding), "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready" (section 1.4,
  "Unsolicited result code"); SMS commands answer +CMS ERROR until "SMS Ready".
- No LTE: AT+CEREG is not implemented; registration is AT+CREG (CS) and AT+CGREG (GPRS) (sections 3.2.32, 7.2.10).
- Message storage "SM" (SIM) by default; AT+CPMS accepts "SM", "ME", "SM_P", "ME_P", "MT" (section 4.2.12).
- AT+CENG engineering mode gives the serving cell, but lac/ci also come from AT+CREG=2 (section 3.2.32), which is
  what this driver uses: one code path for every model.
- AT+CBC answers "+CBC: <bcs>,<bcl>,<voltage mV>" (section 3.2.41).
- "NORMAL POWER DOWN", "UNDER-VOLTAGE POWER DOWN", "UNDER-VOLTAGE WARNNING" (sic) are URCs (section 1.4).
"""
from drivers.modems import Generic


class SIM800(Generic):
    name = "sim800"
    registration = ("CGREG", "CREG")
    reboot_urcs = ("RDY", "NORMAL POWER DOWN", "UNDER-VOLTAGE POWER DOWN")
    start_delay_ms = 0
