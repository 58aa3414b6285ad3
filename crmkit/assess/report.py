"""The assessment as text, JSON (DESIGN.md), Markdown and HTML (with the profile drawn as SVG).

The profile shows, per dimension, what was answered and the highest level that answer still
allows: a ceiling, not a grade (a dimension the lower levels ask nothing of shows a high number
with nothing there), and what the next level asks of it.

Pure: values in, a string out. Markdown comes from ``crmkit/export/templates/assessment.md.j2``;
HTML is that Markdown in an ``HtmlDocument`` with the profile drawn as inline SVG.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.assess.model import (
    DONT_KNOW,
    MAX_LEVEL,
    NO_CRM,
    Question,
    Questionnaire,
    question_counts,
)
from crmkit.assess.readiness import Readiness
from crmkit.assess.scoring import Assessment, ScoredAnswer
from crmkit.export.frame import DocumentMeta
from crmkit.i18n import Lang, msg

if TYPE_CHECKING:
    from crmkit.export.html import HtmlDocument

_PROFILE_MARK = "@@PROFILE@@"


# -- the questionnaire --------------------------------------------------------------------------
def questions_data(questionnaire: Questionnaire, lang: Lang) -> list[dict[str, Any]]:
    """The questionnaire as DESIGN.md's stable JSON list."""
    return [
        {
            "id": q.id,
            "dimension": q.dimension,
            "text": q.text.get(lang),
            "kind": q.kind,
            "choices": [
                {"id": c.id, "text": c.text.get(lang), "level": c.level} for c in q.choices
            ],
        }
        for q in questionnaire.questions
    ]


def questions_text(questionnaire: Questionnaire, lang: Lang) -> str:
    with_crm, without_crm = question_counts(questionnaire)
    total = len(questionnaire.questions)
    split = (
        ""
        if with_crm == without_crm == total
        else msg("assess.questions_split", lang, with_crm=with_crm, without_crm=without_crm)
    )
    lines = [
        questionnaire.title.get(lang),
        msg(
            "assess.questions_header",
            lang,
            id=questionnaire.id,
            version=questionnaire.version,
            count=total,
            split=split,
        ),
    ]
    for section in questionnaire.sections():
        lines += ["", f"== {section.name.get(lang)} ({section.id})"]
        for q in questionnaire.questions_of(section.id):
            notes = []
            if q.kind == "multi":
                notes.append(msg("assess.multi", lang))
            if q.only_if:
                notes.append(msg("assess.only_if", lang, tag=q.only_if))
            if q.skip_if and q.implied_choice:
                notes.append(msg("assess.skip_if", lang, tag=q.skip_if, choice=q.implied_choice.id))
            suffix = f"  [{'; '.join(notes)}]" if notes else ""
            lines.append(f"{q.id}: {q.text.get(lang)}{suffix}")
            if q.help:
                lines.append(f"    {q.help.get(lang)}")
            for c in q.choices:
                level = str(c.level) if c.level is not None else "–"
                lines.append(f"  [{level}] {c.id}: {c.text.get(lang)}")
    return "\n".join(lines) + "\n"


# -- shared pieces ------------------------------------------------------------------------------
def _answer_text(question: Question | None, answer: ScoredAnswer, lang: Lang) -> str:
    texts = []
    for choice_id in answer.choices:
        if choice_id == DONT_KNOW:
            texts.append(msg("assess.dont_know", lang))
            continue
        choice = question.choice(choice_id) if question else None
        texts.append(choice.text.get(lang) if choice else choice_id)
    return "; ".join(texts) or "—"


def _dimension_name(questionnaire: Questionnaire, dimension_id: str, lang: Lang) -> str:
    dimension = questionnaire.dimension(dimension_id)
    return dimension.name.get(lang) if dimension else dimension_id


def _level_name(questionnaire: Questionnaire, level: int, lang: Lang) -> str:
    return questionnaire.level_info(level).name.get(lang)


def _answer_value(questionnaire: Questionnaire, answer: ScoredAnswer) -> str | list[str]:
    question = questionnaire.question(answer.question)
    if question is not None and question.kind == "multi":
        return list(answer.choices)
    return answer.choices[0] if answer.choices else ""


def blueprint_command(answers_file: str, questionnaire_file: str | None = None) -> str:
    """The command that tailors the next-level blueprint, ready to paste into a shell."""
    args = ["crmkit", "blueprint", "new", "--from-assessment", answers_file]
    if questionnaire_file:
        args += ["--questionnaire", questionnaire_file]
    return " ".join(shlex.quote(" ".join(arg.split())) for arg in args)


@dataclass(frozen=True)
class _Dimension:
    """One row of the profile: what was answered, and the highest level it still allows."""

    name: str
    level: int
    answer: str
    #: what the next level asks of this dimension ("—" at level 5)
    next: str


def _profile(questionnaire: Questionnaire, assessment: Assessment, lang: Lang) -> list[_Dimension]:
    """The profile as answers and ceilings: a dimension's level is the highest level whose
    criteria its answers still meet, so «Регламенты 4» with no regulations only says that
    regulations are asked for from level 5 on; the row says so."""
    rows = []
    for dimension_id, level in assessment.dimensions.items():
        answers = [
            a for a in assessment.answers if a.dimension == dimension_id and a.level == level
        ]
        said = []
        needed = []
        for answer in answers:
            question = questionnaire.question(answer.question)
            said.append(_answer_text(question, answer, lang))
            chosen = [question.choice(c) for c in answer.choices] if question else []
            if any(c is not None and NO_CRM in c.tags for c in chosen):
                needed.append(msg("assess.next_crm", lang))
                continue
            choice = question.lowest_choice_at_least(level + 1) if question else None
            if level < MAX_LEVEL and choice is not None and choice.level is not None:
                needed.append(
                    msg("assess.next_needs", lang, level=choice.level, text=choice.text.get(lang))
                )
        rows.append(
            _Dimension(
                _dimension_name(questionnaire, dimension_id, lang),
                level,
                "; ".join(said) or "—",
                "; ".join(needed) or "—",
            )
        )
    return rows


def _choose_advice(lang: Lang) -> list[str]:
    """How to choose a CRM, in the words of seed 001: for a company that has none yet."""
    return [msg(f"assess.choose_{key}", lang) for key in ("map", "kinds", "cloud", "trial")]


def _verdict(readiness: Readiness, lang: Lang) -> str:
    return msg(f"assess.verdict_{readiness.verdict}", lang)


def _reasons_against(readiness: Readiness, lang: Lang) -> list[str]:
    reasons = [r.get(lang) for r in readiness.reasons_against]
    if not readiness.reasons_for and not reasons:
        reasons.append(msg("assess.no_signs", lang))
    return reasons


# -- JSON ---------------------------------------------------------------------------------------
def to_data(questionnaire: Questionnaire, assessment: Assessment, lang: Lang) -> dict[str, Any]:
    """The result as DESIGN.md's JSON object (``level``, ``dimensions``, ``held_back_by``, …)."""
    readiness = assessment.readiness
    return {
        "questionnaire": {
            "id": assessment.questionnaire_id,
            "version": assessment.questionnaire_version,
        },
        "level": assessment.level,
        "level_name": _level_name(questionnaire, assessment.level, lang),
        "dimensions": dict(assessment.dimensions),
        "held_back_by": [
            {
                "question": a.question,
                "dimension": a.dimension,
                "answer": _answer_value(questionnaire, a),
                "level": a.level,
            }
            for a in assessment.held_back_by
        ],
        "actions": [
            {
                "target_level": action.target,
                "question": action.question,
                "dimension": action.dimension,
                "answer": action.choice,
                "text": action.text.get(lang),
                "generates": list(action.generates),
            }
            for action in assessment.actions
        ],
        "dont_know": list(assessment.dont_know),
        "readiness": {
            "applies": readiness.applies,
            "verdict": readiness.verdict,
            "reasons_for": [r.get(lang) for r in readiness.reasons_for],
            "reasons_against": [r.get(lang) for r in readiness.reasons_against],
            "provisional": readiness.unsure,
        },
        "tags": sorted(assessment.tags),
        "answers": {a.question: _answer_value(questionnaire, a) for a in assessment.answers},
    }


# -- text ---------------------------------------------------------------------------------------
def to_text(
    questionnaire: Questionnaire,
    assessment: Assessment,
    lang: Lang,
    *,
    answers_file: str | None = None,
    questionnaire_file: str | None = None,
) -> str:
    """The terminal report: readiness (no CRM yet), level, a bar chart per dimension, next steps."""
    lines: list[str] = []
    readiness = assessment.readiness
    if readiness.applies:
        lines += [msg("assess.readiness", lang), "  " + _verdict(readiness, lang)]
        lines += [f"  + {r.get(lang)}" for r in readiness.reasons_for]
        lines += [f"  - {r}" for r in _reasons_against(readiness, lang)]
        if readiness.unsure:
            lines.append("  " + msg("assess.readiness_unsure", lang))
        if readiness.verdict != "wait":
            lines += ["", msg("assess.choose", lang)]
            lines += [f"  - {item}" for item in _choose_advice(lang)]
        lines.append("")
    info = questionnaire.level_info(assessment.level)
    lines.append(msg("assess.level", lang, level=assessment.level, name=info.name.get(lang)))
    if info.summary:
        lines.append("  " + info.summary.get(lang))
    from crmkit.terminal import table

    lines += ["", msg("assess.profile", lang), msg("assess.profile_note", lang), ""]
    lines += table(
        [
            msg("assess.dimension", lang),
            msg("assess.dim_level", lang),
            msg("assess.answer", lang),
            msg("assess.next_level", lang),
        ],
        [
            [r.name, str(r.level), r.answer, r.next]
            for r in _profile(questionnaire, assessment, lang)
        ],
    )
    if assessment.held_back_by:
        lines += ["", msg("assess.held_back", lang, level=assessment.level)]
        for answer in assessment.held_back_by:
            question = questionnaire.question(answer.question)
            text = question.text.get(lang) if question else answer.question
            lines.append(
                f"  - {_dimension_name(questionnaire, answer.dimension, lang)}: {text} "
                f"→ {_answer_text(question, answer, lang)} ({answer.level})"
            )
    lines += ["", msg("assess.actions", lang)]
    if assessment.actions:
        for target in range(assessment.level + 1, MAX_LEVEL + 1):
            actions = assessment.actions_for(target)
            if not actions:
                continue
            lines.append(
                "  "
                + msg(
                    "assess.to_level",
                    lang,
                    level=target,
                    name=_level_name(questionnaire, target, lang),
                )
            )
            for index, action in enumerate(actions, 1):
                lines.append(f"    {index}. {action.text.get(lang)}")
                if action.generates:
                    lines.append(
                        "       " + msg("assess.generates", lang, ids=", ".join(action.generates))
                    )
        if answers_file:
            command = blueprint_command(answers_file, questionnaire_file)
            lines += ["", f"{msg('assess.generate_hint', lang)} {command}"]
    else:
        lines.append("  " + msg("assess.no_actions", lang))
    if assessment.dont_know:
        lines += ["", msg("assess.unknown", lang), "  " + msg("assess.unknown_note", lang)]
        for question_id in assessment.dont_know:
            question = questionnaire.question(question_id)
            lines.append(f"  - {question_id}: {question.text.get(lang) if question else ''}")
    return "\n".join(lines) + "\n"


# -- Markdown and HTML --------------------------------------------------------------------------
def _context(
    questionnaire: Questionnaire, assessment: Assessment, lang: Lang, profile_figure: bool
) -> dict[str, Any]:
    """What the document template shows: no commands, file names or library ids (those are in
    the terminal report and the implementer's appendix)."""
    readiness = assessment.readiness
    info = questionnaire.level_info(assessment.level)
    groups = []
    for target in range(assessment.level + 1, MAX_LEVEL + 1):
        actions = assessment.actions_for(target)
        if actions:
            groups.append(
                {
                    "heading": msg(
                        "assess.to_level",
                        lang,
                        level=target,
                        name=_level_name(questionnaire, target, lang),
                    ),
                    "steps": [{"text": a.text.get(lang)} for a in actions],
                }
            )
    held = []
    for answer in assessment.held_back_by:
        question = questionnaire.question(answer.question)
        held.append(
            {
                "dimension": _dimension_name(questionnaire, answer.dimension, lang),
                "question": question.text.get(lang) if question else answer.question,
                "answer": _answer_text(question, answer, lang),
                "level": answer.level,
            }
        )
    unknown = []
    for question_id in assessment.dont_know:
        question = questionnaire.question(question_id)
        unknown.append(question.text.get(lang) if question else question_id)
    return {
        "title": questionnaire.title.get(lang) or msg("assess.title", lang),
        "readiness": {
            "heading": msg("assess.readiness", lang),
            "verdict": _verdict(readiness, lang),
            "for_label": msg("assess.reasons_for", lang),
            "against_label": msg("assess.reasons_against", lang),
            "reasons_for": [r.get(lang) for r in readiness.reasons_for],
            "reasons_against": _reasons_against(readiness, lang),
            "note": msg("assess.readiness_unsure", lang) if readiness.unsure else "",
            "choose_heading": msg("assess.choose", lang) if readiness.verdict != "wait" else "",
            "choose": _choose_advice(lang) if readiness.verdict != "wait" else [],
        }
        if readiness.applies
        else None,
        "level_line": msg("assess.level", lang, level=assessment.level, name=info.name.get(lang)),
        "level_summary": info.summary.get(lang),
        "profile_heading": msg("assess.profile", lang),
        "profile_note": msg("assess.profile_note", lang),
        "profile_figure": profile_figure,
        "dimension_label": msg("assess.dimension", lang),
        "level_label": msg("assess.dim_level", lang),
        "ceiling_label": msg("assess.dim_level", lang),
        "next_label": msg("assess.next_level", lang),
        "held_level_label": msg("assess.level_short", lang),
        "question_label": msg("assess.question", lang),
        "answer_label": msg("assess.answer", lang),
        "profile": _profile(questionnaire, assessment, lang),
        "held_heading": msg("assess.held_back", lang, level=assessment.level),
        "held": held,
        "actions_heading": msg("assess.actions", lang),
        "action_groups": groups,
        "no_actions": msg("assess.no_actions", lang),
        "unknown_heading": msg("assess.unknown", lang),
        "unknown_note": msg("assess.unknown_note", lang),
        "unknown": unknown,
    }


def summary_markdown(questionnaire: Questionnaire, assessment: Assessment, lang: Lang) -> str:
    """The answer on page one: the level, what holds the company on it, the first steps."""
    from crmkit.export.markdown import md_escape

    info = questionnaire.level_info(assessment.level)
    lines = [
        "**"
        + md_escape(msg("assess.level", lang, level=assessment.level, name=info.name.get(lang)))
        + "** "
        + md_escape(info.summary.get(lang))
    ]
    readiness = assessment.readiness
    if readiness.applies:
        lines.append(md_escape(_verdict(readiness, lang)))
    held: list[str] = []
    for answer in assessment.held_back_by:
        name = _dimension_name(questionnaire, answer.dimension, lang)
        if name not in held:
            held.append(name)
    if held:
        lines.append(
            md_escape(msg("assess.doc.held", lang, level=assessment.level, what=", ".join(held)))
        )
    steps = assessment.actions_for(assessment.level + 1)[:3]
    if steps:
        lines.append(
            md_escape(msg("assess.doc.next", lang, level=assessment.level + 1))
            + "\n\n"
            + "\n".join(f"{i}. {md_escape(a.text.get(lang))}" for i, a in enumerate(steps, 1))
        )
    return "\n\n".join(lines)


def implementer_markdown(assessment: Assessment, lang: Lang) -> str:
    """For the implementer: which library blueprints each step would use (ids named here)."""
    from crmkit.export.markdown import md_cell, md_code

    rows = [a for a in assessment.actions if a.generates]
    if not rows:
        return ""
    step, ids = (md_cell(msg(f"assess.doc.appendix_{k}", lang)) for k in ("step", "ids"))
    head = f"| {step} | {ids} |"
    lines = [md_cell(msg("assess.doc.appendix_note", lang)), "", head, "| --- | --- |"]
    for action in rows:
        used = ", ".join(f"`{md_code(i)}`" for i in action.generates)
        lines.append(f"| {md_cell(action.text.get(lang))} | {used} |")
    return "\n".join(lines)


def to_markdown(
    questionnaire: Questionnaire,
    assessment: Assessment,
    lang: Lang,
    *,
    meta: DocumentMeta | None = None,
) -> str:
    from crmkit.export.markdown import framed_markdown, render_template

    context = _context(questionnaire, assessment, lang, False)
    return framed_markdown(
        render_template("assessment.md.j2", **context),
        meta or DocumentMeta(),
        summary_markdown(questionnaire, assessment, lang),
        lang,
        appendix=implementer_markdown(assessment, lang),
    )


def profile_svg(questionnaire: Questionnaire, assessment: Assessment, lang: Lang) -> str:
    """The profile as a chart: each dimension's level, the company's level as a line across
    them, the dimensions that hold the company there marked (colour, a triangle, bold)."""
    from crmkit.export.level_chart import LevelLabels, LevelRow, level_profile_svg

    holding = {a.dimension for a in assessment.held_back_by}
    rows = [
        LevelRow(_dimension_name(questionnaire, d, lang), level, str(level), d in holding)
        for d, level in assessment.dimensions.items()
    ]
    labels = LevelLabels(
        title=msg("assess.profile_chart", lang),
        company=msg("chart.profile.company", lang, level=assessment.level),
        holds=msg("chart.profile.holds", lang),
    )
    return level_profile_svg(rows, assessment.level, labels)


def assessment_document(
    questionnaire: Questionnaire,
    assessment: Assessment,
    lang: Lang,
    meta: DocumentMeta | None = None,
) -> HtmlDocument:
    """The assessment in the document frame (``render`` it, or put it in the combined report)."""
    from crmkit.export.html import HtmlDocument
    from crmkit.export.markdown import html_values, render_template

    with html_values():
        context = _context(questionnaire, assessment, lang, True)
        markdown = render_template("assessment.md.j2", **context)
        before, _, after = markdown.partition(_PROFILE_MARK)
        document = HtmlDocument(
            title=context["title"],
            lang=lang,
            kind=msg("assess.doc.kind", lang),
            meta=meta or DocumentMeta(),
        )
        document.summarize(summary_markdown(questionnaire, assessment, lang))
        document.markdown(before).figure(profile_svg(questionnaire, assessment, lang))
        document.markdown(after)
        document.for_implementer(implementer_markdown(assessment, lang))
    return document


def to_html(
    questionnaire: Questionnaire,
    assessment: Assessment,
    lang: Lang,
    *,
    meta: DocumentMeta | None = None,
) -> str:
    return assessment_document(questionnaire, assessment, lang, meta).render()
