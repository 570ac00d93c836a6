"""The house plan: the product (drivers/, firmware/, hub/) never imports the world it is tested against (sim/),
the hub's wheel does not carry it, and the product's modules import each other without cycles."""
import tomllib
from pathlib import Path

from setuptools import find_packages

from tests.support.imports import imports

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("drivers", "firmware", "hub")


def product_modules():
    """{dotted module name: path} for every Python file of the product."""
    modules = {}
    for top in PRODUCT:
        for path in sorted((REPO / top).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(path, module):
    """Every name an import in the file names, at any depth (lazy imports too), relative imports resolved."""
    modules, maybe = imports(path, module)
    return modules + maybe


def test_the_product_never_imports_the_simulators():
    offenders = [f"{path.relative_to(REPO)} imports {name}"
                 for module, path in product_modules().items()
                 for name in imported_names(path, module)
                 if name == "sim" or name.startswith("sim.") or name.startswith("hub.sim")]
    assert offenders == []


def test_the_hub_wheel_has_no_simulators_and_no_tests():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = find_packages(str(REPO), include=config["include"], exclude=config.get("exclude", ()))
    assert "hub" in packages and "drivers" in packages
    assert [p for p in packages if p.split(".")[0] in ("sim", "tests", "tools") or ".sim" in p] == []


def test_the_product_has_no_import_cycles():
    modules = product_modules()
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(path, module):
            # `from drivers import modems` names the module drivers.modems; `from drivers.at import ATError` names
            # drivers.at: keep the longest name that is a product module.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                targets.add(name)
        graph[module] = targets
    cycles = []
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*stack[stack.index(target):], target]))
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert cycles == []
