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
    fields: dict[str, Any] = {"source": doc.source.name}
    fields["title"] = top.str("title") or ""
    fields["users"] = top.int("users", minimum=1)
    fields["seed"] = top.int("seed", minimum=0)
    top.str("version")  # free text, kept for people

    def system_id(node: Node, key: str | int, value: str) -> str | None:
        if value in catalog:
            return value
        found = catalog.find(value)
        if found is None:
            node.error(run_msg("load.selection.unknown_system", value=value), key)
        return found

    def per_system(
        node: Node, twice: str, skip: tuple[str, ...] = ()
    ) -> Iterator[tuple[str, str, Node]]:
        """(system id, key, table) of each system's table in ``node``, once per system: a
        system under two names (an id and an alias) is the error ``twice``."""
        seen: dict[str, str] = {}
        for key in node.value:
            if key in skip:
                continue
            sid = system_id(node, key, key)
            table = node.table(key)
            if sid is None or table is None:
                continue
            if sid in seen:
                problem = run_msg(twice, system=catalog.name(sid), first=seen[sid], second=key)
                node.error(problem, key)
                continue
            seen[sid] = key
            yield sid, key, table

    # step 1
    custom: list[Problem] = []
    problems = top.table("problems")
    if problems is not None:
        selected = problems.str_list("selected")
        for index, pid in enumerate(selected):
            if pid not in lib.problems:
                problems.problems.add(
                    problems.source,
                    problems.path + ("selected", index),
                    run_msg(
                        "load.selection.unknown_problem", id=pid, known=", ".join(lib.problems)
                    ),
                )
        fields["problems"] = tuple(p for p in selected if p in lib.problems)
        for node in problems.tables("custom"):
            pid = node.str("id", required=True, pattern=_ID, hint_key="schema.hint.id_lower") or ""
            fns = node.str_list("functions", required=True)
            for index, fn in enumerate(fns):
                if fn not in lib.functions:
                    known = ", ".join(lib.functions)
                    problem = run_msg("load.selection.unknown_function_known", id=fn, known=known)
                    node.error(problem, index)
            custom.append(
                Problem(
                    pid,
                    node.text("text", required=True),
                    tuple(f for f in fns if f in lib.functions),
                    True,
                )
            )
            node.done()
        problems.done()
    fields["custom_problems"] = tuple(custom)

    # step 2
    dep = top.table("deployment")
    if dep is not None:
        sides: dict[str, str] = {}
        for qid in QUESTION_IDS:
            side = dep.str(qid, choices=SIDES)
            if side is not None:
                sides[qid] = side
        fields["deployment_answers"] = sides
        fields["deployment_decision"] = dep.str("decision", choices=SIDES)
        dep.done()

    # step 3
    short = top.table("shortlist")
    if short is not None:
        fns = short.str_list("functions")
        for index, fn in enumerate(fns):
            if fn not in lib.functions:
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
            ids = []
            for index, value in enumerate(short.str_list(key)):
                sid = system_id(short.child({}, short.path + (key,)), index, value)
                if sid:
                    ids.append(sid)
            fields[key] = tuple(ids)
        remove = short.table("remove")
        if remove is not None:
            removed = {}
            for key in remove.value:
                reason = remove.str(key) or ""
                sid = system_id(remove, key, key)
                if sid:
                    removed[sid] = reason
            remove.done()
            fields["remove"] = removed
        short.done()

    # step 4: criteria
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for node in top.tables("criteria"):
        cid = node.str("id", required=True, pattern=_ID, hint_key="schema.hint.id_lower")
        if cid is None:
            continue
        if cid in seen:
            node.error(run_msg("load.selection.criterion_twice", id=cid), "id")
        seen.add(cid)
        info = lib.criterion_info(cid)
        name = node.text("name") if node.has("name") else (info.name if info else Text())
        if not name:
            node.error(run_msg("load.selection.needs_name"), "name")
        rubric: tuple[Text, ...] = info.rubric if info else ()
        if node.has("rubric"):
            raw = node.raw("rubric")
            if not isinstance(raw, list) or len(raw) != 5:
                node.error(run_msg("load.selection.rubric"), "rubric")
            else:
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
                    rubric = tuple(items)
                else:
                    node.error(run_msg("load.selection.rubric_items"), "rubric")
        elif info is None:
            node.error(run_msg("load.selection.needs_rubric"), "rubric")
        min_score = _finite(
            node, "min_score", node.float("min_score", minimum=SCORE_MIN, maximum=SCORE_MAX)
        )
        node.done()
        criteria.append(Criterion(cid, name, rubric, min_score, custom=info is None))
    if not criteria:
        probs = [lib.problems[p] for p in fields.get("problems", ()) if p in lib.problems]
        criteria = list(default_criteria(probs + custom, lib))
    fields["criteria"] = tuple(criteria)
    crit_ids = [c.id for c in criteria]

    def criterion_key(node: Node, key: str | int, cid: str) -> bool:
        if cid in crit_ids:
            return True
        known = ", ".join(crit_ids)
        node.error(run_msg("load.selection.unknown_criterion", id=cid, known=known), key)
        return False

    # step 4: weights
    weights = top.table("weights", required=not partial)
    if weights is not None:
        method = weights.str("method", choices=("points", "ahp"), default="points") or "points"
        fields["weight_method"] = method
        points_node = weights.table("points", required=method == "points" and not partial)
        if points_node is not None:
            points: dict[str, float] = {}
            for key in points_node.value:
                point = _finite(points_node, key, points_node.float(key, minimum=0))
                if criterion_key(points_node, key, key) and point is not None:
                    points[key] = point
            points_node.done()
            misspelt = any(key not in crit_ids for key in points_node.value)
            if method == "points" and not misspelt:
                for cid in crit_ids:
                    if cid not in points_node.value and not partial:
                        points_node.error(run_msg("load.selection.no_weight", id=cid))
                read_all = len(points) == len(points_node.value)
                if points and read_all and not any(v > 0 for v in points.values()):
                    points_node.error(run_msg("load.selection.all_zero"))
            fields["points"] = points
        comparisons = []
        compared: set[frozenset[str]] = set()
        pairs = weights.tables("pairwise")
        for node in pairs:
            a = node.str("a", required=True)
            b = node.str("b", required=True)
            ratio = _finite(
                node, "ratio", node.float("ratio", required=True, minimum=1 / 9 - 1e-9, maximum=9)
            )
            ok = a is not None and criterion_key(node, "a", a)
            ok = b is not None and criterion_key(node, "b", b) and ok
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
        fields["comparisons"] = tuple(comparisons)
        if method == "ahp" and not partial and len(comparisons) == len(pairs):
            have = {frozenset((c.a, c.b)) for c in comparisons}
            for i, a in enumerate(crit_ids):
                for b in crit_ids[i + 1 :]:
                    if frozenset((a, b)) not in have:
                        weights.error(run_msg("load.selection.no_pair", a=a, b=b), "pairwise")
                        break
        weights.done()

    # step 4: scores
    scores_node = top.table("scores", required=not partial)
    scores: dict[str, dict[str, Score]] = {}
    open_scores: dict[str, tuple[str, ...]] = {}
    if scores_node is not None:
        for sid, _key, row_node in per_system(scores_node, "load.selection.scored_twice"):
            row: dict[str, Score] = {}
            left_open: list[str] = []
            for cid, value in row_node.value.items():
                if not criterion_key(row_node, cid, cid):
                    row_node.raw(cid)
                    continue
                if _is_open(row_node, cid, value):
                    left_open.append(cid)
                    continue
                score = _read_score(row_node, cid, value)
                if score is not None:
                    row[cid] = score
            row_node.done()
            misspelt = any(cid not in crit_ids for cid in row_node.value)
            if not partial and not misspelt:
                for cid in crit_ids:
                    if cid not in row and cid not in row_node.value:
                        row_node.error(run_msg("load.selection.no_score", id=cid))
            scores[sid] = row
            if left_open:
                open_scores[sid] = tuple(c for c in crit_ids if c in left_open)
        scores_node.done()
    fields["scores"] = scores
    fields["open_scores"] = open_scores

    # step 5
    vendor = top.table("vendor")
    answers: dict[str, dict[str, str]] = {}
    if vendor is not None:
        finalists = []
        for index, value in enumerate(vendor.str_list("finalists")):
            sid = system_id(vendor.child({}, vendor.path + ("finalists",)), index, value)
            if sid:
                finalists.append(sid)
        fields["finalists"] = tuple(finalists)
        twice = "load.selection.answered_twice"
        for sid, _key, sheet in per_system(vendor, twice, skip=("finalists",)):
            got = {}
            for qid in sheet.value:
                text = sheet.str(qid)
                if not is_question_id(qid):
                    sheet.error(run_msg("load.selection.unknown_vendor_question", id=qid), qid)
                elif text is not None:
                    got[qid] = text
            sheet.done()
            answers[sid] = got
    fields["answers"] = answers
    top.done()
    top.problems.raise_if_any()
    return Selection(**fields)


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
