"""The selection file: every step's inputs in one TOML document a person can edit.

```toml
title = "CRM for Romashka LLC"
users = 12                      # people who will work in the CRM
seed = 7                        # Monte-Carlo seed (optional)

[problems]                      # step 1
selected = ["forgotten_callbacks", "no_sales_analytics"]
[[problems.custom]]
id = "samples"
text = {ru = "…", en = "…"}
functions = ["tasks"]

[deployment]                    # step 2: question id → cloud | boxed | either
access = "cloud"
decision = "cloud"              # optional: overrides the recommendation

[shortlist]                     # step 3
functions = ["funnel"]          # must-have functions
integrations = ["telephony"]    # must-have integrations
free_plan_users = 3             # optional: a free plan must cover this many users
add = ["envycrm"]
remove = {megaplan = "no sales funnel"}
verified = ["amocrm"]           # knock-outs the consultant has confirmed
size = 6

[[criteria]]                    # step 4 (default: step-1 functions + the standard five)
id = "tasks"
min_score = 3                   # optional knock-out threshold

[weights]
method = "points"               # or "ahp" with [[weights.pairwise]] a, b, ratio
points = {tasks = 30, reports = 20}

[scores.bitrix24]
tasks = {score = 4, evidence = "trial", confidence = "high", note = "…"}
reports = 5
support = {open = true}         # not scored yet ("score later"): asked of the vendor

[vendor]
finalists = ["bitrix24", "amocrm"]   # optional: default the top two
[vendor.bitrix24]
support_paid = "free chat; phone on paid plans"

[cost]                          # optional: the cost of ownership (crmkit/select/cost.py)
users = 12                      # default: the top-level users
years = 3                       # default 3
currency = "₽"
budget = 900000                 # optional knock-out over the years
criterion = "cost"              # optional: a criterion scored from the totals
[cost.systems.bitrix24]         # the consultant's estimates; amounts not negative
licence_per_user_month = 500    # or licence_plan_month = … (a plan's price per month)
implementation = 150000
integrations = 40000
training = 20000
addons_per_year = 12000
```

``read_selection`` reports every problem with file, line and key; the first one becomes the
one-line error of the CLI (exit 2).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmkit.errors import InputError
from crmkit.files import TomlDocument, parse_toml, read_text
from crmkit.i18n import Text, run_msg
from crmkit.schema import Node, root
from crmkit.select.catalog import INTEGRATIONS, Catalog
from crmkit.select.cost import (
    DEFAULT_CURRENCY,
    DEFAULT_YEARS,
    MAX_YEARS,
    CostInputs,
    SystemCostInput,
)
from crmkit.select.deployment import QUESTION_IDS, SIDES
from crmkit.select.matrix import (
    CONFIDENCE,
    EVIDENCE,
    SCORE_MAX,
    SCORE_MIN,
    Comparison,
    Criterion,
    Score,
)
from crmkit.select.problems import Library, Problem
from crmkit.select.shortlist import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE
from crmkit.select.vendor import is_question_id

STANDARD_CRITERIA = ("interface", "reports", "flexibility", "access_rights", "support")
_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Selection:
    source: str = "<selection>"
    title: str = ""
    users: int | None = None
    seed: int | None = None
    problems: tuple[str, ...] = ()
    custom_problems: tuple[Problem, ...] = ()
    deployment_answers: dict[str, str] = field(default_factory=dict)
    deployment_decision: str | None = None
    functions: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    free_plan_users: int | None = None
    add: tuple[str, ...] = ()
    remove: dict[str, str] = field(default_factory=dict)
    verified: tuple[str, ...] = ()
    size: int = DEFAULT_SIZE
    #: explicit criteria; empty: derived from step 1 (see ``default_criteria``)
    criteria: tuple[Criterion, ...] = ()
    weight_method: str = "points"
    points: dict[str, float] = field(default_factory=dict)
    comparisons: tuple[Comparison, ...] = ()
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)
    #: scores left open ("score later"): system → criteria, in the criteria's order
    open_scores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    finalists: tuple[str, ...] = ()
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    #: the cost of ownership's inputs (None: the file has no ``[cost]``)
    cost: CostInputs | None = None


def chosen_problems(selection: Selection, lib: Library) -> list[Problem]:
    out = [lib.problems[p] for p in selection.problems if p in lib.problems]
    return out + list(selection.custom_problems)


def default_criteria(problems: list[Problem], lib: Library) -> tuple[Criterion, ...]:
    """The step-1 functions (most problems solved first), then the standard criteria."""
    counts: dict[str, int] = {}
    for problem in problems:
        for fn in problem.functions:
            cid = lib.functions[fn].criterion_id if fn in lib.functions else fn
            counts[cid] = counts.get(cid, 0) + 1
    ids = sorted((c for c in counts if c not in STANDARD_CRITERIA), key=lambda c: -counts[c])
    out = []
    for cid in [*ids, *STANDARD_CRITERIA]:
        info = lib.criterion_info(cid)
        if info is not None:
            out.append(Criterion(cid, info.name, info.rubric))
    return tuple(out)


def _finite(node: Node, key: str | int, value: float | None) -> float | None:
    """``value`` unless it is NaN or infinite (TOML allows ``nan`` and ``inf``): then a problem."""
    if value is None or math.isfinite(value):
        return value
    node.error(run_msg("load.selection.not_finite", value=value), key)
    return None


def _key_on_line(text: str, line: int) -> str | None:
    """The key path a broken TOML line was defining (``[table]`` header + ``key =``)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    header = ""
    for raw in lines[: line - 1]:
        m = re.match(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?", raw)
        if m:
            header = m.group(1)
    m = re.match(r"\s*([A-Za-z0-9_.\"'-]+)\s*=", lines[line - 1])
    key = m.group(1).strip("\"'") if m else None
    if key is None:
        m = re.match(r"\s*\[\[?\s*([^\]]+?)\s*\]", lines[line - 1])
        return m.group(1) if m else (header or None)
    return f"{header}.{key}" if header else key


def parse_selection_text(text: str, name: str) -> TomlDocument:
    try:
        return parse_toml(text, name)
    except InputError as exc:
        where = exc.where or name
        m = re.search(r":(\d+):\d+$", where)
        key = _key_on_line(text, int(m.group(1))) if m else None
        raise InputError(exc.problem, where=where, key=key) from None


def load_selection(
    path: Path, catalog: Catalog, lib: Library, *, partial: bool = False
) -> Selection:
    doc = parse_selection_text(read_text(path), str(path))
    return read_selection(doc, catalog, lib, partial=partial)


def read_selection(
    doc: TomlDocument, catalog: Catalog, lib: Library, *, partial: bool = False
) -> Selection:
    """The selection in ``doc``; ``partial`` accepts a file the wizard has not finished."""
    from crmkit.kinds import expect_kind

    expect_kind(doc.data, "selection", doc.source.name)
    top = root(doc.data, doc.source)
    reader = _Reader(catalog, lib, partial)
    fields: dict[str, Any] = {"source": doc.source.name}
    fields["title"] = top.str("title") or ""
    fields["users"] = top.int("users", minimum=1)
    fields["seed"] = top.int("seed", minimum=0)
    top.str("version")  # free text, kept for people
    fields.update(reader.problems(top.table("problems")))
    fields.update(reader.deployment(top.table("deployment")))
    fields.update(reader.shortlist(top.table("shortlist")))
    criteria = reader.criteria(top.tables("criteria"), fields)
    fields["criteria"] = criteria
    crit_ids = [c.id for c in criteria]
    cost_node = top.table("cost")
    cost = reader.cost(cost_node, crit_ids) if cost_node is not None else None
    fields["cost"] = cost
    computed = (cost.criterion,) if cost is not None and cost.criterion else ()
    fields.update(reader.weights(top.table("weights", required=not partial), crit_ids))
    fields.update(reader.scores(top.table("scores", required=not partial), crit_ids, computed))
    fields.update(reader.vendor(top.table("vendor")))
    top.done()
    top.problems.raise_if_any()
    return Selection(**fields)


class _Reader:
    """The readers of a selection's tables, one method per step; each returns its fields."""

    def __init__(self, catalog: Catalog, lib: Library, partial: bool) -> None:
        self.catalog, self.lib, self.partial = catalog, lib, partial

    # -- shared ------------------------------------------------------------------------------
    def system_id(self, node: Node, key: str | int, value: str) -> str | None:
        if value in self.catalog:
            return value
        found = self.catalog.find(value)
        if found is None:
            node.error(run_msg("load.selection.unknown_system", value=value), key)
        return found

    def per_system(
        self, node: Node, twice: str, skip: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Node]]:
        """(system id, key, table) of each system's table in ``node``, once per system: a
        system under two names (an id and an alias) is the error ``twice``."""
        seen: dict[str, str] = {}
        for key in node.value:
            if key in skip:
                continue
            sid = self.system_id(node, key, key)
            table = node.table(key)
            if sid is None or table is None:
                continue
            if sid in seen:
                name = self.catalog.name(sid)
                problem = run_msg(twice, system=name, first=seen[sid], second=key)
                node.error(problem, key)
                continue
            seen[sid] = key
            yield sid, key, table

    def system_ids(self, node: Node, key: str) -> tuple[str, ...]:
        """A list of systems under ``key``, each as its id (unknown ones are problems)."""
        ids = []
        for index, value in enumerate(node.str_list(key)):
            sid = self.system_id(node.child({}, node.path + (key,)), index, value)
            if sid:
                ids.append(sid)
        return tuple(ids)

    @staticmethod
    def criterion_key(node: Node, key: str | int, cid: str, crit_ids: list[str]) -> bool:
        if cid in crit_ids:
            return True
        known = ", ".join(crit_ids)
        node.error(run_msg("load.selection.unknown_criterion", id=cid, known=known), key)
        return False

    # -- step 1 ------------------------------------------------------------------------------
    def problems(self, node: Node | None) -> dict[str, Any]:
        lib = self.lib
        custom: list[Problem] = []
        fields: dict[str, Any] = {"custom_problems": ()}
        if node is None:
            return fields
        selected = node.str_list("selected")
        for index, pid in enumerate(selected):
            if pid not in lib.problems:
                node.problems.add(
                    node.source,
                    node.path + ("selected", index),
                    run_msg(
                        "load.selection.unknown_problem", id=pid, known=", ".join(lib.problems)
                    ),
                )
        fields["problems"] = tuple(p for p in selected if p in lib.problems)
        for item in node.tables("custom"):
            custom.append(self._custom_problem(item))
        node.done()
        fields["custom_problems"] = tuple(custom)
        return fields

    def _custom_problem(self, node: Node) -> Problem:
        lib = self.lib
        pid = node.str("id", required=True, pattern=_ID, hint_key="schema.hint.id_lower") or ""
        fns = node.str_list("functions", required=True)
        for index, fn in enumerate(fns):
            if fn not in lib.functions:
                known = ", ".join(lib.functions)
                problem = run_msg("load.selection.unknown_function_known", id=fn, known=known)
                node.error(problem, index)
        text = node.text("text", required=True)
        node.done()
        return Problem(pid, text, tuple(f for f in fns if f in lib.functions), True)

    # -- step 2 ------------------------------------------------------------------------------
    @staticmethod
    def deployment(node: Node | None) -> dict[str, Any]:
        if node is None:
            return {}
        sides: dict[str, str] = {}
        for qid in QUESTION_IDS:
            side = node.str(qid, choices=SIDES)
            if side is not None:
                sides[qid] = side
        decision = node.str("decision", choices=SIDES)
        node.done()
        return {"deployment_answers": sides, "deployment_decision": decision}

    # -- step 3 ------------------------------------------------------------------------------
    def shortlist(self, short: Node | None) -> dict[str, Any]:
        if short is None:
            return {}
        fields: dict[str, Any] = {}
        fns = short.str_list("functions")
        for index, fn in enumerate(fns):
            if fn not in self.lib.functions:
                short.problems.add(
                    short.source,
                    short.path + ("functions", index),
                    run_msg("load.selection.unknown_function", id=fn),
                )
        fields["functions"] = tuple(fns)
        integ = short.str_list("integrations")
        for index, item in enumerate(integ):
            if item not in INTEGRATIONS:
                short.problems.add(
                    short.source,
                    short.path + ("integrations", index),
                    run_msg(
                        "load.selection.unknown_integration", id=item, known=", ".join(INTEGRATIONS)
                    ),
                )
        fields["integrations"] = tuple(integ)
        fields["free_plan_users"] = short.int("free_plan_users", minimum=1)
        fields["size"] = short.int("size", minimum=MIN_SIZE, maximum=MAX_SIZE, default=DEFAULT_SIZE)
        for key in ("add", "verified"):
            fields[key] = self.system_ids(short, key)
        remove = short.table("remove")
        if remove is not None:
            removed = {}
            for key in remove.value:
                reason = remove.str(key) or ""
                sid = self.system_id(remove, key, key)
                if sid:
                    removed[sid] = reason
            remove.done()
            fields["remove"] = removed
        short.done()
        return fields

    # -- step 4: criteria --------------------------------------------------------------------
    def criteria(self, nodes: list[Node], fields: dict[str, Any]) -> tuple[Criterion, ...]:
        """The criteria listed; none: those of step 1 (``fields`` holds the problems read)."""
        criteria: list[Criterion] = []
        seen: set[str] = set()
        for node in nodes:
            cid = node.str("id", required=True, pattern=_ID, hint_key="schema.hint.id_lower")
            if cid is None:
                continue
            if cid in seen:
                node.error(run_msg("load.selection.criterion_twice", id=cid), "id")
            seen.add(cid)
            criteria.append(self._criterion(node, cid))
        if not criteria:
            lib = self.lib
            probs = [lib.problems[p] for p in fields.get("problems", ()) if p in lib.problems]
            return default_criteria(probs + list(fields["custom_problems"]), lib)
        return tuple(criteria)

    def _criterion(self, node: Node, cid: str) -> Criterion:
        info = self.lib.criterion_info(cid)
        name = node.text("name") if node.has("name") else (info.name if info else Text())
        if not name:
            node.error(run_msg("load.selection.needs_name"), "name")
        rubric: tuple[Text, ...] = info.rubric if info else ()
        if node.has("rubric"):
            rubric = _read_rubric(node) or rubric
        elif info is None:
            node.error(run_msg("load.selection.needs_rubric"), "rubric")
        min_score = _finite(
            node, "min_score", node.float("min_score", minimum=SCORE_MIN, maximum=SCORE_MAX)
        )
        node.done()
        return Criterion(cid, name, rubric, min_score, custom=info is None)

    # -- step 4: weights ---------------------------------------------------------------------
    def weights(self, weights: Node | None, crit_ids: list[str]) -> dict[str, Any]:
        if weights is None:
            return {}
        method = weights.str("method", choices=("points", "ahp"), default="points") or "points"
        fields: dict[str, Any] = {"weight_method": method}
        points_node = weights.table("points", required=method == "points" and not self.partial)
        if points_node is not None:
            fields["points"] = self._points(points_node, method, crit_ids)
        pairs = weights.tables("pairwise")
        comparisons = self._comparisons(pairs, crit_ids)
        fields["comparisons"] = tuple(comparisons)
        if method == "ahp" and not self.partial and len(comparisons) == len(pairs):
            have = {frozenset((c.a, c.b)) for c in comparisons}
            for i, a in enumerate(crit_ids):
                for b in crit_ids[i + 1 :]:
                    if frozenset((a, b)) not in have:
                        weights.error(run_msg("load.selection.no_pair", a=a, b=b), "pairwise")
                        break
        weights.done()
        return fields

    def _points(self, node: Node, method: str, crit_ids: list[str]) -> dict[str, float]:
        points: dict[str, float] = {}
        for key in node.value:
            point = _finite(node, key, node.float(key, minimum=0))
            if self.criterion_key(node, key, key, crit_ids) and point is not None:
                points[key] = point
        node.done()
        misspelt = any(key not in crit_ids for key in node.value)
        if method == "points" and not misspelt:
            for cid in crit_ids:
                if cid not in node.value and not self.partial:
                    node.error(run_msg("load.selection.no_weight", id=cid))
            read_all = len(points) == len(node.value)
            if points and read_all and not any(v > 0 for v in points.values()):
                node.error(run_msg("load.selection.all_zero"))
        return points

    def _comparisons(self, pairs: list[Node], crit_ids: list[str]) -> list[Comparison]:
        comparisons = []
        compared: set[frozenset[str]] = set()
        for node in pairs:
            a = node.str("a", required=True)
            b = node.str("b", required=True)
            ratio = _finite(
                node, "ratio", node.float("ratio", required=True, minimum=1 / 9 - 1e-9, maximum=9)
            )
            ok = a is not None and self.criterion_key(node, "a", a, crit_ids)
            ok = b is not None and self.criterion_key(node, "b", b, crit_ids) and ok
            if ok and a == b:
                node.error(run_msg("load.selection.with_itself"), "b")
                ok = False
            if ok and ratio is not None and ratio <= 0:
                node.error(run_msg("load.selection.ratio"), "ratio")
                ok = False
            if ok and a and b:
                if frozenset((a, b)) in compared:
                    node.error(run_msg("load.selection.compared_twice", a=a, b=b))
                    ok = False
                compared.add(frozenset((a, b)))
            node.done()
            if ok and a and b and ratio:
                comparisons.append(Comparison(a, b, ratio))
        return comparisons

    # -- step 4: scores ----------------------------------------------------------------------
    def scores(
        self, node: Node | None, crit_ids: list[str], computed: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """``computed``: criteria scored by crmkit (the cost criterion), never by hand."""
        scores: dict[str, dict[str, Score]] = {}
        open_scores: dict[str, tuple[str, ...]] = {}
        if node is not None:
            for sid, _key, row_node in self.per_system(node, "load.selection.scored_twice"):
                row, left_open = self._score_row(row_node, crit_ids, computed)
                scores[sid] = row
                if left_open:
                    open_scores[sid] = tuple(c for c in crit_ids if c in left_open)
            node.done()
        return {"scores": scores, "open_scores": open_scores}

    def _score_row(
        self, row_node: Node, crit_ids: list[str], computed: tuple[str, ...]
    ) -> tuple[dict[str, Score], list[str]]:
        row: dict[str, Score] = {}
        left_open: list[str] = []
        for cid, value in row_node.value.items():
            if not self.criterion_key(row_node, cid, cid, crit_ids):
                row_node.raw(cid)
                continue
            if cid in computed:
                row_node.raw(cid)
                row_node.error(run_msg("load.selection.cost_scored", id=cid), cid)
                continue
            if _is_open(row_node, cid, value):
                left_open.append(cid)
                continue
            score = _read_score(row_node, cid, value)
            if score is not None:
                row[cid] = score
        row_node.done()
        misspelt = any(cid not in crit_ids for cid in row_node.value)
        if not self.partial and not misspelt:
            for cid in crit_ids:
                if cid not in row and cid not in row_node.value and cid not in computed:
                    row_node.error(run_msg("load.selection.no_score", id=cid))
        return row, left_open

    # -- step 5 ------------------------------------------------------------------------------
    def vendor(self, vendor: Node | None) -> dict[str, Any]:
        answers: dict[str, dict[str, str]] = {}
        fields: dict[str, Any] = {"answers": answers}
        if vendor is None:
            return fields
        fields["finalists"] = self.system_ids(vendor, "finalists")
        twice = "load.selection.answered_twice"
        for sid, _key, sheet in self.per_system(vendor, twice, skip=("finalists",)):
            got = {}
            for qid in sheet.value:
                text = sheet.str(qid)
                if not is_question_id(qid):
                    sheet.error(run_msg("load.selection.unknown_vendor_question", id=qid), qid)
                elif text is not None:
                    got[qid] = text
            sheet.done()
            answers[sid] = got
        return fields

    # -- cost of ownership -------------------------------------------------------------------
    def cost(self, node: Node, crit_ids: list[str]) -> CostInputs:
        """``[cost]``: users, years, currency, budget, criterion and ``[cost.systems.<id>]``."""
        users = node.int("users", minimum=1)
        years = node.int("years", minimum=1, maximum=MAX_YEARS, default=DEFAULT_YEARS)
        currency = node.str("currency", default=DEFAULT_CURRENCY) or DEFAULT_CURRENCY
        if not currency.strip() or len(currency) > 8:
            node.error(run_msg("load.selection.currency"), "currency")
            currency = DEFAULT_CURRENCY
        budget = _amount(node, "budget")
        criterion = node.str("criterion")
        if criterion is not None and not self.criterion_key(node, "criterion", criterion, crit_ids):
            criterion = None
        systems: dict[str, SystemCostInput] = {}
        table = node.table("systems")
        if table is not None:
            twice = "load.selection.cost_twice"
            for sid, _key, row in self.per_system(table, twice):
                systems[sid] = _cost_row(row)
            table.done()
        node.done()
        return CostInputs(users, years or DEFAULT_YEARS, currency, budget, criterion, systems)


def _read_rubric(node: Node) -> tuple[Text, ...] | None:
    """A criterion's own rubric: five sentences (strings or ``{ru, en, uk}``), else a problem."""
    raw = node.raw("rubric")
    if not isinstance(raw, list) or len(raw) != 5:
        node.error(run_msg("load.selection.rubric"), "rubric")
        return None
    items = []
    for item in raw:
        if isinstance(item, str) and item.strip():
            items.append(Text(item, item))
        elif (
            isinstance(item, dict)
            and set(item) <= {"ru", "en", "uk"}
            and all(isinstance(x, str) for x in item.values())
            and any(x.strip() for x in item.values())
        ):
            items.append(Text(item.get("ru", ""), item.get("en", "")))
    if len(items) == 5:
        return tuple(items)
    node.error(run_msg("load.selection.rubric_items"), "rubric")
    return None


def _amount(node: Node, key: str) -> float | None:
    """A sum of money: a finite number, not negative (else a problem naming ``key``)."""
    value = _finite(node, key, node.float(key))
    if value is not None and value < 0:
        node.error(run_msg("load.selection.negative", value=f"{value:g}"), key)
        return None
    return value


def _cost_row(node: Node) -> SystemCostInput:
    """One system's entered estimates: a licence price (per user or per plan) and the rest."""
    values = {key: _amount(node, key) for key in _COST_KEYS}
    if values["licence_per_user_month"] is not None and values["licence_plan_month"] is not None:
        node.error(run_msg("load.selection.one_licence"), "licence_plan_month")
    node.done()
    return SystemCostInput(**values)


_COST_KEYS = (
    "licence_per_user_month",
    "licence_plan_month",
    "implementation",
    "integrations",
    "training",
    "addons_per_year",
)


def _is_open(node: Node, cid: str, value: Any) -> bool:
    """``{open = true}``: the score is left for later (a note may say why)."""
    if not isinstance(value, dict) or "open" not in value:
        return False
    inner = node.table(cid)
    if inner is None:
        return False
    if "score" in value:
        inner.error(run_msg("load.selection.score_and_open"), "open")
    if inner.bool("open") is not True:
        inner.error(run_msg("load.selection.open_true"), "open")
    inner.str("evidence", choices=EVIDENCE)
    inner.str("confidence", choices=CONFIDENCE)
    inner.str("note")
    inner.done()
    return True


def _read_score(node: Node, cid: str, value: Any) -> Score | None:
    if isinstance(value, dict):
        inner = node.table(cid)
        if inner is None:
            return None
        number = _finite(
            inner,
            "score",
            inner.float("score", required=True, minimum=SCORE_MIN, maximum=SCORE_MAX),
        )
        evidence = inner.str("evidence", choices=EVIDENCE, default="none") or "none"
        confidence = inner.str("confidence", choices=CONFIDENCE, default="medium") or "medium"
        note = inner.str("note") or ""
        inner.done()
        return Score(number, evidence, confidence, note) if number is not None else None
    number = _finite(node, cid, node.float(cid, minimum=SCORE_MIN, maximum=SCORE_MAX))
    return Score(number) if number is not None else None
