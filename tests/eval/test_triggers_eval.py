"""`make eval`: the trigger report from the real data in ../shared/data (SisFall, Wiimote shakes).

The figures are the report's job (build/reports/triggers.md); this test checks that the full run happened on every
file and that the report holds every section and row it promises."""
import os
import re
from pathlib import Path

from tools import eval_triggers

REPO = Path(__file__).resolve().parents[2]


def test_triggers_report(capsys):
    data = Path(os.environ.get("DEME_SHARED_DATA", REPO.parent / "shared" / "data"))
    index = data / "imu" / "sisfall" / "INDEX.csv"
    assert index.is_file(), f"SisFall not found at {index}: set DEME_SHARED_DATA"
    n_files = sum(1 for _ in index.open()) - 1
    out = REPO / "build" / "reports" / "triggers.md"
    assert eval_triggers.main(["--data", str(data), "--out", str(out)]) == 0
    report = out.read_text()
    summary = capsys.readouterr().out
    assert f"{n_files} SisFall files" in summary
    assert f"SisFall files processed: {n_files}; elapsed" in report
    for code in [f"D{i:02d}" for i in range(1, 20)] + [f"F{i:02d}" for i in range(1, 16)]:
        assert re.search(rf"^\| {code} \|", report, re.M), code
    for section in ("## False shake alarms", "### By subject split and sensitivity", "### Wiimote shakes as recorded",
                    "### Synthetic shakes", "## Fall detection", "| held-out |", "| tune |", "naive",
                    "## Operating characteristic", "| **default, sensitivity 3** |", "| naive 3 g |",
                    "of representative wear without a single alarm"):
        assert section in report, section
    total = re.search(r"^\| \*\*all\*\* \| \| (\d+) \| ([\d.]+) \| (\d+) \|", report, re.M)
    assert total and int(total.group(1)) > 2000 and float(total.group(2)) > 10.0
