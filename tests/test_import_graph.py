"""The import graph matches what runs: stages return data, the report draws, nothing is
loaded by name, and there are no hidden cycles (docs/architecture.md, issue 17).

Every import statement is read from the source (module level and inside functions), so a
lazy import counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "worklife"

# Stages that return records: they import neither the report nor a charting library.
DATA_STAGES = ("worklife.policy", "worklife.digest", "worklife.metrics", "worklife.ingest", "worklife.rules")
DRAWING = ("worklife.report", "plotly")
# Loading a module by its name hides an edge from this graph: nothing may (the ingest
# adapters are a table of modules imported normally, worklife.ingest.registry).
LOADS_BY_NAME_ALLOWED: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(PKG.rglob("*.py"))}


def imports(name: str, tree: ast.Module) -> set[str]:
    """Absolute names imported anywhere in the module (``from a import b`` gives a and a.b)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = name.split(".")[: -node.level] if not name.endswith("__init__") else name.split(".")
                base = ".".join([*pkg, base] if base else pkg)
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


ALL = modules()


def test_the_graph_covers_the_package():
    assert {"worklife.policy.rest", "worklife.report.policy_section", "worklife.rules.meetings"} <= set(ALL)


@pytest.mark.parametrize("stage", DATA_STAGES)
def test_data_stages_do_not_import_the_report_or_plotly(stage):
    bad = sorted((m, i) for m, tree in ALL.items() if under(m, (stage,))
                 for i in imports(m, tree) if under(i, DRAWING))
    assert bad == []


def test_the_digest_reaches_the_guard_only_through_a_send_function():
    bad = sorted((m, i) for m, tree in ALL.items() if under(m, ("worklife.digest",))
                 for i in imports(m, tree) if under(i, ("worklife.guard",)))
    assert bad == []


def test_nothing_is_loaded_by_name():
    found = []
    for m, tree in ALL.items():
        for node in ast.walk(tree):
            call = isinstance(node, ast.Call) and node.func
            if isinstance(call, ast.Attribute) and call.attr == "import_module" or \
                    isinstance(call, ast.Name) and call.id in ("import_module", "__import__"):
                if not under(m, tuple(LOADS_BY_NAME_ALLOWED)):
                    found.append(m)
    assert found == []




def edges() -> dict[str, set[str]]:
    """Module -> worklife modules it imports (at import time or inside a function)."""
    return {m: {i for i in imports(m, tree) if i in ALL and i != m} for m, tree in ALL.items()}


def test_no_two_modules_import_each_other():
    """A pair importing each other (even lazily, e.g. synth.divisions <-> synth.generate) is a hidden cycle."""
    e = edges()
    # A package's __init__ re-exporting its own submodules is not a cycle of concern.
    pairs = {(a, b) for a, outs in e.items() for b in outs
             if a < b and a in e.get(b, set()) and not (b.startswith(a + ".") or a.startswith(b + "."))}
    assert sorted(pairs) == []


def module_edges(name: str, tree: ast.Module) -> set[str]:
    """The worklife modules ``name`` imports, precisely: ``from worklife.app import access`` is an
    edge to ``worklife.app.access`` only (not to the package, whose ``__init__`` merely re-exports)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            subs = {f"{node.module}.{a.name}" for a in node.names} & set(ALL)
            out |= subs if len(subs) == len(node.names) else subs | {node.module}
    return {i for i in out if i in ALL and i != name}


APP_ROUTERS = sorted(m for m in ALL if m.startswith(("worklife.app.pages_", "worklife.app.api")))


def test_the_web_app_imports_form_a_tree():
    """The server imports the routers; the routers import shared modules (context, web, access,
    render, findings, data), never the server nor each other; and no import path comes back."""
    e = {m: module_edges(m, tree) for m, tree in ALL.items() if under(m, ("worklife.app",))}
    assert len(APP_ROUTERS) >= 5
    bad = sorted((r, i) for r in APP_ROUTERS for i in e[r] if i in APP_ROUTERS or i == "worklife.app.server")
    assert bad == []
    assert set(APP_ROUTERS) <= e["worklife.app.server"]
    # depth-first search for a cycle among the app's modules
    state: dict[str, int] = {}

    def cycle_from(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for n in sorted(e.get(m, ())):
            if state.get(n) == 1:
                return [*path, m, n]
            if n in e and n not in state and (found := cycle_from(n, [*path, m])):
                return found
        state[m] = 2
        return None

    cycles = [c for m in sorted(e) if m not in state and (c := cycle_from(m, []))]
    assert cycles == []


def test_every_import_inside_a_function_also_points_down():
    """Lazy imports may not reach back into the report from a data stage (the hidden cycle of old)."""
    for m, tree in ALL.items():
        if under(m, DATA_STAGES):
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    inner = ast.Module(body=list(node.body), type_ignores=[])
                    assert not any(under(i, DRAWING) for i in imports(m, inner)), (m, node.name)


# No package is exempt: a helper another module needs has a public name in the module that owns it.
PRIVATE_IMPORTS_ALLOWED_IN: tuple[str, ...] = ()


def test_no_private_name_is_imported_from_another_module():
    """``from worklife.x import _name`` reaches into another module's internals.

    A private *module* (``cli._app``, ``policy._localtime``) may be used inside its own package.
    """
    found = []
    for m, tree in ALL.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("worklife"):
                found += [(m, node.module, a.name) for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
                private_module = any(part.startswith("_") for part in (node.module or "").split("."))
                package = (node.module or "").rsplit(".", 1)[0]
                if private_module and not m.startswith(package):
                    found.append((m, node.module, "*private module from another package*"))
    assert sorted(f for f in set(found) if not under(f[0], PRIVATE_IMPORTS_ALLOWED_IN)) == []


def module_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> worklife module it is bound to by an import (``from worklife.ingest import mail``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.asname or a.name.split(".")[0]: a.name for a in node.names if a.name.startswith("worklife")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("worklife"):
            names |= {a.asname or a.name: f"{node.module}.{a.name}" for a in node.names
                      if f"{node.module}.{a.name}" in ALL}
    return names


def test_no_private_name_is_reached_through_an_imported_module():
    """``mail._PARSER`` after ``from worklife.ingest import mail`` is the same reach, spelt differently."""
    found = []
    for m, tree in ALL.items():
        aliases = module_aliases(tree)
        found += [(m, aliases[node.value.id], node.attr) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in aliases and node.attr.startswith("_") and not node.attr.startswith("__")]
    assert sorted(set(found)) == []
