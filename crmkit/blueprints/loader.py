"""Loading blueprints from TOML: includes, overrides, and precise complaints.

A blueprint file may ``include`` library blueprints (by id) or other files (by relative path)
and then override parts of them: an entry whose ``code`` matches an included one changes only the
keys it gives; stages are merged by code; ``extends`` copies another pipeline under a new code;
``drop_stages`` removes stages. Every problem names ``file:line`` and the key path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.blueprints.model import (
    ACTIONS,
    FIELD_TYPES,
    PIPELINE_KINDS,
    SEMANTICS,
    TRIGGERS,
    AutomationRule,
    Blueprint,
    CustomField,
    EntityUse,
    FieldGroup,
    FieldItem,
    Pipeline,
    Role,
    SmartProcess,
    Stage,
    parse_duration,
)
from crmkit.errors import InputError
from crmkit.files import TomlDocument, parse_toml, read_text
from crmkit.i18n import Text, run_msg
from crmkit.schema import Node, Origins, Problems, Source, root, type_name, unknown_key
from crmkit.tomlpos import KeyPath

TOP_KEYS = (
    "blueprint",
    "roles",
    "entities",
    "smart_processes",
    "pipelines",
    "field_groups",
    "fields",
)
LISTS = TOP_KEYS[1:]

_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
# only "not blank" here: the Bitrix24 charset and length are lint rules (BP009), so a bad code is
# reported with the reason Bitrix24 would refuse it
_CODE = re.compile(r"(?s).*\S.*")
_BLANK = "schema.hint.code_blank_key"
_CODE_HINT = "schema.hint.code_blank"
_COLOR_HINT = "schema.hint.colour"


#: what one load may include (the whole shipped library is 14 files, complete-b2b 13 includes)
MAX_INCLUDED_FILES = 64
MAX_INCLUDES = 256

#: Finds an include: (name as written, the including file) → the file to read, or None.
Resolver = Callable[[str, Path | None], Path | None]
#: Reads and parses a file (a library shares its parsed files among its loads).
Reader = Callable[[Path], TomlDocument]


def read_document(path: Path) -> TomlDocument:
    return parse_toml(read_text(path), str(path))


@dataclass(frozen=True)
class Loaded:
    """A blueprint and the merged raw tables it came from (lint reads both)."""

    blueprint: Blueprint
    documents: tuple[str, ...]


class _Layers:
    """Reads files and merges their entries, remembering where each table came from."""

    def __init__(
        self, resolver: Resolver, problems: Problems, reader: Reader = read_document
    ) -> None:
        self.resolver = resolver
        self.reader = reader
        self.problems = problems
        self.origins = Origins()
        self.documents: list[str] = []
        #: each included file is read, parsed and merged once per load: a diamond of includes
        #: (A includes B and C, both include D, …) must not double the work at every level
        self._layers: dict[Path, dict[str, Any] | None] = {}
        self._includes = 0

    def load_file(self, path: Path, stack: tuple[Path, ...]) -> dict[str, Any] | None:
        resolved = stack[-1] if stack else path.resolve()
        if resolved not in self._layers:
            self._layers[resolved] = self.load_document(self.reader(path), path, stack)
        return self._layers[resolved]

    def load_document(
        self, doc: TomlDocument, path: Path | None, stack: tuple[Path, ...]
    ) -> dict[str, Any] | None:
        self.documents.append(doc.source.name)
        self.origins.annotate(doc.data, doc.source)
        top = root(doc.data, doc.source, self.problems)
        for key in doc.data:
            if key not in TOP_KEYS:
                top.error(unknown_key(key, TOP_KEYS), key)
        for key in LISTS:
            if key in doc.data and not isinstance(doc.data[key], list):
                got = type_name(doc.data[key])
                top.error(run_msg("load.blueprint.not_a_list", key=key, got=got), key)
        merged: dict[str, Any] = {key: [] for key in LISTS}
        header = doc.data.get("blueprint")
        includes = header.get("include", []) if isinstance(header, dict) else []
        if isinstance(includes, str):
            includes = [includes]
        if not isinstance(includes, list):
            includes = []  # the header reader reports the wrong type
        for index, name in enumerate(includes):
            if not isinstance(name, str):
                continue
            where_path: KeyPath = ("blueprint", "include", index)
            target = self.resolver(name, path)
            if target is None:
                problem = run_msg("load.blueprint.no_include", name=name)
                self.problems.add(doc.source, where_path, problem)
                continue
            resolved = target.resolve()
            if resolved in stack or (path is not None and resolved == path.resolve()):
                problem = run_msg("load.blueprint.cycle", name=name)
                self.problems.add(doc.source, where_path, problem)
                continue
            self._includes += 1
            if self._includes > MAX_INCLUDES or len(self._layers) >= MAX_INCLUDED_FILES:
                problem = run_msg(
                    "load.blueprint.too_many_includes",
                    files=MAX_INCLUDED_FILES,
                    includes=MAX_INCLUDES,
                )
                raise InputError(problem, where=doc.source.where(where_path))
            layer = self.load_file(target, stack + (resolved,))
            if layer is not None:
                merged = self.merge(merged, layer)
        own_layer: dict[str, Any] = {}
        for key in LISTS:
            entries = doc.data.get(key, [])
            own_layer[key] = entries if isinstance(entries, list) else []
        return self.merge(merged, own_layer, own=True)

    # -- merging ---------------------------------------------------------------------------
    def merge(
        self, base: dict[str, Any], over: dict[str, Any], own: bool = False
    ) -> dict[str, Any]:
        out = dict(base)
        out["roles"] = self._merge_by(
            base["roles"], over["roles"], lambda e: _str_key(e, "code"), own
        )
        out["entities"] = self._merge_by(
            base["entities"], over["entities"], lambda e: _str_key(e, "code"), own
        )
        out["smart_processes"] = self._merge_by(
            base["smart_processes"], over["smart_processes"], lambda e: _str_key(e, "code"), own
        )
        out["field_groups"] = self._merge_by(
            base["field_groups"], over["field_groups"], lambda e: _str_key(e, "entity", "code"), own
        )
        out["fields"] = self._merge_by(
            base["fields"], over["fields"], lambda e: _str_key(e, "entity", "code"), own
        )
        out["pipelines"] = self._merge_pipelines(base["pipelines"], over["pipelines"], own)
        return out

    def _merge_by(
        self,
        base: list[dict[str, Any]],
        over: list[dict[str, Any]],
        key: Callable[[dict[str, Any]], object],
        own: bool,
    ) -> list[dict[str, Any]]:
        result = list(base)
        index = {key(e): i for i, e in enumerate(base) if isinstance(e, dict)}
        index.pop(None, None)
        overlaid: set[object] = set()
        for entry in over:
            if not isinstance(entry, dict):
                result.append(entry)
                continue
            k = key(entry)
            if k is not None and k in index and not (own and k in overlaid):
                result[index[k]] = self._overlay(result[index[k]], entry)
                overlaid.add(k)
            else:
                # duplicates inside one file stay duplicates, for lint to name
                result.append(entry)
                if own:
                    continue
                index.setdefault(k, len(result) - 1)
        return result

    def _overlay(
        self, base: dict[str, Any], over: dict[str, Any], skip: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """``base`` with the keys of ``over``; each key remembers the file it came from, and a
        bilingual text overridden in one language keeps the other."""
        merged = dict(base)
        for key in base:
            origin = self.origins.key_origin(base, key)
            if origin is not None:
                self.origins.set_key(merged, key, *origin)
        for key, value in over.items():
            if key in skip:
                continue
            old = base.get(key)
            if isinstance(old, dict) and _is_text(value) and _is_text(old):
                merged[key] = {**old, **value}
            else:
                merged[key] = value
            origin = self.origins.key_origin(over, key)
            if origin is not None:
                self.origins.set_key(merged, key, *origin)
        origin = self.origins.get(over)
        if origin is not None:
            self.origins.set(merged, *origin)
        return merged

    def _merge_pipelines(
        self, base: list[dict[str, Any]], over: list[dict[str, Any]], own: bool
    ) -> list[dict[str, Any]]:
        result = list(base)
        positions = {_str_key(e, "code"): i for i, e in enumerate(base) if isinstance(e, dict)}
        positions.pop(None, None)
        #: code → the first pipeline of ``result`` with it (what ``extends`` copies); a merged
        #: pipeline keeps the code it replaces, so appends are all that change it
        first: dict[str, int] = {}
        for i, e in enumerate(result):
            _note_code(first, e, i)
        overlaid: set[object] = set()
        for entry in over:
            if not isinstance(entry, dict):
                result.append(entry)
                continue
            code = _str_key(entry, "code")
            parent_code = entry.get("extends")
            if parent_code is not None and not isinstance(parent_code, str):
                self._complain(entry, "extends", run_msg("load.blueprint.extends_type"))
                parent_code = None
            if isinstance(parent_code, str) and code not in positions:
                if parent_code not in first:
                    problem = run_msg("load.blueprint.no_parent", code=parent_code)
                    self._complain(entry, "extends", problem)
                    continue
                copied = self.origins.copy(result[first[parent_code]])
                merged = self._merge_pipeline(copied, entry)
                result.append(merged)
                _note_code(first, merged, len(result) - 1)
                if not own:
                    positions[code] = len(result) - 1
            elif code in positions and code is not None and not (own and code in overlaid):
                result[positions[code]] = self._merge_pipeline(result[positions[code]], entry)
                overlaid.add(code)
            else:
                result.append(self._merge_pipeline(None, entry))
                _note_code(first, result[-1], len(result) - 1)
                # inside one file a repeated code stays a duplicate, for lint to name
                if code is not None and not own:
                    positions.setdefault(code, len(result) - 1)
        return result

    def _merge_pipeline(self, base: dict[str, Any] | None, over: dict[str, Any]) -> dict[str, Any]:
        """Overlay one pipeline; consumes ``extends``, ``drop_stages`` and stages' ``after``."""
        merged = self._overlay(base or {}, over, skip=("stages", "extends", "drop_stages"))
        kept: list[dict[str, Any]] = [
            s for s in (base or {}).get("stages", []) if isinstance(s, dict)
        ]
        drops = over.get("drop_stages", [])
        if isinstance(drops, list):
            kept = self._drop(kept, drops, over)
        elif "drop_stages" in over:
            self._complain(over, "drop_stages", run_msg("load.blueprint.drop_type"))
        over_stages = over.get("stages", [])
        if not isinstance(over_stages, list):
            merged["stages"] = over_stages  # the typed reader reports it
            return merged
        stages = _Stages(kept)
        for stage in over_stages:
            if not isinstance(stage, dict):
                stages.append(stage)
                continue
            # a stage of the pipeline's own file is new: only an included one can be overlaid
            existing = stages.find(stage.get("code")) if base is not None else None
            body = {k: v for k, v in stage.items() if k != "after"}
            stage_origin = self.origins.get(stage)
            if stage_origin is not None:
                self.origins.set(body, *stage_origin)
            if existing is not None:
                stages.replace(existing, self._overlay(stages.items[existing], body))
                if "after" in stage:
                    moved = stages.pop(existing)
                    self._insert(stages, moved, stage)
            elif "after" in stage:
                self._insert(stages, body, stage)
            elif base is not None and body.get("semantics", "process") == "process":
                stages.insert(stages.first_final(), body)
            else:
                stages.append(body)
        merged["stages"] = stages.items
        return merged

    def _drop(
        self, stages: list[dict[str, Any]], drops: list[Any], pipeline: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """``stages`` without those ``drop_stages`` names; a name no stage has is reported."""
        try:
            present = {s.get("code") for s in stages}
            dropped = set(drops)
        except TypeError:  # a code that is an array or a table: compare one by one
            present_list = [s.get("code") for s in stages]
            for name in drops:
                if name not in present_list:
                    problem = run_msg("load.blueprint.no_drop", code=name)
                    self._complain(pipeline, "drop_stages", problem)
            return [s for s in stages if s.get("code") not in drops]
        for name in drops:
            if name not in present:
                problem = run_msg("load.blueprint.no_drop", code=name)
                self._complain(pipeline, "drop_stages", problem)
        return [s for s in stages if s.get("code") not in dropped]

    def _insert(self, stages: _Stages, body: dict[str, Any], stage: dict[str, Any]) -> None:
        after = stage.get("after")
        if not isinstance(after, str):
            self._complain(stage, "after", run_msg("load.blueprint.after_type"))
            stages.append(body)
            return
        where = stages.find(after)
        if where is None:
            self._complain(stage, "after", run_msg("load.blueprint.no_after", code=after))
            stages.append(body)
        else:
            stages.insert(where + 1, body)

    def _complain(self, table: dict[str, Any], key: str, problem: str) -> None:
        origin = self.origins.get(table)
        if origin is None:
            return
        self.problems.add(origin[0], origin[1] + (key,), problem)


def _note_code(first: dict[str, int], entry: object, index: int) -> None:
    if isinstance(entry, dict) and isinstance(entry.get("code"), str):
        first.setdefault(entry["code"], index)


_UNKNOWN = -1


class _Stages:
    """A pipeline's stages while its overrides are applied, with the first position of each
    code and the position of the first final stage kept as the list changes: a stage found by
    its code, or put before the final ones, costs no scan of the list (which made a pipeline of
    n stages cost n² comparisons). Codes are compared as ``==`` compares them; a code that is
    an array or a table (the reader reports it) is looked for one stage at a time."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self._first: dict[Any, int] | None = None
        #: the first stage that is not ``process``; None: there is none; _UNKNOWN: to be found
        self._final: int | None = _UNKNOWN

    def find(self, code: Any) -> int | None:
        """The position of the first stage whose code equals ``code``."""
        if not _hashable(code):
            return next(
                (
                    i
                    for i, s in enumerate(self.items)
                    if isinstance(s, dict) and s.get("code") == code
                ),
                None,
            )
        if self._first is None:
            self._first = {}
            for i, s in enumerate(self.items):
                self._remember(s, i)
        return self._first.get(code)

    def first_final(self) -> int:
        """Where a new stage in progress goes: before the first success or failure stage."""
        if self._final == _UNKNOWN:
            self._final = next((i for i, s in enumerate(self.items) if _is_final(s)), None)
        return len(self.items) if self._final is None else self._final

    def append(self, stage: Any) -> None:
        self.items.append(stage)
        if self._first is not None:
            self._remember(stage, len(self.items) - 1)
        if self._final is None and _is_final(stage):
            self._final = len(self.items) - 1

    def replace(self, index: int, stage: dict[str, Any]) -> None:
        """``stage`` instead of the one at ``index`` (an overlay of it: the same code)."""
        old = self.items[index]
        self.items[index] = stage
        if not (isinstance(old, dict) and _same(old.get("code"), stage.get("code"))):
            self._first = None
        if _is_final(old) != _is_final(stage):
            self._final = _UNKNOWN

    def insert(self, index: int, stage: Any) -> None:
        self.items.insert(index, stage)
        if self._first is not None:
            # what was at index or later moved one place on: only those first positions change
            # (from the end, so a code's first position is moved before it is compared again)
            for i in range(len(self.items) - 1, index, -1):
                moved = self.items[i]
                code = moved.get("code") if isinstance(moved, dict) else None
                if isinstance(moved, dict) and _hashable(code) and self._first.get(code) == i - 1:
                    self._first[code] = i
            if isinstance(stage, dict) and _hashable(stage.get("code")):
                code = stage.get("code")
                if self._first.get(code, index + 1) > index:
                    self._first[code] = index
        if self._final != _UNKNOWN:
            final = self._final
            if final is not None and index <= final:
                final += 1
            if _is_final(stage) and (final is None or index < final):
                final = index
            self._final = final

    def pop(self, index: int) -> Any:
        self._first, self._final = None, _UNKNOWN  # a move: rare, found again when asked
        return self.items.pop(index)

    def _remember(self, stage: Any, index: int) -> None:
        if isinstance(stage, dict):
            code = stage.get("code")
            if _hashable(code):
                assert self._first is not None
                self._first.setdefault(code, index)


def _is_final(stage: Any) -> bool:
    return isinstance(stage, dict) and stage.get("semantics", "process") != "process"


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _same(a: object, b: object) -> bool:
    return a is b or bool(a == b)


def _is_text(value: object) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= {"ru", "en", "uk"}


def _str_key(entry: dict[str, Any], *names: str) -> object:
    """The merge key of an entry, or None when a part is not a string (the reader reports it)."""
    parts = tuple(entry.get(name) for name in names)
    if not all(isinstance(p, str) for p in parts):
        return None
    return parts[0] if len(parts) == 1 else parts


# -- typed reading ------------------------------------------------------------------------------


def _duration(node: Node, key: str) -> int | None:
    text = node.str(key)
    if text is None:
        return None
    minutes = parse_duration(text)
    if minutes is None:
        node.error(run_msg("load.blueprint.duration", text=text), key)
    return minutes


def _read_automation(node: Node) -> AutomationRule:
    trigger = node.str("trigger", required=True, choices=TRIGGERS) or "on_enter"
    action = node.str("action", required=True, choices=ACTIONS) or "create_task"
    rule = AutomationRule(
        trigger=trigger,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
        title=node.text("title", required=True),
        text=node.text("text"),
        role=node.str("role", pattern=_CODE, hint_key=_BLANK),
        delay_minutes=_duration(node, "delay"),
        deadline_minutes=_duration(node, "deadline"),
        complete_on_leave=node.bool("complete_on_leave", default=True),
        target_stage=node.str("target_stage", pattern=_CODE, hint_key=_BLANK),
        where=node.where,
    )
    if trigger == "after_delay" and rule.delay_minutes is None and not node.has("delay"):
        node.error(run_msg("load.blueprint.needs_delay"))
    if action == "move_stage" and not rule.target_stage:
        node.error(run_msg("load.blueprint.needs_target"))
    node.done()
    return rule


def _read_stage(node: Node) -> Stage:
    semantics = node.str("semantics", default="process", choices=SEMANTICS) or "process"
    stage = Stage(
        code=node.str("code", required=True, pattern=_CODE, hint_key=_CODE_HINT) or "",
        name=node.text("name", required=True),
        semantics=semantics,  # type: ignore[arg-type]
        description=node.text("description"),
        color=node.str("color", default="", pattern=_COLOR, hint_key=_COLOR_HINT) or "",
        max_minutes=_duration(node, "max_time"),
        responsible=node.str("responsible", pattern=_CODE, hint_key=_BLANK),
        required_fields=tuple(node.str_list("required_fields")),
        lesson=node.text("lesson"),
        automation=tuple(_read_automation(n) for n in node.tables("automation")),
        where=node.where,
    )
    node.done()
    return stage


def _read_pipeline(node: Node) -> Pipeline:
    kind = node.str("kind", required=True, choices=PIPELINE_KINDS) or "deal"
    pipeline = Pipeline(
        code=node.str("code", required=True, pattern=_CODE, hint_key=_CODE_HINT) or "",
        kind=kind,  # type: ignore[arg-type]
        name=node.text("name", required=True),
        description=node.text("description"),
        process=node.str("process", pattern=_CODE, hint_key=_BLANK),
        tags=tuple(node.str_list("tags")),
        stages=tuple(_read_stage(n) for n in node.tables("stages", required=True)),
        where=node.where,
    )
    if kind == "smart_process" and not pipeline.process:
        node.error(run_msg("load.blueprint.needs_process"))
    if kind != "smart_process" and pipeline.process:
        node.error(run_msg("load.blueprint.process_only"), "process")
    node.done(allowed_extra=("extends", "drop_stages"))
    return pipeline


def _read_field(node: Node) -> CustomField:
    items: list[FieldItem] = []
    for item in node.tables("items"):
        items.append(
            FieldItem(
                value=item.text("value", required=True),
                xml_id=item.str("xml_id", default="") or "",
                default=item.bool("default"),
            )
        )
        item.done()
    result = CustomField(
        entity=node.str("entity", required=True) or "",
        code=node.str("code", required=True) or "",
        type=node.str("type", required=True, choices=FIELD_TYPES) or "string",
        label=node.text("label", required=True),
        help=node.text("help"),
        items=tuple(items),
        mandatory=node.bool("mandatory"),
        multiple=node.bool("multiple"),
        group=node.str("group", pattern=_CODE, hint_key=_BLANK),
        where=node.where,
    )
    node.done()
    return result


def build_blueprint(
    merged: dict[str, Any],
    header: Node | None,
    default_id: str,
    problems: Problems,
    origins: Origins,
    source: Source,
) -> Blueprint:
    """Typed objects from merged raw tables. Pure."""
    top = root(merged, source, problems, origins)
    roles = []
    for node in top.tables("roles"):
        roles.append(
            Role(
                code=node.str("code", required=True) or "",
                name=node.text("name", required=True),
                description=node.text("description"),
                where=node.where,
            )
        )
        node.done()
    entities = []
    for node in top.tables("entities"):
        entities.append(
            EntityUse(
                code=node.str("code", required=True) or "",
                used=node.bool("used", default=True),
                why=node.text("why", required=True),
                where=node.where,
            )
        )
        node.done()
    processes = []
    for node in top.tables("smart_processes"):
        processes.append(
            SmartProcess(
                code=node.str("code", required=True) or "",
                title=node.text("title", required=True),
                description=node.text("description"),
                where=node.where,
            )
        )
        node.done()
    groups = []
    for node in top.tables("field_groups"):
        groups.append(
            FieldGroup(
                code=node.str("code", required=True) or "",
                entity=node.str("entity", required=True) or "",
                name=node.text("name", required=True),
                description=node.text("description"),
                where=node.where,
            )
        )
        node.done()
    pipelines = tuple(_read_pipeline(n) for n in top.tables("pipelines"))
    fields = tuple(_read_field(n) for n in top.tables("fields"))

    bp_id, name, description = default_id, None, None
    if header is not None:
        bp_id = header.str("id", default=default_id) or default_id
        name = header.text("name")
        description = header.text("description")
        header.str_list("include")
        header.done()
    return Blueprint(
        id=bp_id,
        name=name if name else Text(ru=bp_id, en=bp_id),
        description=description or Text(),
        roles=tuple(roles),
        entities=tuple(entities),
        smart_processes=tuple(processes),
        pipelines=pipelines,
        fields=fields,
        field_groups=tuple(groups),
        where=source.name,
    )


def load_document(
    doc: TomlDocument, path: Path | None, resolver: Resolver, reader: Reader = read_document
) -> Blueprint:
    """A blueprint from an already parsed document (``path`` anchors relative includes)."""
    from crmkit.kinds import expect_kind

    expect_kind(doc.data, "blueprint", doc.source.name)
    problems = Problems()
    layers = _Layers(resolver, problems, reader)
    stack = (path.resolve(),) if path is not None else ()
    merged = layers.load_document(doc, path, stack)
    header_node: Node | None = None
    top = root(doc.data, doc.source, problems, layers.origins)
    if "blueprint" in doc.data:
        header_node = top.table("blueprint")
    default_id = path.stem if path is not None else "blueprint"
    blueprint = build_blueprint(
        merged or {k: [] for k in LISTS},
        header_node,
        default_id,
        problems,
        layers.origins,
        doc.source,
    )
    problems.raise_if_any()
    return blueprint


def load_blueprint(path: Path, resolver: Resolver, reader: Reader = read_document) -> Blueprint:
    """Read and resolve a blueprint file. Raises ``LoadError`` naming file:line and key."""
    return load_document(reader(path), path, resolver, reader)
