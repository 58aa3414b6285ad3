"""Adversarial review of the blueprint core: each test shows a real bug.

Every test here is ``xfail(strict=True)``: it fails today for the reason given and turns the suite
red (XPASS) once the bug is fixed, so the marker must then be removed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crmkit.blueprints.dump import dump_blueprint
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


@pytest.mark.xfail(
    strict=True,
    reason="tomlpos.key() decodes quoted keys with .encode().decode('unicode_escape'), which "
    "turns non-ASCII keys into mojibake: the key is never recorded and errors name the parent line",
)
def test_quoted_cyrillic_key_gets_its_own_line() -> None:
    assert (
        locate('[[roles]]\ncode = "m"\nname = "M"\n"описание" = "x"\n').lines.get(
            ("roles", 0, "описание")
        )
        == 4
    )


@pytest.mark.xfail(
    strict=True,
    reason="files.read_text decodes with 'utf-8', not 'utf-8-sig': a file saved with a BOM "
    "(Windows Notepad 'UTF-8 with BOM') fails with 'not valid TOML: Invalid statement' at 1:1",
)
def test_file_with_bom_reads(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbf[blueprint]\nname = "x"\n')
    assert read_toml(path).data == {"blueprint": {"name": "x"}}


@pytest.mark.xfail(
    strict=True,
    reason="loader._overlay/_merge_pipeline give the merged table the overriding table's origin, "
    "so a bad key that sits in the INCLUDED file is reported in the including file",
)
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


@pytest.mark.xfail(
    strict=True,
    raises=AttributeError,
    reason="loader._merge_pipelines calls p.get() on every earlier pipeline entry; a non-table "
    "entry before an 'extends' crashes (exit 70) instead of an InputError",
)
def test_non_table_pipeline_before_extends_is_input_error(tmp_path: Path) -> None:
    text = 'pipelines = [1, {code = "x", extends = "y", kind = "deal", name = "X"}]\n'
    with pytest.raises(InputError):
        load_text(text, tmp_path)


@pytest.mark.xfail(
    strict=True,
    raises=AttributeError,
    reason="loader._merge_pipeline appends a non-table stage to 'stages' and then calls s.get() "
    "on it for the next stage: crash (exit 70) instead of an InputError",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="overriding name.en of an included stage replaces the whole text: the Russian name "
    "is lost (docs: 'only the given keys change')",
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


@pytest.mark.xfail(
    strict=True,
    reason="a later include that also includes the base re-merges the base's original tables "
    "over an earlier include's override and silently reverts it",
)
def test_a_later_include_does_not_revert_an_override(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "rename.toml").write_text(
        '[blueprint]\ninclude = ["base.toml"]\n[[pipelines]]\ncode = "p"\nname = "Custom"\n',
        encoding="utf-8",
    )
    bp = load_text('[blueprint]\ninclude = ["rename.toml", "base.toml"]\n', tmp_path, "child.toml")
    assert bp.pipelines[0].name.en == "Custom"


@pytest.mark.xfail(
    strict=True,
    reason="docs: 'Inside one file, a repeated code is a duplicate (lint names it)'; when the "
    "code matches an included entry, both entries silently overlay it and lint says nothing",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="schema.Node.text(required=True) checks emptiness only for {ru, en} tables: "
    "name = '' passes loader and lint, and crm.status.add refuses an empty NAME "
    "('The field Title is required.')",
)
def test_empty_stage_name_is_reported() -> None:
    with pytest.raises(InputError):
        rules_of(pipeline([stage("A", ""), WON, LOST]))


@pytest.mark.xfail(
    strict=True,
    reason="BP014 only checks in-progress stages after a final one; a failure stage before the "
    "success stage (BITRIX24.md §3.1: in progress → success → failure) is not reported",
)
def test_failure_stage_before_the_success_stage() -> None:
    assert "BP014" in rules_of(pipeline([START, LOST, WON]))


@pytest.mark.xfail(
    strict=True,
    reason="BP003 compares the whole lower-cased name with a word list: the usual portal "
    "wording 'Другое (указать в комментарии)' / 'Other (specify)' / 'Прочее.' slips through",
)
@pytest.mark.parametrize("name", ["Другое (указать в комментарии)", "Other (specify)", "Прочее."])
def test_other_reason_with_a_note(name: str) -> None:
    assert "BP003" in rules_of(pipeline([START, WON, stage("O", name, "failure")]))


@pytest.mark.xfail(
    strict=True,
    reason="BP004 looks for exact phrases: 'Price is too high', 'Высокая стоимость', 'Expensive' "
    "are not found",
)
@pytest.mark.parametrize("name", ["Price is too high", "Высокая стоимость", "Expensive"])
def test_price_reason_variants(name: str) -> None:
    assert "BP004" in rules_of(pipeline([START, WON, stage("O", name, "failure")]))


@pytest.mark.xfail(
    strict=True,
    reason="the tender tag is compared case-sensitively in English only: tags = ['Tender'] or "
    "['тендер'] still get BP004",
)
@pytest.mark.parametrize("tag", ["Tender", "тендер"])
def test_tender_tag_is_recognised(tag: str) -> None:
    text = pipeline([START, WON, stage("O", "Слишком дорого", "failure")], tags=f'["{tag}"]')
    assert "BP004" not in rules_of(text)


@pytest.mark.xfail(
    strict=True,
    reason="BP004's substring 'дорого' is inside 'дорогой': 'chose the competitor's more "
    "expensive option' is taken for 'price too high'",
)
def test_more_expensive_competitor_is_not_price_too_high() -> None:
    name = "Выбрали дорогой вариант конкурента с монтажом"
    assert "BP004" not in rules_of(pipeline([START, WON, stage("O", name, "failure")]))


@pytest.mark.xfail(
    strict=True,
    reason="BP010 checks f.code.upper() with Python's Unicode upper(): 'ß' → 'SS', 'ı' → 'I', so "
    "non-ASCII codes pass; Bitrix24 accepts only A-Z 0-9 _ (BITRIX24.md §3.3)",
)
@pytest.mark.parametrize("code", ["straße", "prıce"])
def test_non_ascii_field_code_is_refused(code: str) -> None:
    assert "BP010" in rules_of(pipeline([START, WON, LOST]) + field("deal", code))


@pytest.mark.xfail(
    strict=True,
    reason="BP013 compares raw codes; Bitrix24 upper-cases codes and ensures UF_CRM_ (§3.3), so "
    "'score'/'SCORE'/'UF_CRM_SCORE' are one FIELD_NAME and the second add fails",
)
@pytest.mark.parametrize("other", ["SCORE", "UF_CRM_score"])
def test_field_codes_that_are_the_same_in_bitrix24(other: str) -> None:
    text = pipeline([START, WON, LOST]) + field("deal", "score") + field("deal", other)
    assert "BP013" in rules_of(text)


@pytest.mark.xfail(
    strict=True,
    reason="lint.field_known ignores its pipeline argument: a deal stage may require a field "
    "that only leads have",
)
def test_required_field_of_another_entity() -> None:
    required = stage("A", "a", extra='required_fields = ["LEAD_ONLY"]\n')
    text = pipeline([required, WON, LOST]) + field("lead", "LEAD_ONLY")
    assert "BP019" in rules_of(text)


@pytest.mark.xfail(
    strict=True,
    reason="list items with the same xml_id are refused by Bitrix24 (ERROR_CORE 'List item with "
    "XML_ID=… already exists', §3.3) but no rule checks them",
)
def test_duplicate_list_item_xml_id() -> None:
    items = (
        '[[fields.items]]\nvalue = "a"\nxml_id = "X"\n[[fields.items]]\nvalue = "b"\nxml_id = "X"\n'
    )
    text = pipeline([START, WON, LOST]) + field("deal", "E", "enumeration") + items
    assert any(path.startswith("fields[deal.E].items") for _, path in findings_of(text))


# -- round trip ---------------------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="dump omits falsy optional strings: responsible = '' loads as '' but dumps as nothing "
    "and reloads as None, so load(dump(b)) != b (and lint changes from BP015 error to BP006)",
)
def test_round_trip_keeps_an_empty_responsible() -> None:
    text = ROLES + pipeline([stage("A", "a").replace('responsible = "m"', 'responsible = ""'), WON])
    bp = load_document(parse_toml(text, "a.toml"), None, lib().resolver())
    again = load_document(parse_toml(dump_blueprint(bp), "b.toml"), None, lib().resolver())
    assert again == bp


# -- rendering: escaping holes --------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    raises=(ValueError, IndexError),
    reason="blueprint_html splits the rendered Markdown on lines '@@crmkit-figure:N@@'; a "
    "description line of that shape crashes int()/indexing (exit 70) or injects a figure",
)
@pytest.mark.parametrize("marker", ["@@crmkit-figure:x@@", "@@crmkit-figure:9@@"])
def test_figure_marker_in_a_description(marker: str) -> None:
    html = blueprint_html(small_bp(desc=f"Intro\n{marker}"), "en")
    assert html.count("<svg") == 1


@pytest.mark.xfail(
    strict=True,
    reason="a description line '---' or '===' is not escaped and turns the line above into a "
    "heading in the client's document",
)
def test_setext_underline_in_a_description_is_text() -> None:
    html = blueprint_html(small_bp(pdesc="Intro\n---\nmore"), "en")
    assert "<h2>Intro</h2>" not in html


@pytest.mark.xfail(
    strict=True,
    reason="md_escape leaves '&' alone, so markdown-it decodes entity references: the text "
    "'R&amp;D &copy;' is shown as 'R&D ©'",
)
def test_entity_references_stay_literal() -> None:
    html = blueprint_html(small_bp(desc="R&amp;D &copy;"), "en")
    assert "R&amp;amp;D &amp;copy;" in html


@pytest.mark.xfail(
    strict=True,
    reason="the field code cell is `{{ f.code }}` without the cell filter: a '|' in a code splits "
    "the row (a GFM table splits on '|' even inside a code span) and drops the last cell",
)
def test_pipe_in_a_field_code_keeps_the_table() -> None:
    html = blueprint_html(small_bp(code="A|B"), "en")
    row = re.search(r"<tr>\s*<td>L</td>(.*?)</tr>", html, re.S)
    assert row is not None and "UF_CRM_A|B" in row.group(1)


@pytest.mark.xfail(
    strict=True,
    reason="funnel._mermaid_text replaces '\\n' but not '\\r' (a CommonMark line ending): the "
    "label breaks over two lines and Mermaid fails to parse the block",
)
def test_carriage_return_in_a_stage_name_keeps_mermaid_whole() -> None:
    md = blueprint_markdown(small_bp(name="Call\rback"), "en")
    block = md[md.index("```mermaid") : md.index("```", md.index("```mermaid") + 3)]
    assert "\r" not in block


# -- the client's document -------------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="checklist details are indented 3 spaces; from item 10 on ('10. ' is 4 wide) they "
    "leave the list: complete-b2b's checklist renders as 79 separate <ol>, details at the margin",
)
def test_checklist_is_one_list() -> None:
    html = blueprint_html(lib().load("complete-b2b"), "en")
    checklist = html[html.rindex("<h2>") :]
    assert checklist.count("<ol") == 1


@pytest.mark.xfail(
    strict=True,
    reason="the stage table says 'Required: LEAD_TARGET_PIPELINE, COMPANY_TITLE' (raw codes); "
    "the client's document should name fields by their labels, as the checklist does",
)
def test_required_fields_are_named_by_label() -> None:
    md = blueprint_markdown(lib().load("complete-b2b"), "en")
    row = next(line for line in md.splitlines() if line.startswith("| 7 | Request ready |"))
    assert "LEAD\\_TARGET\\_PIPELINE" not in row and "Deal pipeline" in row


@pytest.mark.xfail(
    strict=True,
    reason="smart-process fields are documented as UF_CRM_<code>, but userfieldconfig has no "
    "auto-prefix and needs UF_CRM_<type id>_<code> (BITRIX24.md §3.4; pull.py uses that prefix)",
)
def test_smart_process_field_code_in_the_document() -> None:
    md = blueprint_markdown(lib().load("process-delivery"), "en")
    assert "`UF_CRM_DELIVERY_ADDRESS`" not in md
