# Runs on MicroPython: imports a dual test module and calls each test_* function.
# Prints one line per test ("PASS name" / "FAIL name: error") and "SUMMARY passed failed" last.
import sys

module_name = sys.argv[1]
only = sys.argv[2] if len(sys.argv) > 2 else None
module = __import__(module_name, None, None, ["*"])
passed = 0
failed = 0
for name in sorted(dir(module)):
    if not name.startswith("test_") or (only and name != only):
        continue
    fn = getattr(module, name)
    if not callable(fn):
        continue
    try:
        fn()
        passed += 1
        print("PASS", name)
    except Exception as exc:  # report and go on: one failing test must not hide the others
        failed += 1
        print("FAIL", name + ":", repr(exc))
        sys.print_exception(exc)
print("SUMMARY", passed, failed)
