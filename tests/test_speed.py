"""What the speed work changed must not change what crmkit says: the message catalog finds every
key while parsing fewer files, SVG text is escaped as before, and (below) positions, indexes,
the matrix and the sandbox's pages give the same answers as the straightforward code did."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as sax_escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import i18n
from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import lint
from crmkit.blueprints.loader import _Layers, load_blueprint
from crmkit.blueprints.model import (
    Blueprint,
    CustomField,
    FieldGroup,
    Pipeline,
    Role,
    SmartProcess,
    Stage,
    bitrix_field_name,
)
from crmkit.blueprints.service import list_library
from crmkit.export.svg import esc
from crmkit.files import parse_toml
from crmkit.i18n import Text
from crmkit.sandbox.listing import Page, apply_filter, apply_order, page_of
from crmkit.schema import LoadError, Problems
from crmkit.select.matrix import (
    SPREAD,
    TIE,
    _partials,
    normalise,
    weighted_mean,
    win_probability,
)
from crmkit.tomlpos import DeferredPositions, array_headers, locate

# -- the message catalog ----------------------------------------------------------------------


def test_a_fresh_catalog_finds_every_key_of_every_file() -> None:
    every = i18n.all_messages()
    assert len(every) > 500
    for key, entry in every.items():
        assert i18n._Catalog(i18n._LOCALE).get(key) == entry, key


def test_a_missing_key_parses_only_the_files_that_could_hold_it() -> None:
    catalog = i18n._Catalog(i18n._LOCALE)
    others = set(catalog.pending)
    # an optional help text: only messages.toml has [cmd.crmkit], and it is parsed already
    assert catalog.get("cmd.crmkit.opt.lang") is None
    assert set(catalog.pending) == others
    assert catalog.get("cmd.blueprint.opt.lang") is None
    assert set(catalog.pending) == others - {"blueprint.toml"}
    assert catalog.get("no.such.key") is None
    assert set(catalog.pending) == others - {"blueprint.toml"}


def test_prefixes_of_a_locale_text() -> None:
    text = (
        'top = {ru = "в", en = "t"}\n'
        "dotted.key = 1\n"
        "[cmd.x]\n"
        'help = {ru = "а", en = "a"}\n'
        '  [ "spaced" . quoted ]  # a comment\n'
        "later = 2\n"
        "[[arr.of]]\n"
    )
    assert i18n._prefixes(text) == {"top", "dotted", "cmd.x", "spaced.quoted", "arr.of"}


def test_help_parses_the_common_messages_only() -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from crmkit.cli import run\n"
        "from crmkit.cli.context import AppContext\n"
        "from crmkit import i18n\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    run(['--help'], AppContext())\n"
        "print(json.dumps(sorted(i18n._catalog().pending)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    pending = set(json.loads(out))
    assert "messages.toml" not in pending
    assert {"blueprint.toml", "select.toml", "push.toml", "assess.toml"} <= pending


# -- SVG escaping -----------------------------------------------------------------------------


@given(st.text(alphabet=st.sampled_from("ab&<>\"';#é\n"), max_size=20))
def test_svg_escaping_is_what_saxutils_gave(text: str) -> None:
    assert esc(text) == sax_escape(text, {'"': "&quot;", "'": "&apos;"})


def test_svg_module_loads_no_network_modules() -> None:
    code = "import sys, crmkit.export.svg\nprint(sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "xml.sax" not in out
    assert "'ssl'" not in out


# -- TOML positions, found only when a complaint needs a line ----------------------------------


def test_positions_are_scanned_only_when_a_line_is_asked_for(tmp_path: Path) -> None:
    doc = parse_toml('[blueprint]\nid = "x"\n\n[[roles]]\ncode = "a"\nname = 5\n', "bp.toml")
    positions = doc.source.positions
    assert isinstance(positions, DeferredPositions) and positions._text is not None
    assert doc.source.where(("roles", 0, "name")) == "bp.toml:6"
    assert positions._text is None and positions.lines[("roles", 0, "code")] == 5
    assert positions.lines == locate(doc.text).lines


def test_a_load_error_still_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bp.toml"
    path.write_text(
        '[blueprint]\nid = "x"\n\n[[pipelines]]\ncode = "p"\nkind = "deal"\nname = "P"\n'
        '[[pipelines.stages]]\ncode = "A"\nname = "A"\nmax_time = "soon"\n',
        encoding="utf-8",
    )
    with pytest.raises(LoadError) as caught:
        Library.default().load_path_or_id(str(path))
    assert caught.value.where == f"{path}:11"
    assert caught.value.key == "pipelines[0].stages[0].max_time"


# -- merging stages: the same order as a scan of the list per stage gave ------------------------

_CODES = st.sampled_from(["A", "B", "C", "D", "E", 1, True])
_STAGE = st.fixed_dictionaries(
    {"code": _CODES, "n": st.integers(0, 3)},
    optional={
        "semantics": st.sampled_from(["process", "success", "failure"]),
        "after": st.one_of(_CODES, st.just(["A"])),
    },
)
_ENTRY = st.one_of(_STAGE, _STAGE, _STAGE, st.just("not a table"), st.just({"n": 9}))


def _reference_insert(stages: list[Any], body: dict[str, Any], stage: dict[str, Any]) -> None:
    after = stage.get("after")
    where = None
    if isinstance(after, str):
        where = next(
            (i for i, s in enumerate(stages) if isinstance(s, dict) and s.get("code") == after),
            None,
        )
    if where is None:
        stages.append(body)
    else:
        stages.insert(where + 1, body)


def _reference_merge(base: dict[str, Any] | None, over: dict[str, Any]) -> list[Any]:
    """The merge as it was: a scan of the list for every stage."""
    stages: list[Any] = [s for s in (base or {}).get("stages", []) if isinstance(s, dict)]
    drops = over.get("drop_stages", [])
    if isinstance(drops, list):
        stages = [s for s in stages if s.get("code") not in drops]
    for stage in over.get("stages", []):
        if not isinstance(stage, dict):
            stages.append(stage)
            continue
        existing = next(
            (
                i
                for i, s in enumerate(stages)
                if isinstance(s, dict) and s.get("code") == stage.get("code")
            ),
            None,
        )
        body = {k: v for k, v in stage.items() if k != "after"}
        if existing is not None and base is not None:
            stages[existing] = {**stages[existing], **body}
            if "after" in stage:
                _reference_insert(stages, stages.pop(existing), stage)
        elif "after" in stage:
            _reference_insert(stages, body, stage)
        elif base is not None and body.get("semantics", "process") == "process":
            first_final = next(
                (
                    i
                    for i, s in enumerate(stages)
                    if isinstance(s, dict) and s.get("semantics", "process") != "process"
                ),
                len(stages),
            )
            stages.insert(first_final, body)
        else:
            stages.append(body)
    return stages


@settings(max_examples=400, deadline=None)
@given(
    base=st.one_of(st.none(), st.lists(_ENTRY, max_size=12)),
    over=st.lists(_ENTRY, max_size=16),
    drops=st.one_of(st.none(), st.lists(_CODES, max_size=3), st.just([["A"]])),
)
def test_stage_merging_matches_a_scan_per_stage(
    base: list[Any] | None, over: list[Any], drops: list[Any] | None
) -> None:
    base_pipeline = None if base is None else {"code": "p", "stages": base}
    over_pipeline: dict[str, Any] = {"code": "p", "stages": over}
    if drops is not None:
        over_pipeline["drop_stages"] = drops
    layers = _Layers(Library.default().resolver(), Problems())
    merged = layers._merge_pipeline(base_pipeline, over_pipeline)
    assert merged["stages"] == _reference_merge(base_pipeline, over_pipeline)


def test_a_long_pipeline_extending_another_keeps_its_order(tmp_path: Path) -> None:
    lines = ['[[pipelines]]\ncode = "base"\nkind = "deal"\nname = "Base"']
    for code, semantics in (("NEW", "process"), ("WON", "success"), ("LOST", "failure")):
        lines.append(
            f'[[pipelines.stages]]\ncode = "{code}"\nname = "{code}"\nsemantics = "{semantics}"'
        )
    lines.append('[[pipelines]]\ncode = "long"\nextends = "base"\nname = "Long"')
    for number in range(300):
        lines.append(f'[[pipelines.stages]]\ncode = "S{number}"\nname = "S{number}"')
    lines.append('[[pipelines.stages]]\ncode = "NEW"\nafter = "S149"')
    path = tmp_path / "long.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    long = Library.default().load_path_or_id(str(path)).pipeline("long")
    assert long is not None
    codes = [s.code for s in long.stages]
    assert codes == [f"S{n}" for n in range(150)] + ["NEW"] + [f"S{n}" for n in range(150, 300)] + [
        "WON",
        "LOST",
    ]


# -- lookups by code: the first entry, as a scan from the start found it ----------------------

_FIELD_CODES = st.sampled_from(["score", "SCORE", "UF_CRM_SCORE", "uf_score", "budget", "x"])
_ENTITY = st.sampled_from(["lead", "deal", "contact", "tenders"])


@settings(max_examples=200, deadline=None)
@given(
    fields=st.lists(st.tuples(_ENTITY, _FIELD_CODES, st.integers(0, 9)), max_size=10),
    roles=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 9)), max_size=5),
    groups=st.lists(st.tuples(_ENTITY, st.sampled_from(["g", "h"]), st.integers(0, 9)), max_size=5),
    stages=st.lists(st.tuples(st.sampled_from(["N", "W", "X"]), st.integers(0, 9)), max_size=6),
    processes=st.lists(
        st.tuples(st.sampled_from(["tenders", "t2"]), st.integers(0, 9)), max_size=3
    ),
)
def test_index_lookups_find_the_first_entry(
    fields: list[tuple[str, str, int]],
    roles: list[tuple[str, int]],
    groups: list[tuple[str, str, int]],
    stages: list[tuple[str, int]],
    processes: list[tuple[str, int]],
) -> None:
    bp = Blueprint(
        id="x",
        name=Text("x", "x"),
        roles=tuple(Role(c, Text(str(n), str(n))) for c, n in roles),
        smart_processes=tuple(SmartProcess(c, Text(str(n), str(n))) for c, n in processes),
        field_groups=tuple(FieldGroup(c, e, Text(str(n), str(n))) for e, c, n in groups),
        fields=tuple(CustomField(e, c, "string", Text(str(n), str(n))) for e, c, n in fields),
        pipelines=(
            Pipeline(
                "p",
                "deal",
                Text("p", "p"),
                tuple(Stage(c, Text(str(n)), "process") for c, n in stages),
            ),
        ),
    )
    pipeline = bp.pipelines[0]
    for code in ("a", "b", "c", "z"):
        assert bp.role(code) is next((r for r in bp.roles if r.code == code), None)
    for code in ("N", "W", "X", "Z"):
        assert pipeline.stage(code) is next((s for s in pipeline.stages if s.code == code), None)
    for code in ("tenders", "t2", "zz", None):
        found = next((s for s in bp.smart_processes if s.code == code), None)
        assert bp.smart_process(code) is found
    for entity in ("lead", "deal", "contact", "tenders", "company"):
        assert bp.fields_of(entity) == tuple(f for f in bp.fields if f.entity == entity)
        for group in ("g", "h", None):
            found_group = next(
                (g for g in bp.field_groups if g.code == group and g.entity == entity), None
            )
            assert bp.field_group(entity, group) is found_group
        for code in ("score", "budget", "x", "other"):
            name = bitrix_field_name(code.upper())
            assert bp.custom_field(name, entity) is next(
                (f for f in bp.fields if f.field_name == name and f.entity == entity), None
            )
            assert bp.custom_field(name) is next(
                (f for f in bp.fields if f.field_name == name), None
            )


def test_lint_finds_unknown_required_fields_as_a_scan_did() -> None:
    """BP019 for each required field that is neither standard nor a field of the pipeline's
    entity, whatever the order and the duplicates."""
    fields = (
        CustomField("deal", "score", "string", Text("s", "s")),
        CustomField("lead", "budget", "string", Text("b", "b")),
        CustomField("tenders", "UF_CRM_LOT", "string", Text("l", "l")),
        CustomField("deal", "SCORE", "string", Text("s2", "s2")),
    )
    required = ("score", "UF_CRM_SCORE", "budget", "phone", "lot", "UF_CRM_LOT", "nope")
    pipelines = (
        Pipeline(
            "d",
            "deal",
            Text("d", "d"),
            (Stage("A", Text("A", "A"), "process", required_fields=required),),
        ),
        Pipeline(
            "l",
            "lead",
            Text("l", "l"),
            (Stage("A", Text("A", "A"), "process", required_fields=required),),
        ),
        Pipeline(
            "t",
            "smart_process",
            Text("t", "t"),
            (Stage("A", Text("A", "A"), "process", required_fields=required),),
            process="tenders",
        ),
    )
    bp = Blueprint(
        "x",
        Text("x", "x"),
        smart_processes=(SmartProcess("tenders", Text("t", "t")),),
        pipelines=pipelines,
        fields=fields,
    )
    found = sorted(
        (f.path.split(".")[0], f.message.split("unknown field '")[1].split("'")[0])
        for f in lint(bp)
        if f.rule == "BP019"
    )
    unknown = sorted(
        (f"pipelines[{p.code}]", name)
        for p in pipelines
        for name in required
        if name.upper() != "PHONE"
        and not any(
            f.field_name == bitrix_field_name(name.upper())
            and f.entity == (p.process if p.kind == "smart_process" else p.kind)
            for f in fields
        )
    )
    assert found == unknown
    assert ("pipelines[d]", "lot") in found and ("pipelines[t]", "lot") not in found
    assert ("pipelines[d]", "UF_CRM_SCORE") not in found


# -- the library parses each file once per process ---------------------------------------------


def test_blueprint_list_parses_each_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import crmkit.blueprints.library as library_module
    import crmkit.blueprints.loader as loader_module

    parsed: list[str] = []

    def counting(text: str, name: str) -> Any:
        parsed.append(Path(name).name)
        return parse_toml(text, name)

    monkeypatch.setattr(library_module, "parse_toml", counting)
    monkeypatch.setattr(loader_module, "parse_toml", counting)
    library = Library.default()
    entries = list_library(library)
    assert len(entries) == len(library.ids()) >= 14
    assert sorted(parsed) == sorted(f"{e.id}.toml" for e in entries)


def test_a_changed_file_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "bp.toml"
    text = '[[pipelines]]\ncode = "p"\nkind = "deal"\nname = "P"\n'
    path.write_text(text + '[[pipelines.stages]]\ncode = "A"\nname = "A"\n', encoding="utf-8")
    library = Library.default()
    assert [s.code for s in library.load_path_or_id(str(path)).pipelines[0].stages] == ["A"]
    path.write_text(text + '[[pipelines.stages]]\ncode = "B"\nname = "B"\n', encoding="utf-8")
    assert [s.code for s in library.load_path_or_id(str(path)).pipelines[0].stages] == ["B"]


# -- the matrix: the same floats as the straightforward sums -----------------------------------

_WEIGHT = st.one_of(
    st.sampled_from([0.0, 1.0, 0.5, 1e-9, 3.0, 7.0, 1e12]),
    st.floats(min_value=0, max_value=10, allow_nan=False),
)
_VALUE = st.one_of(st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, 2.5]), st.floats(1, 5))


def _reference_win_probability(
    weights: dict[str, float], values: dict[str, dict[str, float]], seed: int, draws: int
) -> dict[str, float]:
    """The Monte-Carlo as it was: dictionaries, ``uniform`` and ``weighted_mean`` per system."""
    rng = random.Random(seed)
    wins = dict.fromkeys(values, 0.0)
    for _ in range(draws):
        varied = {c: w * rng.uniform(1 - SPREAD, 1 + SPREAD) for c, w in weights.items()}
        if math.fsum(varied.values()) <= 0:
            continue
        scores = {s: weighted_mean(varied, v) for s, v in values.items()}
        best = max(scores.values())
        winners = [s for s, x in scores.items() if x >= best - TIE]
        for s in winners:
            wins[s] += 1 / len(winners)
    return {s: n / draws for s, n in wins.items()}


@settings(max_examples=300, deadline=None)
@given(
    weights=st.lists(_WEIGHT, min_size=1, max_size=12),
    rows=st.lists(st.lists(_VALUE, min_size=12, max_size=12), min_size=1, max_size=6),
    twins=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_win_probability_is_the_same_floats(
    weights: list[float], rows: list[list[float]], twins: bool, seed: int
) -> None:
    criteria = [f"c{i}" for i in range(len(weights))]
    points = dict(zip(criteria, weights, strict=True))
    values = {f"s{j}": dict(zip(criteria, row, strict=False)) for j, row in enumerate(rows)}
    if twins:  # equal systems: ties split
        values["twin"] = dict(values["s0"])
    for given_weights in (points, normalise(points) if sum(weights) > 0 else points):
        expected = _reference_win_probability(given_weights, values, seed, 150)
        found = win_probability(given_weights, values, seed=seed, draws=150)
        assert repr(found) == repr(expected)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_WEIGHT, st.floats(-1e6, 1e6)), min_size=1, max_size=30))
def test_a_sum_without_one_term_is_the_sum_of_the_others(values: list[float]) -> None:
    parts = _partials(values)
    assert math.fsum(parts) == math.fsum(values)
    for index, value in enumerate(values):
        others = values[:index] + values[index + 1 :]
        assert repr(math.fsum([*parts, -value])) == repr(math.fsum(others))


def test_a_score_at_the_tie_cut_off_is_decided_by_fsum() -> None:
    """Scores TIE apart sit on the cut-off, where plain addition might decide otherwise: such
    a draw is summed exactly, and the shares are still the reference's."""
    for gap in (TIE, TIE * (1 + 1e-7), TIE * (1 - 1e-7), 2e-16):
        weights = {"a": 0.3, "b": 0.7}
        values = {"x": {"a": 3.0, "b": 3.0}, "y": {"a": 3.0 - gap, "b": 3.0 - gap}}
        expected = _reference_win_probability(weights, values, 3, 200)
        assert repr(win_probability(weights, values, seed=3, draws=200)) == repr(expected)


# -- the sandbox's pages: what the filtered and ordered table gave ------------------------------

_DEAL_FILTERS: list[dict[str, Any]] = [
    {},
    {">ID": 100},
    {">=ID": "101"},
    {"<ID": 40},
    {"STAGE_SEMANTIC_ID": "P"},
    {"CATEGORY_ID": 0},
    {">OPPORTUNITY": 50000},
    {"%TITLE": "1"},
    {"!STAGE_SEMANTIC_ID": "S", ">ID": 20},
    {"0": {"logic": "OR", "STAGE_SEMANTIC_ID": "S", ">OPPORTUNITY": 90000}},
    {"<DATE_CREATE": "2026-06-01"},
]
_DEAL_ORDERS: list[dict[str, Any] | None] = [
    None,
    {"ID": "ASC"},
    {"ID": "DESC"},
    {"DATE_CREATE": "DESC"},
    {"OPPORTUNITY": "ASC", "ID": "DESC"},
    {"STAGE_ID": "asc", "DATE_CREATE": "DESC"},
    {"title": "ASC"},
]
_STARTS: list[Any] = [None, -1, 0, 50, 137, 10**6, "abc", -3]


def _reference_page(rows: list[dict[str, Any]], params: dict[str, Any], **options: Any) -> Page:
    """A list page as it was made: the whole table filtered, ordered and cut."""
    kept = apply_filter(rows, params.get("filter", {}), **options.get("filter", {}))
    ordered = apply_order(
        kept, params.get("order") or options["default"], **options.get("sort", {})
    )
    return page_of(ordered, params.get("start"))


def _call(sandbox: Any, method: str, params: dict[str, Any]) -> tuple[Any, Any, Any]:
    outcome = sandbox.portal.call(method, json.loads(json.dumps(params)))
    return outcome.result, outcome.total, outcome.next


def _deal_lists_match(sandbox: Any) -> None:
    from crmkit.sandbox.methods.entities import _select

    for conditions in _DEAL_FILTERS:
        for order in _DEAL_ORDERS:
            for start in _STARTS:
                params: dict[str, Any] = {"filter": conditions, "start": start, "select": ["*"]}
                if order is not None:
                    params["order"] = order
                page = _reference_page(sandbox.store.rows("deal"), params, default={"ID": "ASC"})
                expected = ([_select("deal", r, ["*"]) for r in page.result], page.total, page.next)
                assert _call(sandbox, "crm.deal.list", params) == expected, params


def test_deal_pages_are_the_pages_of_the_sorted_table() -> None:
    from crmkit.sandbox import start_sandbox
    from crmkit.sandbox.volume import Volume

    sandbox = start_sandbox(rate=None, seed=3, volume=Volume(deals=300, leads=20, activities=60))
    try:
        _deal_lists_match(sandbox)
        # the kept orders follow changes: an update, a delete, a new deal
        portal = sandbox.portal
        portal.call("crm.deal.update", {"id": 7, "fields": {"OPPORTUNITY": 1, "TITLE": "zzz"}})
        portal.call("crm.deal.delete", {"id": 8})
        portal.call("crm.deal.add", {"fields": {"TITLE": "new", "OPPORTUNITY": 99999}})
        _deal_lists_match(sandbox)
    finally:
        sandbox.stop()


def test_activity_pages_with_bindings_and_the_default_order() -> None:
    from crmkit.sandbox import start_sandbox
    from crmkit.sandbox.methods.entities import (
        _bindings_match,
        _owner_filter,
        _owner_match,
        _select,
    )
    from crmkit.sandbox.volume import Volume

    sandbox = start_sandbox(rate=None, seed=4, volume=Volume(deals=80, leads=20, activities=200))
    try:
        special = {"BINDINGS": _bindings_match, "\x00OWNER": _owner_match}
        for conditions in (
            {},
            {"OWNER_TYPE_ID": 2},
            {"COMPLETED": "N", "OWNER_TYPE_ID": 2, "<DEADLINE": "2026-01-01T00:00:00+03:00"},
            {"BINDINGS": [{"OWNER_TYPE_ID": 2, "OWNER_ID": 5}]},
        ):
            for order in (None, {"ID": "DESC"}, {"DEADLINE": "ASC"}):
                for start in (None, -1, 50, 150):
                    params: dict[str, Any] = {"filter": conditions, "start": start}
                    if order is not None:
                        params["order"] = order
                    page = _reference_page(
                        sandbox.store.rows("activity"),
                        {**params, "filter": _owner_filter(conditions)},
                        default={"START_TIME": "ASC"},
                        filter={"special": special},
                    )
                    expected = (
                        [_select("activity", r, []) for r in page.result],
                        page.total,
                        page.next,
                    )
                    assert _call(sandbox, "crm.activity.list", params) == expected, params
    finally:
        sandbox.stop()


def test_item_pages_of_deals_and_of_a_smart_process() -> None:
    from crmkit.sandbox import start_sandbox
    from crmkit.sandbox.methods.entities import _Items
    from crmkit.sandbox.volume import Volume

    sandbox = start_sandbox(rate=None, seed=5, volume=Volume(deals=150, leads=60, activities=10))
    try:
        portal = sandbox.portal
        created = portal.call(
            "crm.type.add", {"fields": {"title": "Тендеры", "isCategoriesEnabled": "Y"}}
        ).result
        etid = created["type"]["entityTypeId"]
        for number in range(120):
            fields = {"title": f"Лот {number}", "opportunity": (number * 37) % 1000}
            portal.call("crm.item.add", {"entityTypeId": etid, "fields": fields})
        filters: list[dict[str, Any]] = [
            {},
            {">id": 30},
            {"stageId": "C2:NEW"},
            {">opportunity": 50000},
            {"%title": "1"},
            {"STAGE_ID": "C2:NEW"},  # not a crm.item name: matches nothing
            {"0": {"logic": "OR", "stageSemanticId": "S", "<opportunity": 300}},
            {"!ufCrmDealSourceDetail": ""},
        ]
        orders: list[dict[str, Any] | None] = [
            None,
            {"id": "DESC"},
            {"opportunity": "DESC"},
            {"createdTime": "ASC", "id": "DESC"},
            {"ID": "ASC"},
        ]
        for entity_type in (2, 1, etid):
            items = _Items(portal, entity_type)
            for conditions in filters:
                for order in orders:
                    for start in (None, -1, 50, 101):
                        params: dict[str, Any] = {
                            "entityTypeId": entity_type,
                            "filter": conditions,
                            "start": start,
                        }
                        if order is not None:
                            params["order"] = order
                        page = _reference_page(
                            items.rows(),
                            params,
                            default={},
                            filter={"fold_case": False},
                            sort={"id_field": "id", "fold_case": False},
                        )
                        expected = (
                            {"items": [items.render(r, []) for r in page.result]},
                            page.total,
                            page.next,
                        )
                        assert _call(sandbox, "crm.item.list", params) == expected, params
            for rid in (1, 7, 10**6):
                row = next((r for r in items.rows() if r["id"] == rid), None)
                if row is None:
                    continue
                got = portal.call("crm.item.get", {"entityTypeId": entity_type, "id": rid})
                assert got.result == {"item": items.render(row, [])}
    finally:
        sandbox.stop()


# -- lines of [[…]] headers, found without the full scan: the lines the scan gives -------------

_VALUES = (
    "1",
    '"text"',
    '"[[not.a.header]]"',
    "{a = 1, b = [1, 2]}",
    "[1, 2, 3]",
    "[\n  1,\n  [2, 3],\n]",
    "'literal [x]'",
    "2026-01-02",
)


def _random_toml(rng: random.Random) -> tuple[str, int]:
    """A valid TOML text with nested arrays of tables under ``[[…]]`` headers, plain tables,
    comments and values with brackets in them; and how many ``[[…]]`` headers it has."""
    lines: list[str] = []
    headers = 0

    def table(prefix: str, depth: int) -> None:
        nonlocal headers
        for number in range(rng.randint(0, 3)):
            lines.append(f"k{number} = {rng.choice(_VALUES)}")
        if rng.random() < 0.3:
            lines.append("# [[commented.out]]")
        if depth >= 3:
            return
        for name in rng.sample(["p", "s", "q"], rng.randint(0, 2)):
            full = f"{prefix}.{name}" if prefix else name
            for _ in range(rng.randint(1, 3)):
                spaced = full.replace(".", " . ") if rng.random() < 0.2 else full
                comment = "  # a comment" if rng.random() < 0.2 else ""
                lines.append("")
                lines.append(f"[[{spaced}]]{comment}")
                headers += 1
                table(full, depth + 1)
        if depth and rng.random() < 0.3:
            full = f"{prefix}.plain"
            lines.append(f"[{full}]")
            lines.append("x = 1")

    table("", 0)
    return "\n".join(lines) + "\n", headers


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9))
def test_header_lines_are_the_lines_the_scan_gives(seed: int) -> None:
    text, headers = _random_toml(random.Random(seed))
    data = tomllib.loads(text)
    found = array_headers(text, data)
    assert found is not None and len(found) == headers
    full = locate(text)
    for path, line in found.items():
        assert full.lines.get(path) == line, (path, text)


def test_header_lines_of_the_shipped_files_are_the_lines_the_scan_gives() -> None:
    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("blueprints/*.toml"), *root.glob("examples/*.toml")]
    checked = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = array_headers(text, tomllib.loads(text))
        assert found is not None, path
        full = locate(text)
        for key, line in found.items():
            assert full.lines.get(key) == line, (path, key)
            checked += 1
    assert checked > 300


def test_what_could_fool_the_header_search_falls_back_to_the_full_scan() -> None:
    in_string = '[[a]]\nx = """\n[[a]]\n"""\n[[a]]\n'
    assert array_headers(in_string, tomllib.loads(in_string)) is None
    in_array = "x = [\n[[1]]\n]\n[[a]]\ny = 1\n"
    assert array_headers(in_array, tomllib.loads(in_array)) is None
    doc = parse_toml(in_array + 'z = "this"\n', "t.toml")
    assert doc.source.where(("a", 0)) == "t.toml:4"  # the full scan, after the fallback
    assert doc.source.where(("a", 0, "z")) == "t.toml:6"


def test_a_clean_load_scans_no_text() -> None:
    path = Path(__file__).resolve().parent.parent / "blueprints" / "complete-b2b.toml"
    library = Library.default()
    read: list[Any] = []
    original = library.read

    def keep(target: Path) -> Any:
        doc = original(target)
        read.append(doc)
        return doc

    blueprint = load_blueprint(path, library.resolver(), keep)
    assert blueprint.pipelines and len(read) > 5
    assert all(doc.source.positions._text is not None for doc in read)
    stage = blueprint.pipelines[0].stages[0]
    assert stage.where.split(":")[-1].isdigit()
