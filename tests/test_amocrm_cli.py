"""``crmkit pull|push --target amocrm`` through the command line, over real HTTP against the amoCRM
sandbox: what a pull gives back of a seeded account, every library blueprint pushed then checked
(nothing planned, no write), saved plans and stale ones, the record and backup, drift, the
client document in amoCRM's words, the refusals (wrong token, plain http, a blocked account)
as one line each, --prune deleting the pipeline crmkit made and the blueprint dropped, the
token in no output and no file, and a push killed mid-apply that a re-run finishes with nothing
doubled."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import lint
from crmkit.blueprints.model import bitrix_field_name
from crmkit.push.amocrm.fields import write_type
from crmkit.sandbox.amocrm import AmoSandbox, start_amocrm_sandbox
from tests.amo_util import call, every_page, ok

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = Library.default()
#: the token every sandbox here accepts: a test greps every output and file for it
TOKEN = "amoT0ken.NeverShown-7f3c29d1e8"
Run = Callable[..., Any]


def sandbox(**kwargs: Any) -> AmoSandbox:
    kwargs.setdefault("rate", None)
    return start_amocrm_sandbox(port=0, token=TOKEN, **kwargs)


@pytest.fixture
def amo(crmkit: Run) -> Callable[..., Any]:
    """``crmkit`` with the sandbox's address and token given as options."""

    def invoke(sb: AmoSandbox, *args: str, **kwargs: Any) -> Any:
        return crmkit(*args, "--target", "amocrm", "--url", sb.base_url, "--token", TOKEN, **kwargs)

    return invoke


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("crmkit: ") and TOKEN not in err
    return lines[0]


def files_under(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


# -- pull gives back what the account holds ------------------------------------------------------


def test_pull_of_a_seeded_account_gives_back_its_pipelines_statuses_reasons_and_fields(
    amo: Run, tmp_path: Path
) -> None:
    with sandbox(seed=7) as sb:
        result = amo(sb, "pull", "--format", "json", "--out", "p.json")
        assert result.code == 0, result.err
        pipelines = sorted(
            (p for p in every_page(sb, "/api/v4/leads/pipelines", "pipelines")),
            key=lambda p: (p["sort"], p["id"]),
        )
        reasons = sorted(
            every_page(sb, "/api/v4/leads/loss_reasons", "loss_reasons"),
            key=lambda r: (r["sort"], r["id"]),
        )
        fields = [
            f
            for path in ("leads", "contacts", "companies")
            for f in every_page(sb, f"/api/v4/{path}/custom_fields", "custom_fields")
            if not f.get("is_predefined")
        ]
    bp = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))["blueprint"]
    assert pipelines and reasons and fields  # a seeded account has all three
    pulled = {p["name"]["ru"]: p["stages"] for p in bp["pipelines"]}
    assert list(pulled) == [p["name"] for p in pipelines if not p["is_archive"]]
    for pipe in pipelines:
        statuses = sorted(pipe["_embedded"]["statuses"], key=lambda s: (s["sort"], s["id"]))
        wanted = [s["name"] for s in statuses if s["type"] != 1]  # amoCRM keeps «unsorted»
        wanted += [r["name"] for r in reasons]  # the account's loss reasons, in every pipeline
        assert [s["name"]["ru"] for s in pulled[pipe["name"]]] == wanted
        semantics = [s.get("semantics", "process") for s in pulled[pipe["name"]]]
        assert semantics[len(wanted) - len(reasons) - 2 :] == ["success"] + ["failure"] * (
            len(reasons) + 1
        )
    labels = {f["label"]["ru"] for f in bp["fields"]}
    assert labels == {f["name"] for f in fields}


# -- push: every library blueprint, then a check that plans nothing ------------------------------


@pytest.mark.parametrize("bid", LIBRARY.ids())
def test_every_library_blueprint_pushed_then_a_check_plans_nothing_and_writes_nothing(
    amo: Run, tmp_path: Path, bid: str
) -> None:
    with sandbox() as sb:
        pushed = amo(sb, "push", bid, "--apply", "--yes", "--names", "ru", "--format", "json")
        assert pushed.code == 0, pushed.err
        applied = json.loads(pushed.out)["applied"]
        assert applied["verified"] and not applied["failures"] and not applied["left"]
        writes, requests = sb.writes, sb.requests
        check = amo(sb, "push", bid, "--check")
        assert check.code == 0, check.out + check.err
        assert sb.writes == writes and sb.requests > requests  # it read, it wrote nothing
        pulled = amo(sb, "pull", "--format", "json", "--out", "-")
    assert pulled.code == 0, pulled.err
    bp, back = LIBRARY.load(bid), json.loads(pulled.out)["blueprint"]
    stages = {p["name"]["ru"]: [s["name"]["ru"] for s in p["stages"]] for p in back["pipelines"]}
    reasons: list[str] = []
    for pipe in (p for p in bp.pipelines if p.kind in ("lead", "deal")):
        reasons += [s.name.ru for s in pipe.stages_with("failure") if s.name.ru not in reasons]
    for pipe in (p for p in bp.pipelines if p.kind in ("lead", "deal")):
        working = [s.name.ru for s in pipe.stages if s.semantics == "process"]
        got = stages[pipe.name.ru]
        assert got[: len(working)] == working  # statuses in order
        assert got[len(working)] == pipe.stages_with("success")[0].name.ru  # won (142)
        assert set(got[len(working) + 2 :]) == set(reasons)  # lost, then the loss reasons


def _api_required(bid: str) -> dict[tuple[str, str], set[str]]:
    """(pipeline name, stage name) → the custom fields a library blueprint needs filled to
    leave that stage, where amoCRM's API can say it (custom fields of leads and deals)."""
    bp = LIBRARY.load(bid)
    out: dict[tuple[str, str], set[str]] = {}
    for pipe in (p for p in bp.pipelines if p.kind in ("lead", "deal")):
        for stage in pipe.stages:
            for name in stage.required_fields:
                found = bp.custom_field(bitrix_field_name(name), pipe.kind) or bp.custom_field(
                    bitrix_field_name(name)
                )
                if (
                    found is not None
                    and found.entity in ("lead", "deal")
                    and write_type(found.type, found.multiple) is not None
                ):
                    key = (pipe.name.ru, stage.name.ru)
                    out.setdefault(key, set()).add(bitrix_field_name(name))
    return out


WITH_REQUIRED = [bid for bid in LIBRARY.ids() if _api_required(bid)]


def test_some_library_blueprints_have_required_fields_the_api_can_set() -> None:
    assert "deal-marketing" in WITH_REQUIRED  # the round trip below is not empty


@pytest.mark.parametrize("bid", WITH_REQUIRED)
def test_required_fields_come_back_on_the_stage_they_were_on(
    amo: Run, tmp_path: Path, bid: str
) -> None:
    with sandbox() as sb:
        assert amo(sb, "push", bid, "--apply", "--yes", "--names", "ru").code == 0
        pulled = amo(sb, "pull", "--out", "portal.toml")
        assert pulled.code == 0, pulled.err
    back = Library.default().load_path_or_id(str(tmp_path / "portal.toml"))
    got = {
        (p.name.ru, s.name.ru): {bitrix_field_name(n) for n in s.required_fields}
        for p in back.pipelines
        for s in p.stages
        if s.required_fields
    }
    assert got == _api_required(bid)
    # the required fields name fields the pulled file has (stage codes made of long amoCRM
    # names may still be too long for Bitrix24: another rule's matter)
    assert [f.message for f in lint(back) if "required" in f.path and f.severity == "error"] == []
    header = (tmp_path / "portal.toml").read_text(encoding="utf-8")
    assert "required_fields" not in header.split("[blueprint]")[0]  # nothing left unsaid


# -- saved plans, stale plans, record, backup, drift, the document ---------------------------------


def test_a_saved_plan_applies_then_a_stale_one_is_refused_and_drift_is_reported(
    amo: Run, tmp_path: Path
) -> None:
    with sandbox() as sb:
        planned = amo(sb, "push", "deal-b2b-short", "--plan-out", "plan.json")
        assert planned.code == 0, planned.err
        assert sb.writes == 0
        applied = amo(sb, "push", "plan.json", "--apply", "--yes")
        assert applied.code == 0, applied.err
        key = sb.base_url.removeprefix("http://").replace(":", "_")
        record = tmp_path / "push" / f"{key}.applied.json"
        backups = list((tmp_path / "push").glob(f"{key}.backup-*.toml"))
        assert record.is_file() and len(backups) == 1
        # a plan made now, then the account changed by hand: applying it is refused
        assert amo(sb, "push", "deal-b2b-short", "--plan-out", "again.json").code == 0
        funnel = next(
            p
            for p in every_page(sb, "/api/v4/leads/pipelines", "pipelines")
            if p["name"] == LIBRARY.load("deal-b2b-short").pipelines[0].name.en
        )
        status = next(s for s in funnel["_embedded"]["statuses"] if s["type"] == 0)
        path = f"/api/v4/leads/pipelines/{funnel['id']}/statuses/{status['id']}"
        ok(sb, "PATCH", path, {"name": "Переименовано вручную"})
        writes = sb.writes
        stale = amo(sb, "push", "again.json", "--apply", "--yes")
        assert stale.code == 1 and sb.writes == writes
        one_line(stale.err)
        drifted = amo(sb, "push", "deal-b2b-short", "--format", "json")
    assert drifted.code == 0, drifted.err
    drift = json.loads(drifted.out)["drift"]
    assert any(d["now"] == "Переименовано вручную" for d in drift), drift


def test_the_plan_document_names_amocrm_things_in_its_words(amo: Run, tmp_path: Path) -> None:
    with sandbox() as sb:
        assert amo(sb, "push", "deal-b2b-short", lang="ru").code == 0
        html = (tmp_path / "reports" / "push-plan.html").read_text(encoding="utf-8")
        assert "аккаунта amoCRM" in html and "этап «" in html and "Причина отказа «" in html
        assert "портал" not in html.lower() and "стадия «" not in html
        assert "loss_reason." not in html and "127.0.0.1" not in html and TOKEN not in html
        assert amo(sb, "push", "deal-b2b-short", "--apply", "--yes", lang="en").code == 0
        html = (tmp_path / "reports" / "push-plan.html").read_text(encoding="utf-8")
        assert "The amoCRM account set-up: what was done" in html and "Loss reason" in html


# -- refusals: one line each ----------------------------------------------------------------------


def test_a_wrong_token_is_one_line_exit_1_as_a_wrong_bitrix24_webhook(crmkit: Run) -> None:
    with sandbox() as sb:
        for lang in ("ru", "en", "uk"):
            result = crmkit(
                "push",
                "deal-b2b-short",
                "--url",
                sb.base_url,
                "--token",
                "wr0ng.t0ken.abc",
                lang=lang,
            )
            assert result.code == 1 and result.out == ""
            line = one_line(result.err)
            assert "amoCRM" in line and sb.base_url in line and "wr0ng.t0ken" not in line
        assert sb.writes == 0


def test_plain_http_to_an_account_that_is_not_local_is_refused_before_anything_is_sent(
    crmkit: Run,
) -> None:
    result = crmkit("push", "deal-b2b-short", "--url", "http://acme.amocrm.ru", "--token", TOKEN)
    assert result.code == 2
    assert one_line(result.err).startswith("crmkit: --url: ") and "https://" in result.err


@pytest.mark.parametrize("kind", ["json", "html"])
def test_a_blocked_account_stops_at_once_and_says_to_contact_support(amo: Run, kind: str) -> None:
    with sandbox() as sb:
        sb.block(kind)
        before = sb.requests
        result = amo(sb, "push", "deal-b2b-short", "--apply", "--yes", lang="en")
        assert result.code == 1
        assert "support" in one_line(result.err)
        assert sb.requests - before == 1 and sb.writes == 0  # nothing after the refusal


def test_prune_deletes_the_pipeline_crmkit_made_that_the_blueprint_dropped(amo: Run) -> None:
    short = next(
        p.name.ru for p in LIBRARY.load("deal-b2b-short").pipelines if p.code != "deal_b2b_full"
    )
    with sandbox() as sb:
        assert amo(sb, "push", "deal-b2b-short", "--apply", "--yes", "--names", "ru").code == 0
        writes = sb.writes
        planned = amo(sb, "push", "deal-b2b-full", "--prune", "--format", "json")
        assert planned.code == 0, planned.err
        deletes = [e for e in json.loads(planned.out)["plan"] if e["action"] == "delete"]
        assert [e["key"] for e in deletes] == ["deal.deal_b2b_short"]
        assert sb.writes == writes  # planned, not applied
        pruned = amo(sb, "push", "deal-b2b-full", "--prune", "--apply", "--yes", "--format", "json")
        assert pruned.code == 0, pruned.err
        assert json.loads(pruned.out)["applied"]["verified"]
        names = [p["name"] for p in every_page(sb, "/api/v4/leads/pipelines", "pipelines")]
        assert short not in names and LIBRARY.load("deal-b2b-full").pipelines[0].name.ru in names


def test_the_credentials_come_from_the_environment_and_a_loopback_url_takes_the_env_token(
    crmkit: Run,
) -> None:
    with sandbox() as sb:
        both = crmkit("push", "deal-b2b-short", CRMKIT_AMO_URL=sb.base_url, CRMKIT_AMO_TOKEN=TOKEN)
        assert both.code == 0, both.err
        url = crmkit("push", "deal-b2b-short", "--url", sb.base_url, CRMKIT_AMO_TOKEN=TOKEN)
        assert url.code == 0, url.err
        alone = crmkit("push", "deal-b2b-short", "--url", sb.base_url)
        assert alone.code == 2 and "--target" in one_line(alone.err)


# -- the token: in no output, no file, no error line ---------------------------------------------


def test_the_token_appears_in_no_output_and_no_file(amo: Run, crmkit: Run, tmp_path: Path) -> None:
    outputs: list[str] = []

    def keep(result: Any) -> Any:
        outputs.extend([result.out, result.err])
        return result

    with sandbox(seed=3) as sb:
        keep(amo(sb, "pull", "--out", "portal.toml"))
        keep(amo(sb, "push", "complete-b2b", "--plan-out", "plan.json", "--verbose"))
        keep(amo(sb, "push", "plan.json", "--apply", "--yes", "--format", "json"))
        keep(amo(sb, "push", "complete-b2b", "--check", "--format", "json"))
        keep(amo(sb, "push", "complete-b2b", "--prune"))
        keep(crmkit("push", "complete-b2b", CRMKIT_AMO_URL=sb.base_url, CRMKIT_AMO_TOKEN=TOKEN))
        keep(crmkit("push", "complete-b2b", "--url", sb.base_url, "--token", TOKEN + "x"))
        sb.block("html")
        keep(amo(sb, "push", "complete-b2b", "--apply", "--yes"))
    written = list(files_under(tmp_path))
    names = {p.name for p in written}
    assert {"portal.toml", "plan.json", "push-plan.html"} <= names
    assert any(n.endswith(".applied.json") for n in names)
    assert any(".backup-" in n for n in names)
    assert leaks(outputs, written) == []
    # the grep catches a leak where there is one (a file or an output holding the token)
    (tmp_path / "leaked.txt").write_text(f"Authorization: Bearer {TOKEN}\n", encoding="utf-8")
    assert leaks([*outputs, TOKEN], [*written, tmp_path / "leaked.txt"]) == [
        f"output {len(outputs)}",
        str(tmp_path / "leaked.txt"),
    ]


def leaks(outputs: list[str], paths: list[Path]) -> list[str]:
    """Where the token appears: in an output (by its number), a file's text or its name."""
    found = [f"output {i}" for i, text in enumerate(outputs) if TOKEN in text]
    for path in paths:
        if TOKEN in path.read_text(encoding="utf-8", errors="replace") or TOKEN in str(path):
            found.append(str(path))
    return found


# -- killed mid-apply, then a plain re-run -------------------------------------------------------


def _run_killed_then_again(
    args: list[str], env: dict[str, str], kill_when: Callable[[], bool]
) -> subprocess.CompletedProcess[str]:
    """Start ``crmkit ARGS``, SIGKILL it as soon as ``kill_when()`` holds, then run it again to
    the end (the shape of the Bitrix24 test: the account keeps its real pace meanwhile)."""
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not kill_when() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.kill()
    process.wait(timeout=20)
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def _held(sb: AmoSandbox) -> dict[str, Any]:
    pipelines = every_page(sb, "/api/v4/leads/pipelines", "pipelines")
    return {
        "pipelines": sorted(
            (p["name"], tuple(s["name"] for s in sorted(p["_embedded"]["statuses"], key=_sort)))
            for p in pipelines
        ),
        "reasons": sorted(
            r["name"] for r in every_page(sb, "/api/v4/leads/loss_reasons", "loss_reasons")
        ),
        "fields": sorted(
            (path, f["name"])
            for path in ("leads", "contacts", "companies")
            for f in every_page(sb, f"/api/v4/{path}/custom_fields", "custom_fields")
        ),
    }


def _sort(status: dict[str, Any]) -> tuple[int, int]:
    return status["sort"], status["id"]


def _push_args(sb: AmoSandbox) -> list[str]:
    """``crmkit push complete-b2b --apply`` to the sandbox (the token in the environment)."""
    args = [sys.executable, "-m", "crmkit", "push", "complete-b2b", "--apply", "--yes"]
    return [*args, "--names", "ru", "--target", "amocrm", "--url", sb.base_url]


def test_a_push_killed_mid_apply_then_run_again_ends_like_a_clean_push(tmp_path: Path) -> None:
    """SIGKILL of the crmkit process after a random number of its writes (the account keeps the
    real 7 requests/s); a plain re-run finishes with nothing doubled."""
    with sandbox() as sb:
        clean = tmp_path / "clean"
        clean.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
        done = subprocess.run(
            [*_push_args(sb), "--state", str(clean)],
            cwd=ROOT,
            env={**env, "CRMKIT_AMO_TOKEN": TOKEN},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        wanted, total = _held(sb), sb.writes
    rng = random.Random(15)
    for attempt in range(2):
        folder = tmp_path / f"client{attempt}"
        folder.mkdir()
        with sandbox(rate=7.0) as sb:
            kill_after = rng.randint(1, max(1, total - 1))
            rerun = _run_killed_then_again(
                [*_push_args(sb), "--state", str(folder)],
                {**env, "CRMKIT_AMO_TOKEN": TOKEN},
                lambda sb=sb, n=kill_after: sb.writes >= n,  # type: ignore[misc]
            )
            assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr
            assert _held(sb) == wanted  # nothing doubled, nothing missing
            assert TOKEN not in rerun.stdout + rerun.stderr
            assert call(sb, "GET", "/api/v4/account").status_code == 200


def test_a_pulled_account_pushed_back_plans_nothing(amo: Run, tmp_path: Path) -> None:
    """pull → push of the same account: the pulled LOST stage is status 143 (not a loss reason
    of that name), the loss reasons are the account's, the required fields where they were."""
    with sandbox(seed=7) as sb:
        assert amo(sb, "push", "deal-marketing", "--apply", "--yes", "--names", "ru").code == 0
        assert amo(sb, "pull", "--out", "portal.toml").code == 0
        (tmp_path / "push").rename(tmp_path / "push-before")  # no record: found by name alone
        writes = sb.writes
        check = amo(sb, "push", "portal.toml", "--check", "--format", "json")
        assert check.code == 0, check.out + check.err
        plan = json.loads(check.out)
        changing = [e for e in plan["plan"] if e["action"] in ("create", "update", "delete")]
        assert changing == [] and sb.writes == writes
