"""`deme shake` / `deme fall` over generated recordings: JSON lines, resampling, clipping, clear errors."""
import argparse
import json
import lzma
import random

import pytest

from hub.cli import UsageError
from hub.commands import triggers_cmd
from sim.motion import synthetic_shake


def parser():
    p = argparse.ArgumentParser(prog="deme")
    sub = p.add_subparsers(dest="command")
    triggers_cmd.register(sub)
    triggers_cmd.register(sub)  # COMMANDS names the module twice: registering again must be harmless
    return p


def deme(argv, capsys):
    args = parser().parse_args(argv)
    assert args.func(args) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def write_csv(path, samples, step_ms=10.0, header=True):
    lines = ["t_ms,ax_mg,ay_mg,az_mg"] if header else []
    lines += [f"{i * step_ms:g},{x},{y},{z}" for i, (_, x, y, z) in enumerate(samples)]
    text = "\n".join(lines) + "\n"
    if str(path).endswith(".xz"):
        path.write_bytes(lzma.compress(text.encode()))
    else:
        path.write_text(text)
    return str(path)


def shake_samples(seed=3):
    samples, onset, _ = synthetic_shake(random.Random(seed), freq_hz=5.0, amp_g=4.0, duration_s=2.5,
                                        position="hand")
    return samples, onset


def still_samples(n=1000):
    return [(i * 10, 0, -1000, 0) for i in range(n)]


def fall_samples():
    out = [(0, 0, -1000, 0)] * 300
    out += [(0, int(-1000 * (1 - i / 59)), int(1000 * i / 59), 0) for i in range(60)]
    out += [(0, 4000, 0, 0)] * 4
    out += [(0, 0, 0, 1000)] * 600
    return [(i * 10, x, y, z) for i, (_, x, y, z) in enumerate(out)]


def test_shake_prints_one_line_per_detection(tmp_path, capsys):
    samples, onset = shake_samples()
    shake = write_csv(tmp_path / "shake.csv", samples)
    quiet = write_csv(tmp_path / "quiet.csv.xz", still_samples())
    out = deme(["shake", shake, quiet], capsys)
    assert len(out) == 1
    assert out[0]["file"] == shake
    assert abs(out[0]["t_ms"] - onset) <= 150
    assert out[0]["at_ms"] - onset <= 1500


def test_other_rates_are_resampled(tmp_path, capsys):
    samples, onset = shake_samples()
    # The same recording at 200 Hz (duplicated samples at 5 ms) and at 50 Hz (every other sample)
    fast = [(0, x, y, z) for (_, x, y, z) in samples for _ in range(2)]
    slow = samples[::2]
    a = deme(["shake", write_csv(tmp_path / "fast.csv", fast, step_ms=5.0)], capsys)
    b = deme(["shake", write_csv(tmp_path / "slow.csv", slow, step_ms=20.0)], capsys)
    assert len(a) == 1 and len(b) == 1
    assert abs(a[0]["t_ms"] - onset) <= 150 and abs(b[0]["t_ms"] - onset) <= 150


def test_range_option_clips_what_the_detector_sees(tmp_path, capsys):
    # A 6 g, 5 Hz square shake after a still 3 s: found at +-16 g; at +-2 g it is clipped to a +-2 g square wave,
    # which a vigorous-shake threshold of 1.8 g (sensitivity 1) still accepts, with the same onset.
    big = write_csv(tmp_path / "big.csv", [(i * 10, 0, -1000, 0) for i in range(300)] + [
        (3000 + i * 10, 0, -1000, 6000 if i % 20 < 10 else -6000) for i in range(300)])
    wide = deme(["shake", "--range-g", "16", "--sensitivity", "1", big], capsys)
    narrow = deme(["shake", "--range-g", "2", "--sensitivity", "1", big], capsys)
    assert len(wide) == 1 and wide[0]["t_ms"] >= 3000
    assert [o["t_ms"] for o in narrow] == [o["t_ms"] for o in wide]


def test_fall_prints_the_impact_time(tmp_path, capsys):
    fall = write_csv(tmp_path / "fall.csv", fall_samples())
    out = deme(["fall", fall, write_csv(tmp_path / "quiet.csv", still_samples())], capsys)
    assert [(o["file"], o["t_ms"]) for o in out] == [(fall, 3600)]


def test_clear_errors(tmp_path):
    p = parser()
    with pytest.raises(UsageError, match="no such recording"):
        a = p.parse_args(["shake", str(tmp_path / "missing.csv")])
        a.func(a)
    bad = tmp_path / "bad.csv"
    bad.write_text("t_ms,ax_mg,ay_mg,az_mg\n0,1,2,3\n10,1,x,3\n")
    with pytest.raises(UsageError, match=r"bad.csv:3: not a number"):
        a = p.parse_args(["fall", str(bad)])
        a.func(a)
    back = tmp_path / "back.csv"
    back.write_text("0,1,2,3\n10,1,2,3\n5,1,2,3\n")
    with pytest.raises(UsageError, match="time goes backwards"):
        a = p.parse_args(["shake", str(back)])
        a.func(a)
    short = tmp_path / "short.csv"
    short.write_text("0,1,2\n")
    with pytest.raises(UsageError, match="expected t_ms,ax_mg,ay_mg,az_mg"):
        a = p.parse_args(["shake", str(short)])
        a.func(a)
    notxz = tmp_path / "fake.csv.xz"
    notxz.write_text("plain text")
    with pytest.raises(UsageError, match="cannot read"):
        a = p.parse_args(["shake", str(notxz)])
        a.func(a)
    with pytest.raises(UsageError, match="--sensitivity must be 1..5"):
        a = p.parse_args(["shake", "--sensitivity", "7", str(bad)])
        a.func(a)
    with pytest.raises(UsageError, match="--range-g"):
        a = p.parse_args(["fall", "--range-g", "3", str(bad)])
        a.func(a)
