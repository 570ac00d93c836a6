# Response parsers of drivers.modem and drivers.modems on lines in the formats of the AT manuals (27.007, SIMCom,
# Quectel); garbage gives ATParseError. Runs on MicroPython and CPython.
from drivers.at import ATParseError
from drivers.modem import (
    parse_cbc,
    parse_cmgl,
    parse_cmgr,
    parse_cmgs,
    parse_cmti,
    parse_cops,
    parse_cpin,
    parse_csq,
    parse_registration,
    valid_number,
)
from drivers.modems import Generic, detect, quirks_for
from drivers.modems.a7670 import parse_cpsi
from drivers.modems.quectel import parse_qeng
from drivers.modems.sim800 import parse_ceng


def fails(fn, *args):
    try:
        fn(*args)
    except ATParseError:
        return True
    return False


def test_csq():
    assert parse_csq("+CSQ: 18,0") == {"rssi": 18, "rssi_dbm": -77, "ber": 0}
    assert parse_csq("+CSQ: 99,99") == {"rssi": 99, "rssi_dbm": None, "ber": None}
    assert parse_csq("+CSQ: 0,99")["rssi_dbm"] == -113
    assert parse_csq("+CSQ: 31,7")["rssi_dbm"] == -51
    for bad in ("+CSQ: ", "+CSQ: 40,0", "+CSQ: a,b", "CSQ: 1,1", "+CSQ: 5"):
        assert fails(parse_csq, bad), bad


def test_registration_both_forms():
    r = parse_registration('+CREG: 2,1,"00A1","1B2C"')
    assert (r["n"], r["stat"], r["lac"], r["ci"], r["act"], r["status"]) == (2, 1, 0xA1, 0x1B2C, None, "home")
    r = parse_registration('+CEREG: 2,5,"1A2B","0C1D2E3F",7')
    assert (r["stat"], r["lac"], r["ci"], r["act_name"], r["via"]) == (5, 0x1A2B, 0x0C1D2E3F, "E-UTRAN", "CEREG")
    r = parse_registration("+CGREG: 0,2")
    assert (r["stat"], r["lac"], r["status"]) == (2, None, "searching")
    r = parse_registration("+CREG: 3")  # unsolicited, n=1
    assert (r["n"], r["stat"], r["status"]) == (None, 3, "denied")
    r = parse_registration('+CEREG: 1,"1A2B","0C1D2E3F",7')  # unsolicited, n=2
    assert (r["n"], r["stat"], r["ci"], r["act"]) == (None, 1, 0x0C1D2E3F, 7)
    r = parse_registration('+CEREG: 2,1,,,7')
    assert (r["lac"], r["ci"], r["act"]) == (None, None, 7)
    for bad in ("+CREG:", "+CSQ: 1,2", "+CREG: x", '+CREG: 2,1,"zz","1"', "garbage"):
        assert fails(parse_registration, bad), bad


def test_cops_cpin_cmgs_cmti():
    assert parse_cops('+COPS: 0,0,"Orange ML",7') == {"mode": 0, "format": 0, "name": "Orange ML", "act": 7}
    assert parse_cops('+COPS: 0,2,"61002"')["name"] == "61002"
    assert parse_cops("+COPS: 0") == {"mode": 0, "format": None, "name": None, "act": None}
    assert parse_cpin(["+CPIN: SIM PIN"]) == "SIM PIN"
    assert fails(parse_cpin, ["OK"])
    assert parse_cmgs(["+CMGS: 17"]) == 17
    assert parse_cmgs(['+CMGS: 200,"26/11/23,18:30:00+00"']) == 200
    assert fails(parse_cmgs, [])
    assert parse_cmti('+CMTI: "SM",12') == ("SM", 12)
    assert parse_cmti('+CDSI: "SR",3') == ("SR", 3)
    for bad in ('+CMTI: "SM"', '+CMTI: "S;M",1', "+CMTI: SM,x", "nothing"):
        assert fails(parse_cmti, bad), bad


def test_battery_forms():
    assert parse_cbc("+CBC: 0,82,4012") == {"charging": False, "percent": 82, "voltage_mv": 4012}
    assert parse_cbc("+CBC: 1,50") == {"charging": True, "percent": 50, "voltage_mv": None}
    assert parse_cbc("+CBC: 3.985V")["voltage_mv"] == 3985
    assert parse_cbc("+CBC: 4.1V")["voltage_mv"] == 4100
    for bad in ("+CBC: V", "+CBC: x.yV", "+CBC: 1"):
        assert fails(parse_cbc, bad), bad


def test_cmgl_and_cmgr():
    lines = ["+CMGL: 1,0,,23", "07911326040000F0", "+CMGL: 2,1,\"\",5", "garbage!", "+CMGL: x", "+CMGL: 3,1,,4",
             "0011"]
    entries, problems = parse_cmgl(lines)
    assert entries == [(1, 0, "07911326040000F0"), (2, 1, None), (3, 1, "0011")]
    assert len(problems) == 3
    assert parse_cmgr(["+CMGR: 1,,23", "0791AB"]) == (1, "0791AB")
    assert parse_cmgr([]) is None
    assert fails(parse_cmgr, ["+CMGR: 1,,23"])


def test_serving_cell_formats():
    assert parse_cpsi("+CPSI: LTE,Online,610-02,0x1816,197223145,123,EUTRAN-BAND3,1300,5,5,-94,-1044,-720,15") == {
        "mcc": 610, "mnc": 2, "lac": 0x1816, "cell_id": 197223145, "rat": "LTE"}
    assert parse_cpsi("+CPSI: GSM,Online,460-00,0x182d,12401,27 EGSM 900,-64,2110,42-42")["lac"] == 0x182D
    assert parse_cpsi("+CPSI: NO SERVICE,Online")["mcc"] is None
    assert fails(parse_cpsi, "+CPSI: LTE,Online,61002,0x1,2")
    lte = '+QENG: "servingcell","NOCONN","LTE","FDD",610,02,BC1A2E9,123,1300,3,5,5,11A8,-94,-10,-65,15,30'
    assert parse_qeng(lte) == {"mcc": 610, "mnc": 2, "lac": 0x11A8, "cell_id": 0xBC1A2E9, "rat": "LTE"}
    gsm = '+QENG: "servingcell","NOCONN","GSM",610,02,11A8,62E9,23,45,0,-70,255,0,0,0,0,0,0,0,0,0,0,0,0,0,0'
    assert parse_qeng(gsm) == {"mcc": 610, "mnc": 2, "lac": 0x11A8, "cell_id": 0x62E9, "rat": "GSM"}
    assert parse_qeng('+QENG: "servingcell","SEARCH"')["rat"] is None
    ceng1 = ['+CENG: 1,0', '+CENG: 0,"0021,33,00,610,02,13,62e9,10,05,11a8,255"', "+CENG: 1,\"0012,20,07\""]
    assert parse_ceng(ceng1) == {"mcc": 610, "mnc": 2, "lac": 0x11A8, "cell_id": 0x62E9, "rat": "GSM"}
    assert parse_ceng(["+CENG: 3,0", "+CENG: 0,610,02,11a8,62e9,13,36"])["cell_id"] == 0x62E9
    assert fails(parse_ceng, ["+CENG: 0,0"])


def test_model_detection_and_numbers():
    assert detect("SIMCOM_Ltd", "SIMCOM_SIM800L").name == "sim800"
    assert detect("SIMCOM INCORPORATED", "A7670E-LASE").name == "a7670"
    assert detect("SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H").name == "a7670"
    assert detect("Quectel", "EC25").name == "quectel" and detect("Quectel", "BG95-M3").name == "quectel"
    assert detect(None, None).name == "generic" and isinstance(detect("Huawei", "E173"), Generic)
    assert quirks_for("sim7600").name == "a7670" and quirks_for("bg95").name == "quectel"
    assert valid_number("+22376123456") and valid_number("112") and valid_number("0" * 20)
    for bad in ("12", "+12", "0" * 21, "+", "", "22376 123456", "+223-76", None, 22376123456):
        assert not valid_number(bad), bad
