"""Two import-linter contract types the built-in ones do not cover, registered in pyproject.toml.

- ``acyclic_modules``: no module-level import cycle among the modules of the given packages. The built-in
  ``acyclic_siblings`` compares siblings inside each package, so it cannot see a package whose
  ``__init__`` re-exports a child that imports the package back; this contract looks at the whole module
  graph (Tarjan's strongly connected components) and prints one shortest cycle per component, with line
  numbers. Imports inside functions count: grimp reads every import statement.
- ``forbidden_external``: the given modules import no subpackage of an external distribution (for example
  ``google.cloud`` while ``google.auth`` stays allowed). import-linter's ``forbidden`` contract accepts only
  top-level external packages, because grimp squashes an external package into its top-level name; this
  contract reads the import statements themselves.

Both run under ``lint-imports`` (``make check``) and need no network; they are tooling, never shipped.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

import grimp
from importlinter import Contract, ContractCheck, fields, output

_FROM = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?\s*([\w\s,.]*)")
_IMPORT = re.compile(r"^\s*import\s+([\w\s,.]+)")


def _under(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _line(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    return f"l.{details[0]['line_number']}" if details else "?"


def strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the components with more than one module, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found)


def shortest_cycle(start: str, members: set[str], edges: dict[str, list[str]]) -> list[str]:
    """A shortest path start -> ... -> start inside one strongly connected component."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in edges.get(node, []):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if target in members and target not in previous:
                previous[target] = node
                queue.append(target)
    return [start]


class AcyclicModulesContract(Contract):
    """No import cycle among the modules of ``packages`` (at any depth, functions' bodies included)."""

    type_name = "acyclic_modules"
    packages = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        packages = list(self.packages)  # type: ignore[call-overload]
        nodes = sorted(m for m in graph.modules if _under(m, packages))
        edges = {m: sorted(t for t in graph.find_modules_directly_imported_by(m) if _under(t, packages))
                 for m in nodes}
        cycles = []
        for component in strongly_connected(nodes, edges):
            path = shortest_cycle(component[0], set(component), edges)
            steps = [f"{a} -> {b} ({_line(graph, a, b)})" for a, b in zip(path, path[1:], strict=False)]
            cycles.append({"modules": component, "steps": steps})
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"Import cycle among {', '.join(cycle['modules'])}:")
            for step in cycle["steps"]:
                output.indent_cursor()
                output.print_error(step, bold=False)
            output.new_line()


def imported_names(line: str) -> list[str]:
    """The dotted names one import statement's first line brings in (``from a.b import c`` gives ``a.b.c``)."""
    if match := _FROM.match(line):
        base, names = match.groups()
        names = [n.split(" as ")[0].strip() for n in names.split(",") if n.strip()]
        return [f"{base}.{n}" for n in names] or [base]
    if match := _IMPORT.match(line):
        return [n.split(" as ")[0].strip() for n in match.group(1).split(",") if n.strip()]
    return []


class ForbiddenExternalContract(Contract):
    """``source_modules`` import none of ``forbidden_modules`` (subpackages of external distributions)."""

    type_name = "forbidden_external"
    source_modules = fields.ListField(subfield=fields.StringField())
    forbidden_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        sources = list(self.source_modules)  # type: ignore[call-overload]
        forbidden = list(self.forbidden_modules)  # type: ignore[call-overload]
        tops = {f.split(".")[0] for f in forbidden}
        missing = tops - set(graph.modules)
        if missing and not self.session_options.get("include_external_packages"):
            raise ValueError("forbidden_external needs include_external_packages = true")
        found = []
        for module in sorted(m for m in graph.modules if _under(m, sources)):
            for top in sorted(tops & graph.find_modules_directly_imported_by(module)):
                for detail in graph.get_import_details(importer=module, imported=top):
                    names = imported_names(detail["line_contents"])
                    if any(_under(n, forbidden) for n in names):
                        found.append(f"{module} (l.{detail['line_number']}): {detail['line_contents'].strip()}")
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        forbidden = ", ".join(self.forbidden_modules)  # type: ignore[call-overload]
        output.print_error(f"Forbidden ({forbidden}):")
        for line in check.metadata["found"]:
            output.indent_cursor()
            output.print_error(line, bold=False)
        output.new_line()
