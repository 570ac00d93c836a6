"""The simulated GSM network: SMS typed on one simulated modem's UART arrive on another's, over real ptys."""
import pytest

from drivers import pdu
from sim.network import GSMNetwork
from sim.pty import ATPort

A, B, C = "+22376000001", "+22376000002", "+22376000003"


@pytest.fixture
def net():
    n = GSMNetwork(delay_s=0, time_scale=0, seed=7, retry_s=0.05)
    n.add_modem(A, "sim800l")
    n.add_modem(B, "a7670e")
    n.add_modem(C, "ec25")
    n.start()
    for m in n.modems.values():
        assert m.wait_ready()
    yield n
    n.stop()


def _port(net, number):
    p = ATPort(net.modems[number].pty_path).open()
    p.command("ATE0")
    p.command("AT+CMEE=1")
    return p


def _send(port, to, text, **kw):
    results = []
    for hex_pdu, length in pdu.encode_submit(to, text, **kw):
        results.append(port.send_pdu(length, hex_pdu))
    return results


def test_sms_routed_between_modems_and_read_back(net):
    a, b = _port(net, A), _port(net, B)
    try:
        [(info, final)] = _send(a, B, "SOS;id=7;n=12")
        assert final == "OK" and info[0].startswith("+CMGS: ")
        assert b.urc(b"+CMTI:") == '+CMTI: "SM",1'
        info, final = b.command("AT+CMGR=1")
        msg = pdu.decode(info[1])
        assert (msg["type"], msg["number"], msg["text"]) == ("deliver", A, "SOS;id=7;n=12")
        assert msg["smsc"] == net.smsc
        listed, _ = b.command("AT+CMGL=4")
        assert listed[0].startswith('+CMGL: 1,1,"",') and listed[1] == info[1]
        assert b.command("AT+CMGD=1,4") == ([], "OK")
        assert b.command("AT+CMGL=4") == ([], "OK")
        hops = [e["hop"] for e in net.events if e.get("from") == A]
        assert hops == ["network.submit", "network.deliver"]
    finally:
        a.close()
        b.close()


def test_concatenated_sms_travels_as_parts(net):
    a, c = _port(net, A), _port(net, C)
    try:
        text = "Alerte: " + "x" * 300
        results = _send(a, C, text, concat_ref=42)
        assert len(results) == 3 and all(final == "OK" for _i, final in results)
        parts = []
        indexes = [int(c.urc(b"+CMTI:").split(",")[1]) for _ in range(3)]
        for index in indexes:
            info, _ = c.command("AT+CMGR=%d" % index)
            assert info[0].startswith("+CMGR: 0,,")  # Quectel prints an empty <alpha> as nothing
            parts.append(pdu.decode(info[1]))
        assert sorted(p["concat"]["part"] for p in parts) == [1, 2, 3]
        assert {p["concat"]["ref"] for p in parts} == {42}
        assert "".join(p["text"] for p in sorted(parts, key=lambda p: p["concat"]["part"])) == text
    finally:
        a.close()
        c.close()


def test_status_report_when_requested(net):
    a = _port(net, A)
    try:
        a.command("AT+CNMI=2,1,0,1,0")
        [(info, _)] = _send(a, B, "ack me", status_report=True)
        mr = int(info[0].split(":")[1])
        header = a.urc(b"+CDS:")
        body = a.expect(b"\r\n").strip().decode()
        assert int(header.split(":")[1]) == len(body) // 2 - 8
        report = pdu.decode(body)
        assert (report["type"], report["reference"], report["number"], report["status"]) == (
            "status-report", mr, B, 0)
    finally:
        a.close()


def test_unknown_number_fails_with_a_status_report(net):
    a = _port(net, A)
    try:
        a.command("AT+CNMI=2,1,0,1,0")
        _send(a, "+22399999999", "nobody", status_report=True)
        a.urc(b"+CDS:")
        report = pdu.decode(a.expect(b"\r\n").strip().decode())
        assert report["status"] == 0x41
        assert net.wait_event("network.failed", to="+22399999999")["reason"] == "unknown number"
    finally:
        a.close()


def test_send_from_a_number_and_inbox(net):
    net.send(C, A, "Merci, j'arrive")
    event = net.wait_event("network.deliver", to=A)
    assert event["from"] == C
    [msg] = net.inbox(A)
    assert (msg["number"], msg["text"], msg["stat"]) == (C, "Merci, j'arrive", 0)


def test_message_waits_while_the_destination_is_unreachable(net):
    b = net.modems[B]
    b.inject("registration_loss", stat=2)
    net.send(A, B, "while away")
    assert net.wait_event("network.pending", to=B)["reason"] == "unreachable"
    assert net.inbox(B) == []
    b.inject("registration_restore")
    net.wait_event("network.deliver", to=B)
    assert [m["text"] for m in net.inbox(B)] == ["while away"]


def test_loss_and_seeded_delays_are_reproducible():
    def run():
        n = GSMNetwork(delay_s=(0.0, 0.01), loss=0.5, seed=3, time_scale=0)
        n.add_modem(A)
        n.add_modem(B)
        n.start()
        try:
            for m in n.modems.values():
                m.wait_ready()
            for i in range(10):
                n.send(A, B, "m%d" % i)
            return [e["ref"] for e in n.events if e["hop"] == "network.lost"]
        finally:
            n.stop()

    first = run()
    assert first == run() and 0 < len(first) < 10


def test_timeline_file_has_one_json_line_per_hop(tmp_path):
    import json
    path = tmp_path / "timeline.jsonl"
    n = GSMNetwork(delay_s=0, time_scale=0, timeline_path=str(path))
    n.add_modem(A)
    n.add_modem(B)
    n.start()
    try:
        for m in n.modems.values():
            m.wait_ready()
        n.send(A, B, "hello")
        n.wait_event("network.deliver")
    finally:
        n.stop()
    events = [json.loads(line) for line in path.read_text().splitlines()]
    hops = [e["hop"] for e in events]
    assert [h for h in hops if h.startswith("network.")][-2:] == ["network.submit", "network.deliver"]
    assert hops[-2:] == ["modem.stored", "network.deliver"]  # the SIM stored it before the SMSC saw the ack
    assert all(isinstance(e["t"], float) for e in events)


def test_validity_period_of_the_submit_is_honoured(net):
    a = _port(net, A)
    try:
        a.command("AT+CNMI=2,1,0,1,0")
        net.modems[C].inject("registration_loss", stat=0)
        # TP-VP relative 0 = 5 minutes; the SMSC gives up once it is exceeded
        for hex_pdu, length in pdu.encode_submit(C, "expires", status_report=True, validity_minutes=5):
            a.send_pdu(length, hex_pdu)
        pending = net.wait_event("network.pending", to=C)
        net.fast_forward(301)
        assert net.wait_event("network.failed", to=C)["reason"] == "validity expired"
        a.urc(b"+CDS:")
        assert pdu.decode(a.expect(b"\r\n").strip().decode())["status"] == 0x46
        assert pending["reason"] == "unreachable"
    finally:
        a.close()


def test_parts_of_concatenated_sms_may_arrive_out_of_order():
    n = GSMNetwork(delay_s=(0.0, 0.05), time_scale=0, seed=11)
    n.add_modem(A)
    n.add_modem(B, sim_capacity=60)
    n.start()
    try:
        for m in n.modems.values():
            m.wait_ready()
        for i in range(8):
            n.send(A, B, ("message %d " % i) * 40)  # 3 parts each
        deliveries = n.wait_events("network.deliver", 24)
        assert len(deliveries) == 24
        by_ref = {}
        for e in deliveries:
            ref, part, total = e["concat"]
            by_ref.setdefault(ref, []).append(part)
        assert all(sorted(parts) == [1, 2, 3] for parts in by_ref.values())
        assert any(parts != [1, 2, 3] for parts in by_ref.values()), "independent delays reorder some parts"
    finally:
        n.stop()


def test_network_congestion_and_outage(net):
    a = _port(net, A)
    try:
        net.inject("congestion")
        [(_, final)] = _send(a, B, "busy network")
        assert final == "+CMS ERROR: 42"
        assert net.wait_event("network.refused")["cause"] == 42
        net.clear_faults()
        net.send(C, B, "before the outage")
        net.wait_event("network.deliver", to=B)
        net.inject("outage")
        [(_, final)] = _send(a, B, "no network")
        assert final == "+CMS ERROR: 38"
        with pytest.raises(RuntimeError, match="38"):
            net.send(C, B, "typed during the outage")
        net.clear_faults()
        [(_, final)] = _send(a, B, "after")
        assert final == "OK"
        assert net.wait_event("network.deliver", to=B, **{"from": A})
        with pytest.raises(ValueError, match="unknown network fault"):
            net.inject("solar flare")
    finally:
        a.close()


def test_outage_holds_accepted_messages_until_it_ends(net):
    c = net.modems[C]
    c.inject("registration_loss", stat=2)
    [ref] = net.send(A, C, "queued at the SMSC")
    net.wait_event("network.pending", to=C)
    net.inject("outage")
    c.inject("registration_restore")  # reachable again, but the network is down
    net.clear_faults()
    delivered = net.wait_event("network.deliver", to=C, ref=ref)
    cleared = net.wait_event("network.fault_cleared")
    assert net.events.index(delivered) > net.events.index(cleared)
