"""Library functions behind the ``crmkit blueprint`` commands (no click here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import Finding, LintSettings, default_settings, lint, summary
from crmkit.blueprints.model import Blueprint
from crmkit.i18n import Lang


@dataclass(frozen=True)
class LibraryEntry:
    id: str
    blueprint: Blueprint
    path: Path

    def to_dict(self, lang: Lang) -> dict[str, object]:
        bp = self.blueprint
        return {
            "id": self.id,
            "name": bp.name.get(lang),
            "description": bp.description.get(lang),
            "pipelines": [
                {"code": p.code, "kind": p.kind, "name": p.name.get(lang), "stages": len(p.stages)}
                for p in bp.pipelines
            ],
            "fields": len(bp.fields),
            "roles": [r.code for r in bp.roles],
        }


def list_library(library: Library) -> list[LibraryEntry]:
    entries = []
    for name in library.ids():
        path = library.find(name)
        assert path is not None
        entries.append(LibraryEntry(name, library.load(name), path))
    return entries


@dataclass(frozen=True)
class LintReport:
    target: str
    findings: list[Finding]

    @property
    def counts(self) -> dict[str, int]:
        return summary(self.findings)

    def failed(self, strict: bool) -> bool:
        counts = self.counts
        return counts["error"] > 0 or (strict and counts["warning"] > 0)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.target,
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.counts,
        }


def lint_target(
    target: str, library: Library, lang: Lang, settings: LintSettings | None = None
) -> LintReport:
    blueprint = library.load_path_or_id(target)
    if is_empty(blueprint):
        from crmkit.errors import ValidationFailed
        from crmkit.i18n import msg

        raise ValidationFailed(f"{target}: {msg('lint.empty', lang)}")
    return LintReport(target, lint(blueprint, settings or default_settings(), lang))


def is_empty(blueprint: Blueprint) -> bool:
    """Nothing to check or set up: no pipeline, field, smart process, role or entity."""
    return not (
        blueprint.pipelines
        or blueprint.fields
        or blueprint.smart_processes
        or blueprint.roles
        or blueprint.entities
    )


@dataclass(frozen=True)
class NewBlueprint:
    blueprint: Blueprint
    #: the TOML to write, with a header saying how it was made
    text: str
    errors: int


def new_blueprint(
    *,
    library: Library,
    lang: Lang,
    today: str,
    assessment: Path | None = None,
    base: str | None = None,
    base_path: Path | None = None,
    questionnaire: Path | None = None,
    origin: str = "",
) -> NewBlueprint:
    """A self-contained blueprint: tailored from an assessment, or a library blueprint (or file)
    with its includes resolved. Exactly one of ``assessment``, ``base`` / ``base_path``."""
    from crmkit import __version__
    from crmkit.blueprints.dump import dump_blueprint
    from crmkit.i18n import msg

    if assessment is not None:
        # the assessment package builds on this one, so it is imported only when asked for
        from crmkit.assess.answers import load_questionnaire
        from crmkit.assess.tailor import tailor_from_assessment

        chosen = load_questionnaire(questionnaire) if questionnaire else None
        result = tailor_from_assessment(assessment, library, lang, chosen)
    elif base_path is not None:
        result = library.load_path_or_id(str(base_path))
    else:
        assert base is not None
        result = library.load(base)
    header = [
        msg("blueprint.new.header", lang, version=__version__, date=today),
        f"crmkit blueprint new {origin}".strip(),
    ]
    errors = [f for f in lint(result, lang=lang) if f.severity == "error"]
    return NewBlueprint(result, dump_blueprint(result, comment=header), len(errors))
