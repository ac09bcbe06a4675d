"""The import graph, read from the source: no cycle in srcnn/ nor in ui/ + app.py, lazy
(function-level) and relative imports included; and importing the app changes no environment
variable and makes no temp store.

An edge A -> B means module A's source holds an import of module B anywhere (top level, inside
a function, under ``if``): ``import srcnn.models``, ``from srcnn import models`` (the module
``srcnn.models``), ``from .models import KINDS`` (``srcnn.models``), ``from srcnn import
upscale`` (the package ``srcnn``, its ``__init__``). Importing ``a.b`` also runs ``a``'s
``__init__`` first, but that is no cycle (a package's ``__init__`` is done before its modules
are imported from outside it), so parent packages get no implicit edge.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path, root: Path) -> str:
    """``srcnn/tooling/card.py`` -> ``srcnn.tooling.card``; ``srcnn/__init__.py`` -> ``srcnn``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(root: Path, names: tuple[str, ...]) -> dict[str, Path]:
    """Module name -> file, for every .py under the folders ``names`` (and the files ``names``)."""
    found = {}
    for name in names:
        target = root / name
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            found[module_name(path, root)] = path
    return found


def imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` (its source at ``path``) imports, at any depth."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                out.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source)
    return {m for m in out if m in known and m != module}


def import_graph(root: Path, names: tuple[str, ...]) -> dict[str, set[str]]:
    files = sources(root, names)
    return {m: imported(m, path, set(files)) for m, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted: every
    import cycle lies inside one."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe(graph: dict[str, set[str]], component: list[str]) -> str:
    """One cycle inside ``component``, written ``a -> b -> a``."""
    members, path, seen = set(component), [component[0]], {component[0]}
    while True:
        nxt = sorted(graph[path[-1]] & members)
        back = [m for m in nxt if m in seen]
        if back:
            return " -> ".join(path[path.index(back[0]):] + [back[0]])
        path.append(nxt[0])
        seen.add(nxt[0])


def test_the_reader_sees_lazy_and_relative_imports_and_finds_a_cycle(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("def f():\n    from .sub import b\n    return b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("from .. import a\nfrom pkg import f\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.sub.b"}, "pkg.sub": set(), "pkg.sub.b": {"pkg.a", "pkg"}}
    assert cycles(graph) == [["pkg", "pkg.a", "pkg.sub.b"]]
    assert describe(graph, cycles(graph)[0]) in ("pkg -> pkg.a -> pkg.sub.b -> pkg",
                                                  "pkg.a -> pkg.sub.b -> pkg.a")


def test_the_graph_holds_the_known_lazy_edges():
    graph = import_graph(ROOT, ("srcnn",))
    assert "srcnn.torch_models" in graph["srcnn.weights"]       # inside load_from_folder / load_model
    assert "srcnn.torch_models" in graph["srcnn.engine"]        # inside torch_batch_fn
    assert "srcnn.models" in graph["srcnn.torch_models"]


def test_no_import_cycle_in_srcnn():
    graph = import_graph(ROOT, ("srcnn",))
    found = cycles(graph)
    assert not found, "import cycles in srcnn/: " + "; ".join(describe(graph, c) for c in found)


def test_no_import_cycle_in_ui_and_app():
    graph = import_graph(ROOT, ("srcnn", "ui", "app.py"))
    found = [c for c in cycles(graph) if any(m == "app" or m.startswith("ui") for m in c)]
    assert not found, "import cycles in ui/ and app.py: " + "; ".join(describe(graph, c) for c in found)


def test_importing_the_app_leaves_the_environment_unchanged_and_makes_no_store(tmp_path):
    code = ("import json, os\nbefore = dict(os.environ)\nimport app, ui.server\nafter = dict(os.environ)\n"
            "assert ui.server.active_store() is None\n"
            "print(json.dumps({k: [before.get(k), after.get(k)] for k in sorted({*before, *after}) "
            "if before.get(k) != after.get(k)}))")
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRADIO_TEMP_DIR=str(tmp_path), HF_HUB_OFFLINE="1")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.strip().splitlines()[-1]) == {}
