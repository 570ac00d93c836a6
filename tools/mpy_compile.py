"""Compile every firmware and driver file with mpy-cross: what does not compile cannot run on the wearable."""
import sys
import tempfile

from tools.mpy import compile_tree, sources


def main():
    with tempfile.TemporaryDirectory() as out:
        errors = compile_tree(out)
    for rel, message in errors:
        print(f"mpy-cross failed on {rel}:\n{message}")
    total = len(sources())
    print(f"mpy-cross: {total - len(errors)} of {total} files compiled")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
