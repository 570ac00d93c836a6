"""[console] allowed_hosts, from hub.toml to the console of the real `deme hub run`: a request whose Host is a
listed name passes, one by any other name (a page using DNS rebinding) is refused with what to add."""
import http.client
import json

from sim.broker import free_port
from tests.hub.test_hub_startup import read_until, spawn_hub, stop_with_sigterm, write_config


def get(port, host_header):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/api/alerts", headers={"Host": host_header})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_the_hosts_allowed_in_hub_toml_reach_the_console_and_other_names_are_refused(tmp_path):
    port = free_port()
    config = write_config(tmp_path, f'database = "{tmp_path / "hub.db"}"',
                          f'[console]\nhost = "127.0.0.1"\nport = {port}\n'
                          'allowed_hosts = ["Deme-Hub.local", "police-bko.example"]')
    process = spawn_hub(config)
    try:
        read_until(process.stdout, "console: ")
        assert get(port, f"deme-hub.local:{port}")[0] == 200
        assert get(port, "DEME-HUB.LOCAL.")[0] == 200  # the same name, any case, fully qualified
        assert get(port, "police-bko.example")[0] == 200
        assert get(port, f"127.0.0.1:{port}")[0] == 200  # IP addresses and localhost always
        status, body = get(port, f"rebind.evil.example:{port}")
        assert status == 403
        assert "[console] allowed_hosts" in body["error"]
        assert get(port, "deme-hub.local.evil.example")[0] == 403
    finally:
        rc, _, err = stop_with_sigterm(process)
    assert rc == 0, err
