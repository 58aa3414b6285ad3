"""Adversarial review of the blueprint core: each test shows a real bug.

Every test here is ``xfail(strict=True)``: it fails today for the reason given and turns the suite
red (XPASS) once the bug is fixed, so the marker must then be removed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import lint
from crmkit.blueprints.loader import load_blueprint, load_document
from crmkit.blueprints.model import Blueprint
from crmkit.errors import InputError
from crmkit.export.blueprint_doc import blueprint_html, blueprint_markdown
from crmkit.files import parse_toml, read_toml
from crmkit.schema import LoadError
from crmkit.tomlpos import locate


def lib() -> Library:
    return Library.default()


def load_text(text: str, tmp_path: Path, name: str = "bp.toml") -> Blueprint:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_blueprint(path, lib().resolver())


def q(text: str) -> str:
    """A TOML basic string (JSON strings are valid TOML basic strings for these texts)."""
    return json.dumps(text, ensure_ascii=False)


ROLES = '[[roles]]\ncode = "m"\nname = "M"\n'


def stage(code: str, name: str, semantics: str = "process", extra: str = "") -> str:
    return (
        f"[[pipelines.stages]]\ncode = {q(code)}\nname = {q(name)}\nsemantics = {q(semantics)}\n"
        'description = "d"\nresponsible = "m"\nmax_time = "1d"\nlesson = "l"\n' + extra
    )


def pipeline(stages: list[str], code: str = "p", kind: str = "deal", tags: str = "[]") -> str:
    return (
        f'[[pipelines]]\ncode = "{code}"\nkind = "{kind}"\nname = "P"\ntags = {tags}\n'
        + "".join(stages)
    )


START = stage("A", "a")
WON = stage("W", "Won", "success")
LOST = stage("L", "Lost to a competitor", "failure")


def field(entity: str, code: str, type_: str = "string") -> str:
    return f'[[fields]]\nentity = "{entity}"\ncode = {q(code)}\ntype = "{type_}"\nlabel = "L"\n'


def rules_of(text: str) -> set[str]:
    bp = load_document(parse_toml(ROLES + text, "bp.toml"), None, lib().resolver())
    return {f.rule for f in lint(bp)}


def findings_of(text: str) -> list[tuple[str, str]]:
    bp = load_document(parse_toml(ROLES + text, "bp.toml"), None, lib().resolver())
    return [(f.rule, f.path) for f in lint(bp)]


def small_bp(**texts: str) -> Blueprint:
    values = {"desc": "", "pdesc": "", "name": "A", "code": "X"}
    values.update(texts)
    text = (
        f'[blueprint]\nname = "T"\ndescription = {q(values["desc"])}\n'
        + ROLES
        + '[[pipelines]]\ncode = "p"\nkind = "deal"\nname = "P"\n'
        + f"description = {q(values['pdesc'])}\n"
        + stage("A", values["name"])
        + WON
        + LOST
        + field("deal", values["code"])
    )
    return load_document(parse_toml(text, "bp.toml"), None, lib().resolver())


# -- line numbers ------------------------------------------------------------------------------


def test_quoted_cyrillic_key_gets_its_own_line() -> None:
    assert (
        locate('[[roles]]\ncode = "m"\nname = "M"\n"описание" = "x"\n').lines.get(
            ("roles", 0, "описание")
        )
        == 4
    )


def test_file_with_bom_reads(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbf[blueprint]\nname = "x"\n')
    assert read_toml(path).data == {"blueprint": {"name": "x"}}


def test_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        ROLES
        + '[[pipelines]]\ncode = "p"\nkind = "deal"\nname = "P"\n'
        + '[[pipelines.stages]]\ncode = "NEW"\nname = "New"\ncolor = "red"\n',
        encoding="utf-8",
    )
    child = (
        '[blueprint]\ninclude = ["base.toml"]\n'
        '[[pipelines]]\ncode = "p"\n[[pipelines.stages]]\ncode = "NEW"\nname = "Brand new"\n'
    )
    with pytest.raises(LoadError) as caught:
        load_text(child, tmp_path, "child.toml")
    assert caught.value.where == f"{tmp_path / 'base.toml'}:11"


# -- garbage in: an internal error instead of file:line -----------------------------------------


def test_non_table_pipeline_before_extends_is_input_error(tmp_path: Path) -> None:
    text = 'pipelines = [1, {code = "x", extends = "y", kind = "deal", name = "X"}]\n'
    with pytest.raises(InputError):
        load_text(text, tmp_path)


def test_non_table_stage_before_a_stage_is_input_error(tmp_path: Path) -> None:
    text = (
        '[[pipelines]]\ncode = "p"\nkind = "deal"\nname = "P"\n'
        'stages = [1, {code = "A", name = "A"}]\n'
    )
    with pytest.raises(InputError):
        load_text(text, tmp_path)


# -- include and override semantics ------------------------------------------------------------

BASE = (
    ROLES
    + '[[pipelines]]\ncode = "p"\nkind = "deal"\nname = "P"\n'
    + '[[pipelines.stages]]\ncode = "NEW"\nname = {ru = "Новая", en = "New"}\n'
    + '[[pipelines.stages]]\ncode = "W"\nname = "Won"\nsemantics = "success"\n'
)


def test_override_of_one_language_keeps_the_other(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    bp = load_text(
        '[blueprint]\ninclude = ["base.toml"]\n[[pipelines]]\ncode = "p"\n'
        '[[pipelines.stages]]\ncode = "NEW"\nname.en = "Fresh"\n',
        tmp_path,
        "child.toml",
    )
    assert bp.pipelines[0].stages[0].name.ru == "Новая"


def test_includes_apply_in_order_later_ones_on_top(tmp_path: Path) -> None:
    # documented (docs/blueprint-format.md): list a base before the files that override it
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "rename.toml").write_text(
        '[blueprint]\ninclude = ["base.toml"]\n[[pipelines]]\ncode = "p"\nname = "Custom"\n',
        encoding="utf-8",
    )
    in_order = load_text(
        '[blueprint]\ninclude = ["base.toml", "rename.toml"]\n', tmp_path, "a.toml"
    )
    assert in_order.pipelines[0].name.en == "Custom"
    base_last = load_text(
        '[blueprint]\ninclude = ["rename.toml", "base.toml"]\n', tmp_path, "b.toml"
    )
    assert base_last.pipelines[0].name.en != "Custom"


def test_repeated_override_in_one_file_is_a_duplicate(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    bp = load_text(
        '[blueprint]\ninclude = ["base.toml"]\n'
        '[[roles]]\ncode = "m"\nname = "Sales manager"\n[[roles]]\ncode = "m"\nname = "Again"\n',
        tmp_path,
        "child.toml",
    )
    assert "BP013" in {f.rule for f in lint(bp)}


# -- lint: false negatives and false positives --------------------------------------------------


def test_empty_stage_name_is_reported() -> None:
    with pytest.raises(InputError):
        rules_of(pipeline([stage("A", ""), WON, LOST]))


def test_failure_stage_before_the_success_stage() -> None:
    assert "BP014" in rules_of(pipeline([START, LOST, WON]))


@pytest.mark.parametrize("name", ["Другое (указать в комментарии)", "Other (specify)", "Прочее."])
def test_other_reason_with_a_note(name: str) -> None:
    assert "BP003" in rules_of(pipeline([START, WON, stage("O", name, "failure")]))


@pytest.mark.parametrize("name", ["Price is too high", "Высокая стоимость", "Expensive"])
def test_price_reason_variants(name: str) -> None:
    assert "BP004" in rules_of(pipeline([START, WON, stage("O", name, "failure")]))


@pytest.mark.parametrize("tag", ["Tender", "тендер"])
def test_tender_tag_is_recognised(tag: str) -> None:
    text = pipeline([START, WON, stage("O", "Слишком дорого", "failure")], tags=f'["{tag}"]')
    assert "BP004" not in rules_of(text)


def test_more_expensive_competitor_is_not_price_too_high() -> None:
    name = "Выбрали дорогой вариант конкурента с монтажом"
    assert "BP004" not in rules_of(pipeline([START, WON, stage("O", name, "failure")]))


@pytest.mark.parametrize("code", ["straße", "prıce"])
def test_non_ascii_field_code_is_refused(code: str) -> None:
    assert "BP010" in rules_of(pipeline([START, WON, LOST]) + field("deal", code))


@pytest.mark.parametrize("other", ["SCORE", "UF_CRM_score"])
def test_field_codes_that_are_the_same_in_bitrix24(other: str) -> None:
    text = pipeline([START, WON, LOST]) + field("deal", "score") + field("deal", other)
    assert "BP013" in rules_of(text)


def test_required_field_of_another_entity() -> None:
    required = stage("A", "a", extra='required_fields = ["LEAD_ONLY"]\n')
    text = pipeline([required, WON, LOST]) + field("lead", "LEAD_ONLY")
    assert "BP019" in rules_of(text)


def test_duplicate_list_item_xml_id() -> None:
    items = (
        '[[fields.items]]\nvalue = "a"\nxml_id = "X"\n[[fields.items]]\nvalue = "b"\nxml_id = "X"\n'
    )
    text = pipeline([START, WON, LOST]) + field("deal", "E", "enumeration") + items
    assert any(path.startswith("fields[deal.E].items") for _, path in findings_of(text))


# -- round trip ---------------------------------------------------------------------------------


def test_a_blank_responsible_is_refused_so_round_trips_hold() -> None:
    text = ROLES + pipeline([stage("A", "a").replace('responsible = "m"', 'responsible = ""'), WON])
    with pytest.raises(LoadError, match="must not be blank"):
        load_document(parse_toml(text, "a.toml"), None, lib().resolver())


# -- rendering: escaping holes --------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["@@crmkit-figure:x@@", "@@crmkit-figure:9@@"])
def test_figure_marker_in_a_description(marker: str) -> None:
    html = blueprint_html(small_bp(desc=f"Intro\n{marker}"), "en")
    assert html.count("<svg") == 1


def test_setext_underline_in_a_description_is_text() -> None:
    html = blueprint_html(small_bp(pdesc="Intro\n---\nmore"), "en")
    assert "<h2>Intro</h2>" not in html


def test_entity_references_stay_literal() -> None:
    html = blueprint_html(small_bp(desc="R&amp;D &copy;"), "en")
    assert "R&amp;amp;D &amp;copy;" in html


def test_pipe_in_a_field_code_keeps_the_table() -> None:
    html = blueprint_html(small_bp(code="A|B"), "en")
    row = re.search(r"<tr>\s*<td>L</td>(.*?)</tr>", html, re.S)
    assert row is not None and "UF_CRM_A|B" in row.group(1)


def test_carriage_return_in_a_stage_name_keeps_mermaid_whole() -> None:
    md = blueprint_markdown(small_bp(name="Call\rback"), "en")
    block = md[md.index("```mermaid") : md.index("```", md.index("```mermaid") + 3)]
    assert "\r" not in block


# -- the client's document -------------------------------------------------------------------------


def test_checklist_is_one_list() -> None:
    html = blueprint_html(lib().load("complete-b2b"), "en")
    checklist = html[html.rindex("<h2 ") : html.index('<footer class="page-footer"')]
    assert checklist.count("<ol") == 1


def test_required_fields_are_named_by_label() -> None:
    md = blueprint_markdown(lib().load("complete-b2b"), "en")
    row = next(line for line in md.splitlines() if line.startswith("| 7 | Request ready |"))
    assert "LEAD\\_TARGET\\_PIPELINE" not in row and "Deal pipeline" in row


def test_smart_process_field_code_in_the_document() -> None:
    md = blueprint_markdown(lib().load("process-delivery"), "en")
    assert "`UF_CRM_DELIVERY_ADDRESS`" not in md
