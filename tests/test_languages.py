"""Every user-facing text exists in Russian, English and Ukrainian: the message catalogs, the
questionnaire, the catalog of systems, the problems and criteria of the selection, the shipped
blueprint library, the lint rules, the audit's rules and the texts written in code (step 2's
questions, the vendor's standard questions)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from crmkit.i18n import LANGS, Text, all_messages


def _texts(value: Any, path: str, seen: set[int]) -> Iterator[tuple[str, Text]]:
    if isinstance(value, Text):
        yield path, value
        return
    if id(value) in seen or isinstance(value, str | int | float | bool | type(None)):
        return
    seen.add(id(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _texts(getattr(value, f.name), f"{path}.{f.name}", seen)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{path}[{key}]", seen)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _texts(item, f"{path}[{index}]", seen)


def _missing(name: str, value: Any) -> list[str]:
    return [
        f"{path}: no {lang}"
        for path, text in _texts(value, name, set())
        if text
        for lang in LANGS
        if not getattr(text, lang)
    ]


def _shipped() -> dict[str, Any]:
    from crmkit.assess.answers import load_questionnaire
    from crmkit.assess.audit import shipped_rules
    from crmkit.blueprints.library import Library
    from crmkit.blueprints.lint import default_settings
    from crmkit.select import deployment, vendor
    from crmkit.select.catalog import shipped_catalog
    from crmkit.select.problems import library

    blueprints = Library.default()
    return {
        "questionnaire": load_questionnaire(None),
        "catalog": shipped_catalog(),
        "problems": library(),
        "rules": default_settings().rules,
        "audit rules": shipped_rules(),
        "step 2": deployment.QUESTIONS,
        "vendor": vendor.STANDARD,
        **{f"blueprint {i}": blueprints.load(i) for i in blueprints.ids()},
    }


def test_every_message_has_every_language() -> None:
    missing = [
        f"{key}: no {lang}"
        for key, entry in all_messages().items()
        for lang in LANGS
        if not entry.get(lang)
    ]
    assert not missing, f"{len(missing)} missing, e.g. {missing[:10]}"


@pytest.mark.parametrize("name", sorted(_shipped()))
def test_every_shipped_text_has_every_language(name: str) -> None:
    missing = _missing(name, _shipped()[name])
    assert not missing, f"{len(missing)} missing, e.g. {missing[:10]}"
