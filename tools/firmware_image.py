"""`make firmware BOARD=pico|esp32`: the wearable's flash image, from firmware/manifest.py.

    python -m tools.firmware_image --board pico            # build/firmware/pico/, and build/firmware/SIZE-pico.md
    python -m tools.firmware_image --board esp32 --out DIR
    python -m tools.firmware_image --list [--board esp32]  # what would be flashed, from where, built how

Every .py is compiled with mpy-cross for the board's architecture (less RAM than compiling on the device, and no
source to parse at boot); /main.py stays source, since MicroPython runs main.py and never main.mpy. The board's
pinout becomes /pinout.json (firmware/board.py). The folder holds exactly what goes on the flash; the size report
lies beside it, so that copying the folder copies nothing else (docs/installer-guide.md, section 5).
"""
import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.mpy import mpy_cross

REPO = Path(__file__).resolve().parents[1]
MANIFEST = REPO / "firmware" / "manifest.py"
BUILD = REPO / "build" / "firmware"
# board -> (the pinout's "mcu", mpy-cross -march)
BOARDS = {"pico": ("rp2040", "armv6m"), "esp32": ("esp32", "xtensawin")}
# The native architecture code in an .mpy header (MicroPython's py/persistentcode.h, MP_NATIVE_ARCH_*). mpy-cross
# writes it only in files with native code; a bytecode-only .mpy says 0 and runs on every port.
MPY_ARCH = {"armv6m": 4, "xtensawin": 10}
SOURCE_ONLY = ("main.py", "boot.py")  # the scripts MicroPython runs by name at boot
# What a previous image can hold: anything else in the output folder means it is not an image, and is kept.
IMAGE_SUFFIXES = (".py", ".mpy", ".json")


class ManifestError(ValueError):
    """The manifest names a file or board that does not exist; the message says which."""


@dataclass(frozen=True)
class Entry:
    dest: str  # path on the device's flash, without the leading "/"
    source: Path
    kind: str  # "mpy" (compiled), "source" (copied as is) or "data"


def read_manifest(board, manifest=MANIFEST):
    """The entries of `manifest` for `board`, in the manifest's order (its pinout last)."""
    if board not in BOARDS:
        raise ManifestError(f"unknown board {board!r}: choose one of {', '.join(BOARDS)}")
    here = manifest.parent
    entries = []
    pinouts = {}

    def python_file(source, dest):
        if not source.is_file():
            raise ManifestError(f"{manifest.name}: {source} does not exist")
        kind = "source" if dest in SOURCE_ONLY else "mpy"
        entries.append(Entry(dest[:-3] + ".mpy" if kind == "mpy" else dest, source, kind))

    def module(module_path, base_path=".", opt=None):
        python_file(here / base_path / module_path, module_path)

    def package(package_path, files=None, base_path=".", opt=None):
        root = here / base_path / package_path
        if not root.is_dir():
            raise ManifestError(f"{manifest.name}: package {package_path} has no folder {root}")
        if files is None:
            files = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if "__pycache__" not in p.parts)
        for name in files:
            python_file(root / name, f"{package_path}/{name}")

    def pinout(name, path):
        pinouts[name] = here / path

    exec(compile(manifest.read_text(), str(manifest), "exec"), {"module": module, "package": package,
                                                                "pinout": pinout})
    if board not in pinouts:
        raise ManifestError(f"{manifest.name} gives no pinout for the board {board!r}")
    source = pinouts[board]
    mcu = json.loads(source.read_text()).get("mcu")
    if mcu != BOARDS[board][0]:
        raise ManifestError(f"{manifest.name}: the pinout {source} is for a {mcu}, the board {board} is a "
                            f"{BOARDS[board][0]}")
    entries.append(Entry("pinout.json", source, "data"))
    dests = [e.dest for e in entries]
    twice = sorted({d for d in dests if dests.count(d) > 1})
    if twice:
        raise ManifestError(f"{manifest.name} flashes {', '.join(twice)} more than once")
    return entries


def compile_mpy(source, target, march, name):
    """mpy-cross for `march`; `name` is the path the device's tracebacks give."""
    target.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([mpy_cross(), f"-march={march}", "-s", name, "-o", str(target), str(source)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"mpy-cross failed on {source}:\n{proc.stderr.strip()}")


def _clear(out):
    if not out.exists():
        return
    strangers = [p for p in out.rglob("*") if p.is_file() and p.suffix not in IMAGE_SUFFIXES]
    if strangers:
        raise RuntimeError(f"{out} holds {strangers[0]}, which no image has: not overwriting it")
    shutil.rmtree(out)


def build_image(board, out=None, manifest=MANIFEST):
    """Builds the image into `out` (build/firmware/<board> by default, replaced); returns [(dest, bytes)]."""
    out = Path(out) if out is not None else BUILD / board
    march = BOARDS[board][1]
    entries = read_manifest(board, manifest)
    _clear(out)
    sizes = []
    for entry in entries:
        target = out / entry.dest
        if entry.kind == "mpy":
            compile_mpy(entry.source, target, march, entry.dest[:-4] + ".py")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry.source, target)
        sizes.append((entry.dest, target.stat().st_size))
    return sizes


def size_report(board, sizes):
    """(markdown, json) of the image's size, file by file."""
    total = sum(size for _, size in sizes)
    lines = [f"# Firmware image for the {board} ({BOARDS[board][0]}, mpy-cross -march={BOARDS[board][1]})", "",
             "| file | bytes |", "| --- | ---: |"]
    lines += [f"| {dest} | {size} |" for dest, size in sizes]
    lines.append(f"| **total ({len(sizes)} files)** | **{total}** |")
    data = {"board": board, "mcu": BOARDS[board][0], "march": BOARDS[board][1], "total_bytes": total,
            "files": [{"path": dest, "bytes": size} for dest, size in sizes]}
    return "\n".join(lines) + "\n", json.dumps(data, indent=1) + "\n"


def listing(board, manifest=MANIFEST):
    rows = []
    for entry in read_manifest(board, manifest):
        try:
            source = entry.source.resolve().relative_to(REPO)
        except ValueError:
            source = entry.source
        rows.append(f"/{entry.dest:<28} {entry.kind:<7} {source}")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tools.firmware_image", description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="pico", choices=sorted(BOARDS))
    parser.add_argument("--out", type=Path, help="image folder (default build/firmware/BOARD)")
    parser.add_argument("--list", action="store_true", help="list the image's files instead of building it")
    args = parser.parse_args(argv)
    try:
        if args.list:
            print(listing(args.board))
            return 0
        out = args.out or BUILD / args.board
        sizes = build_image(args.board, out)
    except (ManifestError, RuntimeError) as exc:
        print(f"firmware image: {exc}", file=sys.stderr)
        return 1
    markdown, data = size_report(args.board, sizes)
    (out.parent / f"SIZE-{args.board}.md").write_text(markdown)
    (out.parent / f"SIZE-{args.board}.json").write_text(data)
    print(markdown, end="")
    print(f"image in {out}; size report in {out.parent / f'SIZE-{args.board}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
