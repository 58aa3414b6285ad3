"""Content true to the sources (seeds 000–003): what they do not state is a consultant's note or
absent, and what they say reaches the user where he meets it."""

from __future__ import annotations

import re
from pathlib import Path

from crmkit.blueprints.library import Library
from crmkit.export.blueprint_doc import blueprint_markdown, manual_checklist
from crmkit.i18n import Text
from crmkit.select.catalog import shipped_catalog
from crmkit.select.problems import library as problems_library

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("ru", "en", "uk")
NOTE = {"ru": "Заметка консультанта", "en": "consultant's note", "uk": "Нотатка консультанта"}


def _texts(value: object) -> list[Text]:
    """Every Text inside a model value (dataclasses, tuples), depth first."""
    if isinstance(value, Text):
        return [value]
    if isinstance(value, tuple):
        return [t for item in value for t in _texts(item)]
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is None:
        return []
    return [t for name in fields for t in _texts(getattr(value, name))]


def _library_texts() -> list[Text]:
    library = Library.default()
    return [t for name in library.ids() for t in _texts(library.load(name))]


def test_quotes_are_not_the_seventh_main_entity() -> None:
    """Seed 003 announces seven main entities of Bitrix24 and lists six."""
    for text in _library_texts():
        for lang in LANGS:
            said = getattr(text, lang).casefold()
            assert not any(
                w in said for w in ("седьм", "seventh", "сьом", "семь основ", "сім основ")
            )
    entities = Library.default().load("entities")
    quote = next(e for e in entities.entities if e.code == "quote")
    for lang in LANGS:
        assert NOTE[lang].casefold() in getattr(quote.why, lang).casefold(), lang
    assert "лиды, контакты, компании, сделки, дела и счета" in entities.description.ru


def test_what_the_seeds_do_not_say_of_the_systems_is_a_consultants_note_or_absent() -> None:
    catalog = shipped_catalog()
    assert catalog.get("envycrm").focus == "unknown"  # the seed shows buttons, not a focus
    terrasoft = catalog.get("terrasoft")
    assert "Creatio" not in terrasoft.name  # the seed says «Террасофт»
    assert "Creatio" in terrasoft.notes.ru and NOTE["ru"] in terrasoft.notes.ru
    telephony = problems_library().functions["telephony"].name
    for lang in LANGS:  # the seeds never say which systems record calls
        said = getattr(telephony, lang).casefold()
        assert not any(w in said for w in ("запис", "record"))


def test_the_law_on_consent_is_a_consultants_note() -> None:
    for text in _library_texts():
        for lang in LANGS:
            said = getattr(text, lang)
            for words in ("закон требует согласия", "закон вимагає згоди", "law requires the"):
                assert words not in said, said[:80]
            if re.search(r"\bзакон(а|у|ом|е|і)?\b|\bthe law\b", said.casefold()):
                assert NOTE[lang].casefold() in said.casefold(), said[:80]


def test_the_menu_path_has_the_more_and_where_to_start_steps() -> None:
    """Seed 002: CRM → Settings (maybe under «Ещё») → the «С чего начать» tab → Directories."""
    lead = Library.default().load("lead-funnel")
    for lang, words in (("ru", ("«Ещё»", "«С чего начать»")), ("uk", ("«Ще»", "«З чого почати»"))):
        text = getattr(lead.pipelines[0].description, lang)
        assert all(w in text for w in words), lang
    document = blueprint_markdown(lead, "ru")
    assert "«Ещё»" in document and "«С чего начать»" in document
    assert any(i["id"].startswith("required.") for i in manual_checklist(lead, "ru"))


def test_the_stage_naming_rule_is_where_people_meet_it() -> None:
    """Seed 002: name a stage by the process or by the result; as few stages as will do."""
    document = blueprint_markdown(Library.default().load("lead-funnel"), "ru")
    assert "по процессу" in document and "по результату" in document
    docs = (ROOT / "docs" / "blueprint-format.md").read_text(encoding="utf-8")
    assert "by the process" in docs and "by the result" in docs
    assert "BP026" in docs and "up to and including the success stage" in docs
