"""`make bench`: runs every tools/bench_*.py module's main() and prints its figures (never pass/fail)."""
import importlib
import sys
from pathlib import Path


def main():
    here = Path(__file__).resolve().parent
    for path in sorted(here.glob("bench_*.py")):
        print(f"== {path.stem}")
        sys.stdout.flush()
        importlib.import_module(f"tools.{path.stem}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
