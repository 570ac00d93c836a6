"""Power cuts at every write of the wearable's flash state, on MicroPython's real littlefs driver."""
from tests.support.micropython import REPO, run_micropython


def test_state_survives_a_power_cut_at_every_write():
    result = run_micropython(REPO / "tests" / "firmware" / "mp_flash_powercut.py", ["120"], heap="256k",
                             timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    words = result.stdout.split()
    assert words[:2] == ["OK", "120"], result.stdout + result.stderr
    assert int(words[2]) > 50, "too few runs were actually cut: " + result.stdout
