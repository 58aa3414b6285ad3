"""Step 1: typical business problems → the CRM functions and modules that solve them.

The library (``problems.toml``, ``criteria.toml``: package data) is read once; ``step1_table``
is pure: the chosen problems in, the table "problem → function" and the needed functions out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from crmkit.files import parse_toml
from crmkit.i18n import Lang, Text
from crmkit.schema import Node, root


@dataclass(frozen=True)
class Function:
    id: str
    module: str
    name: Text
    #: a short name, used as the criterion's name in the matrix
    short: Text
    #: the standard criterion that already scores this function (``analytics`` → ``reports``)
    criterion: str | None = None

    @property
    def criterion_id(self) -> str:
        return self.criterion or self.id


@dataclass(frozen=True)
class Problem:
    id: str
    text: Text
    functions: tuple[str, ...]
    custom: bool = False


@dataclass(frozen=True)
class CriterionInfo:
    id: str
    name: Text
    rubric: tuple[Text, ...]


@dataclass(frozen=True)
class Library:
    modules: dict[str, Text]
    functions: dict[str, Function]
    problems: dict[str, Problem]
    criteria: dict[str, CriterionInfo]
    function_rubric: tuple[Text, ...]

    def criterion_info(self, criterion_id: str) -> CriterionInfo | None:
        """The built-in name and rubric of a criterion: a standard one or a function."""
        if criterion_id in self.criteria:
            return self.criteria[criterion_id]
        function = self.functions.get(criterion_id)
        if function is not None:
            return CriterionInfo(criterion_id, function.short, self.function_rubric)
        return None


def _resource(name: str) -> Node:
    text = resources.files("crmkit.select").joinpath(name).read_text(encoding="utf-8")
    doc = parse_toml(text, f"crmkit/select/{name}")
    return root(doc.data, doc.source)


def _texts(node: Node, key: str) -> tuple[Text, ...]:
    out = []
    for index, item in enumerate(node.raw(key) or []):
        if isinstance(item, dict):
            out.append(
                Text(
                    ru=str(item.get("ru", "")),
                    en=str(item.get("en", "")),
                    uk=str(item.get("uk", "")),
                )
            )
        elif isinstance(item, str):
            out.append(Text(ru=item, en=item, uk=item))
        else:
            node.error("expected a text", index)
    return tuple(out)


@cache
def library() -> Library:
    data = _resource("problems.toml")
    modules_node = data.table("modules", required=True)
    modules: dict[str, Text] = {}
    if modules_node is not None:
        for key in modules_node.value:
            modules[key] = modules_node.text(key)
        modules_node.done()
    functions: dict[str, Function] = {}
    fnode = data.table("functions", required=True)
    for key, value in (fnode.value if fnode else {}).items():
        assert fnode is not None
        node = fnode.child(value, fnode.path + (key,))
        functions[key] = Function(
            id=key,
            module=node.str("module", required=True, choices=tuple(modules)) or "",
            name=node.text("name", required=True),
            short=node.text("short", required=True),
            criterion=node.str("criterion"),
        )
        node.done()
    problems: dict[str, Problem] = {}
    pnode = data.table("problems", required=True)
    for key, value in (pnode.value if pnode else {}).items():
        assert pnode is not None
        node = pnode.child(value, pnode.path + (key,))
        fns = node.str_list("functions", required=True)
        for index, fn in enumerate(fns):
            if fn not in functions:
                node.problems.add(
                    node.source, node.path + ("functions", index), f"unknown function '{fn}'"
                )
        problems[key] = Problem(id=key, text=node.text("text", required=True), functions=tuple(fns))
        node.done()
    data.done()
    crit = _resource("criteria.toml")
    criteria: dict[str, CriterionInfo] = {}
    cnode = crit.table("criteria", required=True)
    for key, value in (cnode.value if cnode else {}).items():
        assert cnode is not None
        node = cnode.child(value, cnode.path + (key,))
        criteria[key] = CriterionInfo(key, node.text("name", required=True), _texts(node, "rubric"))
        node.done(allowed_extra=("rubric",))
    rubric_node = crit.table("function_rubric", required=True)
    function_rubric = _texts(rubric_node, "rubric") if rubric_node else ()
    if rubric_node is not None:
        rubric_node.done(allowed_extra=("rubric",))
    crit.done()
    data.problems.raise_if_any()
    crit.problems.raise_if_any()
    return Library(modules, functions, problems, criteria, function_rubric)


# -- the step-1 table (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class Step1Row:
    problem: Problem
    functions: tuple[Function, ...]


@dataclass(frozen=True)
class Step1:
    rows: tuple[Step1Row, ...]
    #: the needed functions, most problems solved first (then in the order they first appear)
    functions: tuple[Function, ...] = field(default=())
    solves: dict[str, int] = field(default_factory=dict)

    def to_dict(self, lang: Lang) -> dict[str, Any]:
        return {
            "problems": [
                {
                    "id": row.problem.id,
                    "problem": row.problem.text.get(lang),
                    "functions": [f.id for f in row.functions],
                }
                for row in self.rows
            ],
            "functions": [
                {
                    "id": f.id,
                    "name": f.name.get(lang),
                    "module": f.module,
                    "solves": self.solves[f.id],
                }
                for f in self.functions
            ],
        }


def step1_table(problems: list[Problem], lib: Library) -> Step1:
    rows = []
    order: list[str] = []
    solves: dict[str, int] = {}
    for problem in problems:
        fns = tuple(lib.functions[f] for f in problem.functions if f in lib.functions)
        rows.append(Step1Row(problem, fns))
        for fn in fns:
            if fn.id not in solves:
                order.append(fn.id)
            solves[fn.id] = solves.get(fn.id, 0) + 1
    ranked = sorted(order, key=lambda f: (-solves[f], order.index(f)))
    return Step1(tuple(rows), tuple(lib.functions[f] for f in ranked), solves)
