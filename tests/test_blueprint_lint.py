"""Lint rules: each crafted mistake gives its finding; the shipped library is clean."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import default_settings, lint, with_overrides
from crmkit.blueprints.loader import load_blueprint

DATA = Path(__file__).parent / "data"
SMALL = (DATA / "small.toml").read_text(encoding="utf-8")

FAILURE_STAGE = """
[[pipelines.stages]]
code = "{code}"
name = {{ru = "{ru}", en = "{en}"}}
semantics = "{semantics}"
description = "d"
lesson = "l"
"""


def rules_of(text: str, tmp_path: Path, **overrides: object) -> list[str]:
    path = tmp_path / "bp.toml"
    path.write_text(text, encoding="utf-8")
    bp = load_blueprint(path, Library.default().resolver())
    settings = with_overrides(default_settings(), **overrides)  # type: ignore[arg-type]
    return [f.rule for f in lint(bp, settings)]


def with_stage(code: str, ru: str, en: str, semantics: str = "failure") -> str:
    return SMALL.replace(
        "[[field_groups]]",
        FAILURE_STAGE.format(code=code, ru=ru, en=en, semantics=semantics) + "\n[[field_groups]]",
    )


def test_small_blueprint_is_clean(tmp_path: Path) -> None:
    assert rules_of(SMALL, tmp_path) == []


def test_two_success_stages(tmp_path: Path) -> None:
    assert "BP001" in rules_of(with_stage("WON2", "Успех-2", "Won too", "success"), tmp_path)


def test_no_success_stage(tmp_path: Path) -> None:
    text = SMALL.replace('semantics = "success"', 'semantics = "failure"\nlesson = "x"')
    assert "BP001" in rules_of(text, tmp_path)


def test_no_failure_reason(tmp_path: Path) -> None:
    text = SMALL.replace('semantics = "failure"', 'semantics = "success"')
    found = rules_of(text, tmp_path)
    assert "BP002" in found and "BP001" in found


@pytest.mark.parametrize(("ru", "en"), [("Другое", "Other"), ("Прочее", "Misc"), ("Иное", "other")])
def test_other_reason(tmp_path: Path, ru: str, en: str) -> None:
    assert "BP003" in rules_of(with_stage("OTHER", ru, en), tmp_path)


def test_price_too_high_only_in_tenders(tmp_path: Path) -> None:
    text = with_stage("PRICE", "Дорого", "Price too high")
    assert "BP004" in rules_of(text, tmp_path)
    tender = text.replace('kind = "lead"', 'kind = "lead"\ntags = ["tender"]')
    assert "BP004" not in rules_of(tender, tmp_path)


def uk_stage(code: str, uk: str) -> str:
    """A failure reason named in Ukrainian only (the Russian and English names say nothing)."""
    return with_stage(code, "Причина", "Reason").replace(
        'en = "Reason"}', f'en = "Reason", uk = "{uk}"}}'
    )


# the names people really give the two reasons the source says to avoid (seed 002)
@pytest.mark.parametrize(
    "name",
    ["Прочие причины", "Другое (указать)", "Другие причины", "Other reason", "Other reasons"],
)
def test_other_reason_under_the_names_people_use(tmp_path: Path, name: str) -> None:
    assert "BP003" in rules_of(with_stage("OTHER", name, name), tmp_path)


@pytest.mark.parametrize("name", ["Інше", "Інші причини", "Інша причина", "Інше (вказати)"])
def test_other_reason_in_ukrainian(tmp_path: Path, name: str) -> None:
    assert "BP003" in rules_of(uk_stage("OTHER", name), tmp_path)


@pytest.mark.parametrize(
    "name",
    [
        "Цена",
        "Не устраивает цена",
        "Цена не подошла",
        "Не подошли по цене",
        "Price",
        "Not happy with the price",
    ],
)
def test_price_reason_under_the_names_people_use(tmp_path: Path, name: str) -> None:
    text = with_stage("PRICE", name, name)
    assert "BP004" in rules_of(text, tmp_path)
    tender = text.replace('kind = "lead"', 'kind = "lead"\ntags = ["tender"]')
    assert "BP004" not in rules_of(tender, tmp_path)


@pytest.mark.parametrize("name", ["Ціна", "Не влаштовує ціна", "Ціна не підійшла", "Дорого"])
def test_price_reason_in_ukrainian(tmp_path: Path, name: str) -> None:
    assert "BP004" in rules_of(uk_stage("PRICE", name), tmp_path)


@pytest.mark.parametrize(
    "name",
    ["Ценность не донесена", "Выбрали более дорогой вариант конкурента", "Нет такой номенклатуры"],
)
def test_reasons_that_are_neither(tmp_path: Path, name: str) -> None:
    found = rules_of(with_stage("REASON", name, "Lost to a more expensive competitor"), tmp_path)
    assert "BP003" not in found and "BP004" not in found


def test_other_reason_message_says_what_the_head_of_sales_does(tmp_path: Path) -> None:
    path = tmp_path / "bp.toml"
    path.write_text(with_stage("OTHER", "Прочие причины", "Other reason"), encoding="utf-8")
    bp = load_blueprint(path, Library.default().resolver())
    for lang, words in (
        ("ru", ("РОП", "выбрать одну из имеющихся", "добавляет новую")),
        ("en", ("head of sales", "pick one of the existing reasons", "adds a new one")),
        ("uk", ("РОП", "вибрати одну з наявних", "додає нову")),
    ):
        finding = next(f for f in lint(bp, lang=lang) if f.rule == "BP003")  # type: ignore[arg-type]
        assert all(w in finding.message for w in words), (lang, finding.message)


def test_stage_without_description_or_responsible(tmp_path: Path) -> None:
    text = SMALL.replace(
        'description = {ru = "Менеджер выясняет потребность.", '
        'en = "The manager finds out the need."}\n',
        "",
    ).replace('responsible = "manager"\n', "")
    found = rules_of(text, tmp_path)
    assert "BP005" in found and "BP006" in found


def test_too_many_stages_threshold_is_configurable(tmp_path: Path) -> None:
    assert "BP007" not in rules_of(SMALL, tmp_path)
    assert "BP007" in rules_of(SMALL, tmp_path, max_stages=1)  # two in-progress stages


def test_two_lead_funnels(tmp_path: Path) -> None:
    extra = (
        '\n[[pipelines]]\ncode = "leads2"\nkind = "lead"\nname = "Second"\n'
        '[[pipelines.stages]]\ncode = "A"\nname = "A"\nsemantics = "success"\n'
    )
    assert "BP008" in rules_of(SMALL + extra, tmp_path)


@pytest.mark.parametrize("code", ["NEW STAGE", "ЭТАП", "A:B", "X" * 22, "code.with.dots"])
def test_stage_codes_bitrix_would_refuse(tmp_path: Path, code: str) -> None:
    assert "BP009" in rules_of(SMALL.replace('code = "WORK"', f'code = "{code}"'), tmp_path)


SECOND_DEAL = """
[[pipelines]]
code = "other"
kind = "deal"
name = "Other deals"

[[pipelines.stages]]
code = "{code}"
name = "Work"
description = "d"
responsible = "manager"
max_time = "1d"

[[pipelines.stages]]
code = "WON"
name = "Won"
semantics = "success"
description = "d"

[[pipelines.stages]]
code = "LOST"
name = "Lost"
semantics = "failure"
description = "d"
lesson = "l"
"""


def test_deal_stage_code_budget(tmp_path: Path) -> None:
    # the first deal pipeline is the portal's default one: no "C<id>:" prefix, 22 characters
    deal = SMALL.replace('kind = "lead"', 'kind = "deal"')
    standard = deal.replace('code = "WORK"', 'code = "PREPAYMENT_INVOICE"')
    assert "BP009" not in rules_of(standard, tmp_path)
    assert "BP009" in rules_of(deal.replace('code = "WORK"', f'code = "{"W" * 23}"'), tmp_path)
    # later deal pipelines lose room to the prefix
    assert "BP009" not in rules_of(deal + SECOND_DEAL.format(code="W" * 16), tmp_path)
    assert "BP009" in rules_of(deal + SECOND_DEAL.format(code="W" * 17), tmp_path)
    # but the stages Bitrix24 itself creates in a new pipeline always fit
    assert "BP009" not in rules_of(deal + SECOND_DEAL.format(code="PREPAYMENT_INVOICE"), tmp_path)


@pytest.mark.parametrize("code", ["BAD-NAME", "ПОЛЕ", "A" * 44, "with space"])
def test_field_codes_bitrix_would_refuse(tmp_path: Path, code: str) -> None:
    assert "BP010" in rules_of(SMALL.replace('code = "BUDGET"', f'code = "{code}"'), tmp_path)


def test_lowercase_field_code_is_fine_bitrix_upper_cases_it(tmp_path: Path) -> None:
    assert "BP010" not in rules_of(SMALL.replace('code = "BUDGET"', 'code = "budget"'), tmp_path)


def test_automation_unknown_role_and_stage(tmp_path: Path) -> None:
    text = SMALL.replace('role = "rop"\ndeadline', 'role = "ceo"\ndeadline')
    assert "BP011" in rules_of(text, tmp_path)
    text = SMALL.replace(
        'action = "create_task"\nrole = "manager"',
        'action = "move_stage"\ntarget_stage = "NOWHERE"\nrole = "manager"',
    )
    assert "BP012" in rules_of(text, tmp_path)


def test_unknown_responsible_role(tmp_path: Path) -> None:
    assert "BP015" in rules_of(
        SMALL.replace('responsible = "manager"', 'responsible = "boss"'), tmp_path
    )


def test_in_progress_stage_after_final(tmp_path: Path) -> None:
    assert "BP014" in rules_of(with_stage("LATE", "Поздно", "Late", "process"), tmp_path)


def test_duplicate_stage_code(tmp_path: Path) -> None:
    assert "BP013" in rules_of(with_stage("NOT_TARGET", "Снова", "Again"), tmp_path)


def test_failure_without_lesson_and_enum_without_items(tmp_path: Path) -> None:
    text = SMALL.replace(
        'lesson = {ru = "Показывает, какие каналы приводят мусор.", '
        'en = "Shows which channels bring noise."}\n',
        "",
    )
    assert "BP021" in rules_of(text, tmp_path)
    cut = SMALL[: SMALL.index("[[fields.items]]")]
    assert "BP018" in rules_of(cut, tmp_path)


def test_required_field_must_exist(tmp_path: Path) -> None:
    assert "BP019" in rules_of(SMALL.replace('["PHONE"]', '["NO_SUCH"]'), tmp_path)
    assert "BP019" not in rules_of(SMALL.replace('["PHONE"]', '["UF_CRM_BUDGET"]'), tmp_path)
    assert "BP019" not in rules_of(SMALL.replace('["PHONE"]', '["BUDGET"]'), tmp_path)


def test_required_fields_on_a_final_stage_never_take_effect(tmp_path: Path) -> None:
    # an item never leaves a final stage, and Bitrix24 checks a field on entering a stage
    final = with_stage("LOST", "Нецелевой клиент", "Not targeted").replace(
        'lesson = "l"\n', 'lesson = "l"\nrequired_fields = ["PHONE"]\n', 1
    )
    assert "BP026" in rules_of(final, tmp_path)
    assert "BP026" not in rules_of(SMALL, tmp_path)  # PHONE is needed to leave a stage in progress


def test_every_rule_has_both_languages_and_every_message_formats() -> None:
    settings = default_settings()
    assert len(settings.rules) >= 20
    for rule in settings.rules.values():
        assert rule.message.ru and rule.message.en, rule.id
        assert rule.severity in ("error", "warning", "info")


def test_every_shipped_blueprint_lints_without_errors_or_warnings() -> None:
    library = Library.default()
    assert len(library.ids()) >= 10
    for name in library.ids():
        findings = [f for f in lint(library.load(name)) if f.severity != "info"]
        assert findings == [], f"{name}: {[f'{f.rule} {f.path}' for f in findings]}"


# -- the command ----------------------------------------------------------------------------------


def test_cli_lint_exit_codes(crmkit: Callable[..., object], tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(SMALL, encoding="utf-8")
    result = crmkit("blueprint", "lint", str(good))
    assert result.code == 0, result.err
    assert "0 errors" in result.out
    bad = tmp_path / "bad.toml"
    bad.write_text(with_stage("OTHER", "Другое", "Other"), encoding="utf-8")
    warned = crmkit("blueprint", "lint", str(bad))
    assert warned.code == 0 and "BP003" in warned.out
    strict = crmkit("blueprint", "lint", str(bad), "--strict")
    assert strict.code == 2 and strict.err.count("\n") == 1
    broken = tmp_path / "broken.toml"
    broken.write_text(with_stage("WON2", "Успех", "Won", "success"), encoding="utf-8")
    failed = crmkit("blueprint", "lint", str(broken), "--format", "json")
    assert failed.code == 2
    report = json.loads(failed.out)
    assert report["summary"]["error"] >= 1
    assert {f["rule"] for f in report["findings"]} >= {"BP001"}
    finding = next(f for f in report["findings"] if f["rule"] == "BP001")
    assert finding["path"] == "pipelines[leads]"
    assert finding["where"] == f"{broken}:19"


def test_cli_lint_bad_input_lists_problems(crmkit: Callable[..., object], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace('kind = "lead"', 'kind = "leads"'), encoding="utf-8")
    result = crmkit("blueprint", "lint", str(bad))
    assert result.code == 2
    assert result.out == ""
    assert result.err.strip() == (
        f"crmkit: {bad}:21: pipelines[0].kind: 'leads' is not one of: lead, deal, smart_process"
    )
    assert "Traceback" not in result.err


def test_cli_lint_in_russian(crmkit: Callable[..., object], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(with_stage("OTHER", "Другое", "Other"), encoding="utf-8")
    result = crmkit("blueprint", "lint", str(bad), "--lang", "ru")
    assert "ничему не учит" in result.out
    assert "BP003 · предупреждение · 1: no-other-reason" in result.out
    assert result.out.count("bad.toml:") == 1  # the finding, under its rule


def test_cli_unknown_rule_to_disable(crmkit: Callable[..., object], tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(SMALL, encoding="utf-8")
    result = crmkit("blueprint", "lint", str(good), "--disable", "BP999")
    assert result.code == 2 and "BP999" in result.err


def test_blueprint_new_from_the_library(crmkit: Callable[..., object], tmp_path: Path) -> None:
    out = tmp_path / "client.toml"
    made = crmkit("blueprint", "new", "--from", "deal-b2b-short", "--out", str(out))
    assert made.code == 0, made.err
    bp = load_blueprint(out, Library.default().resolver())
    assert [p.code for p in bp.pipelines] == ["deal_b2b_full", "deal_b2b_short"]
    assert "\ninclude = " not in out.read_text(encoding="utf-8")  # self-contained
    before = out.read_text(encoding="utf-8")
    again = crmkit("blueprint", "new", "--from", "lead-funnel", "--out", str(out))
    assert again.code == 2 and "--force" in again.err
    assert out.read_text(encoding="utf-8") == before  # nothing lost
    assert (
        crmkit("blueprint", "new", "--from", "lead-funnel", "--out", str(out), "--force").code == 0
    )
    assert crmkit("blueprint", "new").code == 2
    both = crmkit("blueprint", "new", "--from", "x", "--from-assessment", "y.toml")
    assert both.code == 2 and both.err.count("\n") == 1
