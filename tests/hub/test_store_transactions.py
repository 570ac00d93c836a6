"""The store's transactions over SQLAlchemy: atomic and invisible until committed, serialised between the hub's
threads, waiting for another process's write rather than failing."""
import sqlite3
import threading
import time

import pytest

from drivers.alert import parse_alert
from hub.store import Store
from tests.hub.spine_fixtures import KEY, W1_PHONE, alert_text


def parsed(counter, **kw):
    text = alert_text(counter, **kw)
    return parse_alert(text, lambda _i: KEY), text


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "hub.db") as s:
        yield s


def other_connection(tmp_path):
    return sqlite3.connect(tmp_path / "hub.db", isolation_level=None, check_same_thread=False)


def test_an_acknowledgement_is_invisible_to_other_connections_until_it_commits(store, tmp_path):
    _, stored = store.record_alert(*parsed(1), "sms")
    other = other_connection(tmp_path)
    seen_meanwhile = []

    def build_body(hub_counter):
        # inside the transaction: the state change is written, not committed
        seen_meanwhile.append(other.execute("SELECT state FROM alerts WHERE id=?", (stored["id"],)).fetchone()[0])
        return "ACK h=%d" % hub_counter

    store.transition(stored["id"], "acknowledge", "op", ack=(W1_PHONE, build_body))
    assert seen_meanwhile == ["new"]
    assert other.execute("SELECT state FROM alerts WHERE id=?", (stored["id"],)).fetchone()[0] == "acknowledged"
    assert other.execute("SELECT body FROM outbox").fetchall() == [("ACK h=1",)]
    other.close()


def test_a_callback_inside_a_write_reads_what_the_write_has_done_so_far(store):
    _, stored = store.record_alert(*parsed(1), "sms")
    body = store.transition(stored["id"], "acknowledge", "op",
                            ack=(W1_PHONE, lambda h: "ACK %s" % store.get_alert(stored["id"])["state"]))
    assert body["state"] == "acknowledged"
    assert [m["body"] for m in store.outbox(stored["id"])] == ["ACK acknowledged"]


def test_hub_counters_stay_unique_when_threads_enqueue_acks_at_once(store):
    """The console thread, paho's thread and the asyncio loop share the store: each counter is taken once."""
    _, stored = store.record_alert(*parsed(1), "sms")

    def enqueue_many():
        for _ in range(25):
            store.enqueue_ack("W1", lambda h: "RCV h=%d" % h, W1_PHONE, stored["id"])

    threads = [threading.Thread(target=enqueue_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bodies = sorted((m["body"] for m in store.outbox(stored["id"])), key=lambda body: int(body.split("=")[1]))
    assert bodies == ["RCV h=%d" % h for h in range(1, 101)]


def test_a_write_waits_for_another_process_holding_the_write_lock(store, tmp_path):
    other = other_connection(tmp_path)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO hub_counters (device_id, value) VALUES ('W1', 41)")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    store.enqueue_ack("W1", lambda h: "RCV h=%d" % h, W1_PHONE, None)
    release.join()
    other.close()
    assert time.monotonic() - started >= 0.4
    # BEGIN IMMEDIATE waited for the lock before reading the counter: the other process's value is continued
    assert [m["body"] for m in store.outbox()] == ["RCV h=42"]
