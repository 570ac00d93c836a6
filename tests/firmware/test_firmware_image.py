"""`make firmware BOARD=...` (tools/firmware_image.py): the image holds the manifest's files and nothing else, each
.py compiled by mpy-cross for the board's architecture except /main.py, and the board's pinout as /pinout.json."""
import subprocess
import sys

import pytest

from tests.support.micropython import micropython_binary
from tools.firmware_image import BOARDS, MPY_ARCH, REPO, build_image, compile_mpy, read_manifest, size_report

MPY_VERSION = 6  # what MicroPython 1.29 loads (and mpy-cross 1.29 writes)


def mpy_header(path):
    """(version, native architecture code, small-int bits) from an .mpy's first 4 bytes: b"M", version,
    features (architecture << 2 | sub-version), small-int bits."""
    head = path.read_bytes()[:4]
    assert head[:1] == b"M", path
    return head[1], head[2] >> 2, head[3]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("firmware")
    return {board: (root / board, build_image(board, root / board)) for board in BOARDS}


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_the_image_holds_exactly_the_manifest_compiled_for_the_board(images, board):
    out, sizes = images[board]
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    entries = read_manifest(board)
    assert files == sorted(e.dest for e in entries)
    assert [dest for dest, _ in sizes] == [e.dest for e in entries]
    assert all(size == (out / dest).stat().st_size > 0 for dest, size in sizes)
    assert [f for f in files if f.startswith(("sim", "tests")) or "_sim" in f or "nmea_split" in f] == []
    assert [f for f in files if f.endswith(".py")] == ["main.py"]  # MicroPython runs /main.py, not main.mpy
    assert (out / "main.py").read_bytes() == (REPO / "firmware" / "main.py").read_bytes()
    pinout = (REPO / "hardware" / ("build-a" if board == "pico" else "build-b") / "pinout.json").read_bytes()
    assert (out / "pinout.json").read_bytes() == pinout
    for entry in entries:
        if entry.kind == "mpy":
            version, arch, small_int_bits = mpy_header(out / entry.dest)
            # Bytecode-only files (all of the firmware's today) carry no architecture and run on any port.
            assert (version, small_int_bits) == (MPY_VERSION, 31) and arch in (0, MPY_ARCH[BOARDS[board][1]])


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_native_code_is_compiled_for_the_board_s_architecture(tmp_path, board):
    source = tmp_path / "native.py"
    source.write_text("import micropython\n\n\n@micropython.native\ndef double(x):\n    return 2 * x\n")
    compile_mpy(source, tmp_path / "native.mpy", BOARDS[board][1], "native.py")
    assert mpy_header(tmp_path / "native.mpy")[1] == MPY_ARCH[BOARDS[board][1]]


def test_the_image_loads_on_micropython_from_its_own_files_alone(images, tmp_path):
    """Bytecode .mpy files run on any port: the unix port imports every module of the Pico's image from the image
    folder only (no repo on the path), through folders without __init__ as on the device."""
    out, _ = images["pico"]
    modules = sorted(e.dest[:-4].replace("/", ".").replace(".__init__", "") for e in read_manifest("pico")
                     if e.kind == "mpy")
    probe = tmp_path / "probe.py"
    probe.write_text("import sys\nsys.path[:] = ['.frozen', '.']\n"
                     "for name in %r:\n    __import__(name)\nprint('imported', len(sys.modules))\n" % (modules,))
    env = {"MICROPYPATH": ".frozen", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([micropython_binary(), "-X", "heapsize=256k", str(probe)], cwd=out, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("imported"), result.stdout + result.stderr


def test_the_size_report_gives_every_file_and_the_total(images):
    _, sizes = images["esp32"]
    markdown, data = size_report("esp32", sizes)
    assert "xtensawin" in markdown and f"**{sum(size for _, size in sizes)}**" in markdown
    assert all(f"| {dest} | {size} |" in markdown for dest, size in sizes)
    assert '"total_bytes": %d' % sum(size for _, size in sizes) in data


def test_the_listing_names_every_file_of_the_image():
    result = subprocess.run([sys.executable, "-m", "tools.firmware_image", "--list", "--board", "esp32"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == ["/" + e.dest for e in read_manifest("esp32")]
    assert "hardware/build-b/pinout.json" in result.stdout and "/firmware/app.mpy" in listed
