"""Names pushed in each language a blueprint speaks: a portal set up with Ukrainian names is
found again by them — the second push plans nothing and doubles no pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from push_util import LIBRARY, counts, push_to, state_of

from crmkit.sandbox import start_sandbox


@pytest.mark.parametrize("lang", ["uk", "ru", "en"])
def test_a_second_push_in_the_same_language_plans_nothing(tmp_path: Path, lang: str) -> None:
    bp = LIBRARY.load("complete-b2b")
    with start_sandbox(port=0, rate=None) as sb:
        first = push_to(sb, bp, tmp_path, lang=lang)
        assert first.verified, (lang, first.failures)
        after_first = counts(state_of(sb))
        again = push_to(sb, bp, tmp_path, lang=lang, apply=False)
        assert again.plan.changes == 0, [
            e.address for e in again.plan.entries if e.action != "unchanged"
        ][:5]
        # a push that lost its record finds the pipelines by their names, in that language
        (next((tmp_path / "push").glob("*.applied.json"))).unlink()
        blind = push_to(sb, bp, tmp_path, lang=lang)
        assert blind.verified
        assert counts(state_of(sb)) == after_first
        names = {f.name for f in state_of(sb).deal_funnels()}
        wanted = {p.name.get(lang) for p in bp.pipelines if p.kind == "deal"}  # type: ignore[arg-type]
        assert wanted <= names
