"""The shape of the code, as claims that fail when it drifts: imports run one way without circles, the web
process never loads torch, modules and functions stay small, and the library's public functions show
how they are called (the suite runs those examples: ``--doctest-modules`` on ``ml``)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ml", "web", "worker")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# An argparse builder lists every option of the command line; splitting it would only scatter them.
LONG_ALLOWED = {"ml/cli/parser.py:build_parser"}


def source_files(*folders: str) -> list[Path]:
    files = (p for folder in folders for p in (ROOT / folder).rglob("*.py"))
    return sorted(p for p in files if "migrations" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never executed)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(path: Path, modules: set[str], name: str | None = None) -> set[str]:
    """The project modules ``path`` (module ``name``) imports when it runs (function-level imports
    included), each with the packages above it, whose ``__init__`` runs first."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from package import module`` imports the module; ``from module import name``, the module.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    files = source_files(*PACKAGES)
    modules = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, modules) for p in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_circle_and_the_import_reader_follows_function_level_imports(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = tmp_path / "mod.py"
    source.write_text(textwrap.dedent("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from ml.reading import reader
        def f():
            from web.uploads import services
    """))
    modules = {"ml", "ml.reading", "ml.reading.reader", "web", "web.uploads", "web.uploads.services"}
    assert imports_of(source, modules, "web.mod") == {"web", "web.uploads", "web.uploads.services"}


def test_there_is_no_import_circle_anywhere():
    assert find_cycle(import_graph()) is None


def test_imports_run_one_way_worker_then_web_then_ml():
    graph = import_graph()
    rank = {"worker": 2, "web": 1, "ml": 0}
    upward = [(a, b) for a, targets in graph.items() for b in targets
              if rank[b.split(".")[0]] > rank[a.split(".")[0]]]
    assert upward == []
    # And inside ml, the rooms in one order: cli (and ``python -m ml``) → study → training → synth →
    # reading → models → the shared modules at the top (data, paths, progress, machine).
    order = ["__main__", "cli", "study", "training", "synth", "reading", "models"]

    def room(module: str) -> int:
        parts = module.split(".")
        return order.index(parts[1]) if len(parts) > 1 and parts[1] in order else len(order)

    backwards = [(a, b) for a, targets in graph.items() if a.startswith("ml.") for b in targets
                 if b.startswith("ml.") and room(b) < room(a)]
    assert backwards == []


def test_the_web_process_never_imports_torch():
    """Django set up, the URLs, the WSGI app, the admin and the upload checks loaded, an upload
    validated and the Experiments page's data built: torch (and scikit-learn) stay out."""
    code = textwrap.dedent("""
        import os, sys
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
        import django
        django.setup()
        import web.urls, web.wsgi, web.registry.admin
        import cv2, numpy as np
        from web.uploads.validation import check_image
        from web.registry.presenters import study_from_committed
        page = np.full((40, 60), 255, np.uint8)
        page[10:30, 20:24] = 0  # a stroke: a blank image is refused
        png = cv2.imencode(".png", page)[1].tobytes()
        assert check_image(data=png, max_bytes=10**6, max_pixels=10**6).width == 60
        assert study_from_committed("ablate") and study_from_committed("benchmark")
        print(sorted(m for m in ("torch", "sklearn", "torchvision") if m in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_module_over_400_lines_and_no_function_over_60():
    long_modules, long_functions = [], []
    for path in source_files(*PACKAGES, "deploy"):
        text = path.read_text()
        rel = path.relative_to(ROOT).as_posix()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(rel)
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            where = f"{rel}:{node.name}"
            if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES and where not in LONG_ALLOWED:
                long_functions.append(where)
    assert long_modules == [] and long_functions == []


def test_every_public_function_of_the_library_shows_how_it_is_called():
    """A ``>>>`` example in its own docstring (the CLI's handlers aside: tests/ml/test_cli.py runs them
    as a user would)."""
    missing = []
    for path in source_files("ml"):
        if "cli" in path.relative_to(ROOT).parts[1:2] and path.name != "__init__.py":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                if ">>>" not in (ast.get_docstring(node) or ""):
                    missing.append(f"{path.relative_to(ROOT).as_posix()}:{node.name}")
    assert missing == []


def test_the_suite_runs_the_librarys_examples():
    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "ml" in options["testpaths"] and "--doctest-modules" in options["addopts"]
