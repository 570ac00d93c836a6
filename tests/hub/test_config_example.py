"""docs/hub.toml.example, the installers' reference: it loads, it documents every key the hub reads (with its
range), and each value it shows commented out loads too."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import KNOWN_KEYS, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "hub.toml.example"
DEME = str(Path(sys.executable).with_name("deme"))
# A commented-out setting: "# key = value".
COMMENTED = re.compile(r"^# ([a-z_]+) = (.+)$")


def sections():
    """table name -> the keys written in it (set or commented out), in the example's order."""
    found, current = {}, ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        header = re.fullmatch(r"(\[\[?[a-z.]+\]\]?)", line.strip())
        if header:
            current = header.group(1)
            found.setdefault(current, [])
            continue
        setting = re.match(r"^(?:# )?([a-z_]+) = ", line)
        if setting and current:
            found[current].append(setting.group(1))
    return found


def test_the_example_loads_as_written(tmp_path):
    config = load_config(EXAMPLE)
    assert config.hub_id == "bamako-1" and config.database == EXAMPLE.parent / "deme.db"
    assert config.console_allowed_hosts == ("deme-hub.local",)
    assert [c.name for c in config.devices["W1"].contacts] == ["Moussa Traoré"]
    result = subprocess.run([DEME, "hub", "check-config", "--config", str(EXAMPLE)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("hub bamako-1 (+22370000001), 1 device(s)")


def test_the_example_documents_every_key_with_its_range():
    found = sections()
    for table, keys in KNOWN_KEYS.items():
        if table == "":
            assert {"[hub]", "[modem]", "[mqtt]", "[console]", "[[devices]]"} <= set(found)
            continue
        written = set(found.get(table, ()))
        if table == "[[devices]]":  # its contacts are the [[devices.contacts]] blocks
            written.add("contacts")
        assert written == set(keys), table
    text = EXAMPLE.read_text(encoding="utf-8")
    for documented in ("1-32", "1-3650", "1-100", "1-600", "1-1440", "0-1440", "1-99", "1200-4000000", "1-65535",
                       "1-86400", "BCM 0-27", "1-16"):
        assert documented in text, documented


@pytest.mark.parametrize("line", [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
                                  if COMMENTED.match(line)])
def test_each_value_shown_commented_out_loads_too(tmp_path, line):
    text = EXAMPLE.read_text(encoding="utf-8").replace(line + "\n", line[2:] + "\n", 1)
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    key, value = COMMENTED.match(line).groups()
    if key == "power":
        assert config.modem_power == value.strip('"')
