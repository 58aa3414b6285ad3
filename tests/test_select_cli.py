"""`crmkit select` end to end: the example replays, JSON follows DESIGN.md, reports render,
bad input is one line naming file, line and key with exit 2 and nothing written."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.select.matrix import rank, sensitivity

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "selection.toml"
EXAMPLE_AHP = ROOT / "examples" / "selection-ahp.toml"
GOLDEN = Path(__file__).parent / "golden" / "select"


#: the run's clock: documents are dated by it (2 December 2026), so the golden reports stay put
NOON = 1796212800.0


def app(tmp_path: Path, lang: str = "en") -> AppContext:
    return AppContext(lang=lang, environ={}, cwd=tmp_path, interactive=False, clock=lambda: NOON)  # type: ignore[arg-type]


def crmkit(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str = "en"):
    code = run(args, app(tmp_path, lang))
    out, err = capsys.readouterr()
    return code, out, err


def test_catalog_json_lists_all_22_systems(tmp_path, capsys):
    code, out, err = crmkit(["select", "catalog", "--format", "json"], tmp_path, capsys)
    assert code == 0, err
    systems = json.loads(out)
    names = {s["name"] for s in systems}
    assert len(systems) == 22
    for expected in (
        "Bitrix24",
        "Megaplan",
        "amoCRM",
        "FreshOffice",
        "S2 CRM (Salesap)",
        "EnvyCRM",
        "Prostoy Biznes",
        "Intrumnet",
        "ClientBase API",
        "retailCRM",
        "Pipedrive",
        "Terrasoft",
        "WireCRM",
        "SugarCRM",
        "Gen CRM",
        "Flowlu",
        "A2B",
        "Microsoft Dynamics CRM",
        "Okdesk",
        "Zoho CRM",
        "Salesforce",
        "Base CRM",
    ):
        assert expected in names
    for s in systems:
        for key in (
            "deployment",
            "cloud",
            "boxed",
            "free_plan",
            "trial_days",
            "focus",
            "integrations",
            "leads_deals_separate",
            "facts_as_of",
            "source",
        ):
            assert key in s, (s["id"], key)
        assert set(s["integrations"]) == {"telephony", "one_c", "email", "site_forms"}


def test_catalog_facts_follow_the_seed_and_say_unknown_otherwise(tmp_path, capsys):
    code, out, _ = crmkit(["select", "catalog", "--format", "json"], tmp_path, capsys)
    by_id = {s["id"]: s for s in json.loads(out)}
    b24, mp, amo, fresh, s2 = (
        by_id[k] for k in ("bitrix24", "megaplan", "amocrm", "freshoffice", "s2")
    )
    assert b24["free_plan"]["users"] == "unlimited" and b24["integrations"]["telephony"] == "yes"
    assert mp["trial_days"] == 14 and mp["free_plan"]["users"] == 10 and mp["focus"] == "projects"
    assert amo["free_plan"]["available"] == "no" and amo["trial_days"] == 14
    assert amo["focus"] == "sales" and amo["leads_deals_separate"] == "no"
    assert fresh["deployment"] == "both"
    assert s2["free_plan"]["users"] == 3
    # the seed only names these: every fact unknown, nothing invented
    for sid in ("pipedrive", "salesforce", "zoho", "okdesk"):
        s = by_id[sid]
        assert s["deployment"] == "unknown" and s["trial_days"] == "unknown"
        assert s["free_plan"]["available"] == "unknown" and s["focus"] == "unknown"
        assert set(s["integrations"].values()) == {"unknown"}
        assert s["leads_deals_separate"] == "unknown" and s["functions"] == []


def test_catalog_extended_and_overridden_by_file(tmp_path, capsys):
    extra = tmp_path / "my.toml"
    extra.write_text(
        '[systems.pipedrive]\ntrial_days = 30\nsource = "vendor site, checked by me"\n'
        '[systems.kommo]\nname = "Kommo"\ncloud = "yes"\n',
        encoding="utf-8",
    )
    code, out, err = crmkit(
        ["select", "catalog", "--catalog", str(extra), "--format", "json"], tmp_path, capsys
    )
    assert code == 0, err
    by_id = {s["id"]: s for s in json.loads(out)}
    assert len(by_id) == 23
    assert by_id["pipedrive"]["trial_days"] == 30 and by_id["pipedrive"]["name"] == "Pipedrive"
    assert by_id["kommo"]["deployment"] == "cloud"


def test_catalog_text_in_russian(tmp_path, capsys):
    code, out, _ = crmkit(["select", "catalog", "--lang", "ru"], tmp_path, capsys, lang="ru")
    assert code == 0 and "Каталог CRM-систем" in out and "Мегаплан" not in out.split("\n")[0]
    assert out.count("\n") > 22


def test_example_replays_and_json_follows_design(tmp_path, capsys):
    code, out, err = crmkit(
        ["select", "--input", str(EXAMPLE), "--format", "json"], tmp_path, capsys
    )
    assert code == 0, err
    data = json.loads(out)
    for key in ("ranking", "knocked_out", "sensitivity", "weights", "scores"):
        assert key in data
    assert all({"system", "score"} <= set(r) for r in data["ranking"])
    assert all({"system", "reason"} <= set(k) for k in data["knocked_out"])
    assert all(
        {"criterion", "weight", "flip_weight", "flips_to"} <= set(s) for s in data["sensitivity"]
    )
    assert sum(data["weights"].values()) == pytest.approx(1.0)
    # the score is the weighted mean of the criterion scores, recomputed from the JSON itself
    for r in data["ranking"]:
        row = data["scores"][r["system"]]
        mean = sum(data["weights"][c] * row[c] for c in data["weights"]) / sum(
            data["weights"].values()
        )
        assert r["score"] == pytest.approx(mean, abs=1e-6)
    scores = [r["score"] for r in data["ranking"]]
    assert scores == sorted(scores, reverse=True)
    assert [r["system"] for r in data["ranking"]][:2] == ["bitrix24", "amocrm"]
    # sensitivity as DESIGN.md defines it: recomputed from the JSON's weights and scores
    ranked = {r["system"]: data["scores"][r["system"]] for r in data["ranking"]}
    flips = {f.criterion: f for f in sensitivity(data["weights"], ranked)}
    for s in data["sensitivity"]:
        f = flips[s["criterion"]]
        assert s["flips_to"] == f.flips_to
        assert (s["flip_weight"] is None) == (f.flip_weight is None)
        if s["flip_weight"] is not None:
            assert s["flip_weight"] == pytest.approx(f.flip_weight, abs=1e-6)
            changed = {
                **data["weights"],
                s["criterion"]: s["flip_weight"] * 1.001
                if s["flip_weight"] > s["weight"]
                else s["flip_weight"] * 0.999,
            }
            assert rank(changed, ranked)[0].system == s["flips_to"]
    knocked = {k["system"]: k for k in data["knocked_out"]}
    assert knocked["envycrm"]["would_rank"] == 5 and knocked["envycrm"]["stage"] == "matrix"
    assert "freshoffice" in knocked
    assert data["robustness"]["critical"] == "interface"
    assert data["robustness"]["verdict"] in ("decide_now", "pilot_top_two")
    assert data["robustness"]["seed"] == 2024
    vendor = {v["system"]: v for v in data["steps"]["vendor"]}
    assert [q["id"] for q in vendor["bitrix24"]["questions"]][:7] == [
        "support_paid",
        "extra_functions",
        "turnkey",
        "updates_paid",
        "min_period",
        "discount",
        "hide_data",
    ]
    assert vendor["bitrix24"]["questions"][0]["answer"].startswith("На бесплатном")
    kinds = {q["kind"] for q in vendor["amocrm"]["questions"]}
    assert {"standard", "check", "low", "critical"} <= kinds


def test_seed_option_is_deterministic(tmp_path, capsys):
    args = ["select", "--input", str(EXAMPLE), "--format", "json", "--seed", "5"]
    one = crmkit(args, tmp_path, capsys)[1]
    two = crmkit(args, tmp_path, capsys)[1]
    assert one == two and json.loads(one)["robustness"]["seed"] == 5


def test_ahp_example_reports_the_consistency_ratio(tmp_path, capsys):
    code, out, err = crmkit(
        ["select", "--input", str(EXAMPLE_AHP), "--format", "json"], tmp_path, capsys
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["weight_method"] == "ahp"
    assert data["ahp"]["random_index_table"] == "Saaty (1980)" and data["ahp"]["ri"] == 1.12
    assert sum(data["weights"].values()) == pytest.approx(1.0)
    code, text, _ = crmkit(["select", "--input", str(EXAMPLE_AHP)], tmp_path, capsys)
    assert "CR = " in text and "Saaty's random index" in text


def test_inconsistent_ahp_warns(tmp_path, capsys):
    text = EXAMPLE_AHP.read_text(encoding="utf-8")
    bad = re.sub(r'(a = "funnel"\nb = "interface"\nratio = )[\d.]+', r"\g<1>0.2", text)
    bad = re.sub(r'(a = "interface"\nb = "reports"\nratio = )[\d.]+', r"\g<1>9", bad)
    assert bad != text
    path = tmp_path / "ahp.toml"
    path.write_text(bad, encoding="utf-8")
    code, out, err = crmkit(["select", "--input", str(path), "--format", "json"], tmp_path, capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["ahp"]["cr"] > 0.1 and not data["ahp"]["consistent"]
    assert any("0.1" in w for w in data["warnings"])


def _golden(name: str, text: str, request: pytest.FixtureRequest) -> None:
    path = GOLDEN / name
    update = os.environ.get("CRMKIT_UPDATE_GOLDEN") or request.config.getoption(
        "--update-golden", default=False
    )
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fmt", "lang"), [("md", "en"), ("md", "ru"), ("text", "en"), ("html", "ru")]
)
def test_reports_match_golden(tmp_path, capsys, request, fmt, lang):
    out_file = tmp_path / f"report.{fmt}"
    code, out, err = crmkit(
        [
            "select",
            "--input",
            str(EXAMPLE),
            "--format",
            fmt,
            "--out",
            str(out_file),
            "--lang",
            lang,
        ],
        tmp_path,
        capsys,
        lang=lang,
    )
    assert code == 0, err
    assert out == ""
    text = out_file.read_text(encoding="utf-8")
    _golden(f"selection.{lang}.{fmt}", text, request)


def test_html_is_self_contained_with_figures(tmp_path, capsys):
    out_file = tmp_path / "r.html"
    code, _, err = crmkit(
        ["select", "--input", str(EXAMPLE), "--format", "html", "--out", str(out_file)],
        tmp_path,
        capsys,
    )
    assert code == 0, err
    html = out_file.read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "<script" not in html
    assert "Sensitivity" in html and "Bitrix24" in html


def test_xlsx_needs_out(tmp_path, capsys):
    code, out, err = crmkit(
        ["select", "--input", str(EXAMPLE), "--format", "xlsx"], tmp_path, capsys
    )
    assert code == 2 and out == "" and "--out" in err


def test_no_terminal_and_no_input_is_exit_2_with_a_hint(tmp_path, capsys):
    code, out, err = crmkit(["select"], tmp_path, capsys)
    assert code == 2 and out == ""
    assert "--input" in err and err.count("\n") == 1


EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


def _broken(old: str, new: str) -> str:
    assert old in EXAMPLE_TEXT
    return EXAMPLE_TEXT.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


BAD_INPUTS = {
    "score out of range": (
        'funnel = {score = 5, evidence = "trial", confidence = "high"}',
        'funnel = {score = 6, evidence = "trial", confidence = "high"}',
        "scores.bitrix24.funnel.score",
        "out of range",
    ),
    "bare score out of range": (
        "[scores.amocrm]\n",
        "[scores.amocrm]\nextra = 1\n",
        "scores.amocrm.extra",
        "unknown criterion 'extra'",
    ),
    "unknown criterion in weights": (
        "web_forms = 5\n",
        "webforms = 5\n",
        "weights.points.webforms",
        "unknown criterion 'webforms'",
    ),
    "unknown system": ("[scores.s2]", "[scores.s3crm]", "scores.s3crm", "unknown system 's3crm'"),
    "all-zero weights": (
        "tasks = 20\nfunnel = 15\ntelephony = 10\nweb_forms = 5\ninvoices = 10\ninterface = 15\n"
        "reports = 10\nflexibility = 5\naccess_rights = 5\nsupport = 5\n",
        "tasks = 0\nfunnel = 0\ntelephony = 0\nweb_forms = 0\ninvoices = 0\ninterface = 0\n"
        "reports = 0\nflexibility = 0\naccess_rights = 0\nsupport = 0\n",
        "weights.points",
        "all weights are zero",
    ),
    "broken TOML": ("tasks = 20\n", "tasks = 20 20\n", "weights.points.tasks", "not valid TOML"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
@pytest.mark.parametrize("fmt", ["json", "html", "xlsx"])
def test_bad_input_is_one_line_naming_file_line_key_exit_2_nothing_written(
    tmp_path, capsys, case, fmt
):
    old, new, key, problem = BAD_INPUTS[case]
    text = _broken(old, new)
    path = tmp_path / "selection.toml"
    path.write_text(text, encoding="utf-8")
    out_file = tmp_path / "reports" / f"out.{fmt}"
    code, out, err = crmkit(
        ["select", "--input", str(path), "--format", fmt, "--out", str(out_file)], tmp_path, capsys
    )
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    line = _line_of(
        text, new.splitlines()[-1] if case != "all-zero weights" else "[weights.points]"
    )
    if case == "bare score out of range":
        line = _line_of(text, "extra = 1")
    assert err.startswith(f"crmkit: {path}:{line}"), err
    assert f": {key}: " in err, err
    assert problem in err
    assert not out_file.exists()
    assert not out_file.parent.exists() or not any(out_file.parent.iterdir())


def test_score_below_one_and_unknown_vendor_system(tmp_path, capsys):
    text = EXAMPLE_TEXT.replace("[vendor.amocrm]", "[vendor.nosuchcrm]")
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = crmkit(["select", "--input", str(path)], tmp_path, capsys)
    assert code == 2 and "vendor.nosuchcrm" in err and "unknown system" in err
    text = EXAMPLE_TEXT.replace(
        "support = {score = 2, evidence", "support = {score = 0.5, evidence", 1
    )
    path.write_text(text, encoding="utf-8")
    code, _, err = crmkit(["select", "--input", str(path)], tmp_path, capsys)
    assert code == 2 and "scores.bitrix24.support.score" in err


def test_missing_file(tmp_path, capsys):
    code, out, err = crmkit(["select", "--input", str(tmp_path / "nope.toml")], tmp_path, capsys)
    assert code == 2 and "no such file" in err and out == ""


def test_save_with_input_copies_the_file(tmp_path, capsys):
    target = tmp_path / "copy.toml"
    code, _, err = crmkit(
        ["select", "--input", str(EXAMPLE), "--save", str(target), "--format", "json"],
        tmp_path,
        capsys,
    )
    assert code == 0, err
    assert target.read_text(encoding="utf-8") == EXAMPLE_TEXT


def test_help_in_both_languages(tmp_path, capsys):
    for lang, word in (("en", "Choose a CRM"), ("ru", "Выбор CRM")):
        code, out, _ = crmkit(["select", "--help", "--lang", lang], tmp_path, capsys, lang=lang)
        assert code == 0 and word in out and "--seed" in out and "catalog" in out
        code, out, _ = crmkit(
            ["select", "catalog", "--help", "--lang", lang], tmp_path, capsys, lang=lang
        )
        assert code == 0 and "--format" in out
