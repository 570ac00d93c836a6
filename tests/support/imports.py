"""What a Python file imports, read from its syntax tree (lazy imports inside functions too)."""
import ast


def imports(path, module):
    """(dotted names that must be modules, dotted names that may be modules or attributes) of one file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    modules, maybe = [], []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            modules.append(base)
            maybe.extend(base + "." + alias.name for alias in node.names)
    return modules, maybe
