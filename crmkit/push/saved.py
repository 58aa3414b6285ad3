"""A plan saved with ``--plan-out`` and applied later (``crmkit push plan.json --apply``). Pure.

The file holds the blueprint itself (self-contained, includes resolved), the language and the
options the plan was made with, and the fingerprint of what it was made from: the portal as
read, the item counts, the record of the last push. Applying re-reads the portal; a different
fingerprint means the portal changed since, and nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from crmkit.errors import InputError
from crmkit.i18n import Lang, msg, run_msg

KIND = "crmkit-push-plan"
VERSION = 1


@dataclass(frozen=True)
class SavedPlan:
    portal: str
    fingerprint: str
    lang: Lang
    prune: bool
    blueprint_toml: str
    #: the plan as data, for people and scripts reading the file
    plan: dict[str, Any]

    def to_json(self) -> str:
        data = {
            "kind": KIND,
            "version": VERSION,
            # what the file is, for a person who opens it (JSON has no comments)
            # in the run's language (``lang`` is the language of the names it writes)
            "about": run_msg("saved.plan_about", portal=self.portal),
            "portal": self.portal,
            "fingerprint": self.fingerprint,
            "lang": self.lang,
            "prune": self.prune,
            "blueprint": self.blueprint_toml,
            **self.plan,
        }
        return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def looks_like_plan(text: str) -> bool:
    return text.lstrip().startswith("{")


def parse_saved(text: str, name: str, lang: Lang) -> SavedPlan:
    try:
        data = json.loads(text)
    except ValueError:
        raise InputError(msg("push.file.not_plan", lang), where=name) from None
    ok = (
        isinstance(data, dict)
        and data.get("kind") == KIND
        and data.get("version") == VERSION
        and isinstance(data.get("blueprint"), str)
        and isinstance(data.get("fingerprint"), str)
        and isinstance(data.get("portal"), str)
    )
    if not ok:
        raise InputError(msg("push.file.not_plan", lang), where=name)
    saved_lang = data.get("lang") if data.get("lang") in ("ru", "en", "uk") else lang
    plan = {k: v for k, v in data.items() if k in ("plan", "summary", "drift")}
    return SavedPlan(
        portal=data["portal"],
        fingerprint=data["fingerprint"],
        lang=saved_lang,
        prune=bool(data.get("prune")),
        blueprint_toml=data["blueprint"],
        plan=plan,
    )
