"""firmware/manifest.py lists exactly what /main.py imports on the device: every module of the import closure of
firmware/main.py (lazy imports inside functions too), nothing else, each at the path it is imported from."""
import ast
import json

import pytest

from tests.support.imports import imports
from tools.firmware_image import BOARDS, REPO, read_manifest

ENTRY = REPO / "firmware" / "main.py"
OURS = ("drivers", "firmware")
# Imported only where the runtime is CPython (drivers/nmea.py: NMEAParser's split decoder, `if not MICROPYTHON`).
CPYTHON_ONLY = {"drivers.nmea_split"}
# Modules the MicroPython ports of both boards (rp2, esp32) have built in or frozen.
PORT_MODULES = {"asyncio", "binascii", "gc", "hashlib", "json", "machine", "micropython", "os", "sys", "time"}


def module_file(name):
    """The repo file of a dotted module name, or None when the name is not a module of ours."""
    path = REPO.joinpath(*name.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    if (path / "__init__.py").is_file() or path.is_dir():
        return path / "__init__.py"
    return None


def has_code(path):
    body = ast.parse(path.read_text()).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # a docstring alone runs nothing
    return bool(body)


def device_closure():
    """({repo-relative paths the device imports}, {other modules it imports}) from firmware/main.py."""
    files, others, todo, seen = set(), set(), [("__main__", ENTRY)], set()
    while todo:
        module, path = todo.pop()
        files.add(path.relative_to(REPO).as_posix())
        modules, maybe = imports(path, module)
        for name in modules + maybe:
            if name in seen or name in CPYTHON_ONLY:
                continue
            seen.add(name)
            if name.split(".")[0] not in OURS:
                others.add(name.split(".")[0])
                continue
            target = module_file(name)
            if target is None:
                assert name not in modules, f"{path.relative_to(REPO)} imports {name}, which does not exist"
                continue  # `from drivers.at import ATError`: an attribute, not a module
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ first
                package_init = REPO.joinpath(*parts[:depth], "__init__.py")
                if package_init.is_file() and has_code(package_init):
                    todo.append((".".join(parts[:depth]), package_init))
            if target.is_file() and (target.name != "__init__.py" or has_code(target)):
                todo.append((name, target))
    return files, others


def flashed_sources(board):
    return {e.source.resolve().relative_to(REPO).as_posix() for e in read_manifest(board) if e.kind != "data"}


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_the_manifest_is_the_import_closure_of_main_on_the_device(board):
    closure, _ = device_closure()
    flashed = flashed_sources(board)
    missing = sorted(closure - flashed)
    extra = sorted(flashed - closure)
    assert missing == [], "imported on the device but not flashed, add to firmware/manifest.py: %s" % missing
    assert extra == [], "flashed but never imported on the device, drop from firmware/manifest.py: %s" % extra


def test_the_device_imports_nothing_but_its_port_s_own_modules():
    _, others = device_closure()
    assert sorted(others - PORT_MODULES) == []


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_every_module_is_flashed_where_it_is_imported_from(board):
    for entry in read_manifest(board):
        source = entry.source.resolve().relative_to(REPO).as_posix()
        if entry.kind == "data":
            assert entry.dest == "pinout.json" and json.loads(entry.source.read_text())["mcu"] == BOARDS[board][0]
        elif source == "firmware/main.py":
            assert (entry.dest, entry.kind) == ("main.py", "source")
        else:
            assert (entry.dest, entry.kind) == (source[:-3] + ".mpy", "mpy")


def test_nothing_of_the_simulators_nor_the_cpython_only_path_is_flashed():
    for board in BOARDS:
        flashed = flashed_sources(board)
        assert [s for s in flashed if s.startswith("sim/") or "_sim" in s or "nmea_split" in s] == []
        assert "drivers/nmea_split.py" not in flashed and "firmware/manifest.py" not in flashed
