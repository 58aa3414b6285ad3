"""The target seam: which CRM a run talks to (the inference table), its credentials with the
secret masked, https only except loopback, the capability table as data and in docs, and a
Bitrix24 state that hashes as before amoCRM existed."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmkit.errors import InputError, UsageError
from crmkit.push.target import (
    CAPABILITIES,
    ITEMS,
    TARGETS,
    Credentials,
    Options,
    capability,
    capability_markdown,
    credentials_of,
    infer_target,
)

TOKEN = "eyJhbGciOi.amo-secret-t0ken.sig"
HOOK = "https://acme.bitrix24.ru/rest/1/c0de5ecret77/"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "targets.md"


@pytest.mark.parametrize(
    ("options", "env", "target"),
    [
        (Options(webhook=HOOK), {}, "bitrix24"),
        (Options(url=HOOK), {}, "bitrix24"),  # a webhook given as --url
        (Options(url="https://acme.amocrm.ru"), {}, "amocrm"),
        (Options(url="https://acme.amocrm.com/"), {}, "amocrm"),
        (Options(url="https://acme.kommo.com"), {}, "amocrm"),
        (Options(token=TOKEN), {}, "amocrm"),
        (Options(url="http://127.0.0.1:8080", token=TOKEN), {}, "amocrm"),
        (Options(url="http://127.0.0.1:8080/rest/1/abc/"), {}, "bitrix24"),
        (Options(target="amocrm", url="http://127.0.0.1:8080"), {}, "amocrm"),
        (Options(target="bitrix24"), {"CRMKIT_AMO_TOKEN": TOKEN}, "bitrix24"),
        (Options(), {"CRMKIT_WEBHOOK": HOOK}, "bitrix24"),
        (Options(), {"CRMKIT_AMO_URL": "https://acme.amocrm.ru"}, "amocrm"),
        (Options(), {"CRMKIT_AMO_TOKEN": TOKEN}, "amocrm"),
        # the options decide before the environment
        (Options(webhook=HOOK), {"CRMKIT_AMO_TOKEN": TOKEN}, "bitrix24"),
        (Options(url="https://acme.amocrm.ru"), {"CRMKIT_WEBHOOK": HOOK}, "amocrm"),
        # nothing at all: Bitrix24, whose message asks for the webhook
        (Options(), {}, "bitrix24"),
    ],
)
def test_inference(options: Options, env: dict[str, str], target: str) -> None:
    assert infer_target(options, env, "en") == target


@pytest.mark.parametrize(
    ("options", "env", "says"),
    [
        (Options(url="http://127.0.0.1:8080"), {}, "--target"),  # loopback: cannot tell
        (Options(url="https://crm.example.com"), {}, "--target"),
        (Options(webhook=HOOK, token=TOKEN), {}, "--target"),
        (Options(), {"CRMKIT_WEBHOOK": HOOK, "CRMKIT_AMO_TOKEN": TOKEN}, "--target"),
        (Options(target="salesforce"), {}, "bitrix24"),
    ],
)
def test_what_cannot_be_told_is_a_usage_error(
    options: Options, env: dict[str, str], says: str
) -> None:
    with pytest.raises(UsageError) as caught:
        infer_target(options, env, "ru")
    text = str(caught.value)
    assert says in text and "\n" not in text and TOKEN not in text and "c0de5ecret77" not in text


def test_amocrm_credentials_from_options_and_environment() -> None:
    creds = credentials_of(Options(url="https://Acme.amocrm.ru/", token=f" {TOKEN} "), {}, "en")
    assert creds.target == "amocrm" and creds.origin == "https://acme.amocrm.ru"
    assert creds.secret.token == TOKEN  # type: ignore[union-attr]
    env = {"CRMKIT_AMO_URL": "https://acme.amocrm.ru", "CRMKIT_AMO_TOKEN": f"Bearer {TOKEN}"}
    from_env = credentials_of(Options(), env, "en")
    assert from_env.secret == creds.secret
    for shown in (str(creds), repr(creds), creds.masked, repr(creds.secret), str(creds.secret)):
        assert TOKEN not in shown
    assert creds.hide(f"echo {TOKEN}") == "echo ***"


def test_bitrix24_credentials_go_through_the_same_seam() -> None:
    creds = credentials_of(Options(webhook=HOOK), {}, "en")
    assert isinstance(creds, Credentials) and creds.target == "bitrix24"
    assert creds.origin == "https://acme.bitrix24.ru" and creds.masked.endswith("/rest/1/***/")
    assert "c0de5ecret77" not in str(creds) + repr(creds)


@pytest.mark.parametrize(
    ("options", "env", "key"),
    [
        (Options(url="http://acme.amocrm.ru", token=TOKEN), {}, "--url"),  # plain http
        (Options(url="https://acme.amocrm.ru/leads/pipeline", token=TOKEN), {}, "--url"),
        (Options(url="https://acme.amocrm.ru"), {}, "CRMKIT_AMO_TOKEN"),  # no token
        (Options(url="https://acme.amocrm.ru", token="has a space in it"), {}, "--token"),
        (
            Options(),
            {"CRMKIT_AMO_URL": "http://acme.amocrm.ru", "CRMKIT_AMO_TOKEN": TOKEN},
            "CRMKIT_AMO_URL",
        ),
        (Options(token=TOKEN), {}, "CRMKIT_AMO_URL"),  # a token but no address
    ],
)
def test_bad_amocrm_credentials_are_one_line_naming_their_source(
    options: Options, env: dict[str, str], key: str
) -> None:
    with pytest.raises(InputError) as caught:
        credentials_of(options, env, "en")
    text = str(caught.value)
    assert text.startswith(f"{key}: ") and "\n" not in text
    assert TOKEN not in text and "has a space" not in text
    assert caught.value.exit_code == 2


def test_plain_http_is_accepted_only_for_loopback() -> None:
    for host in ("127.0.0.1:9000", "localhost:9000", "[::1]:9000"):
        creds = credentials_of(
            Options(target="amocrm", url=f"http://{host}", token=TOKEN), {}, "en"
        )
        assert creds.origin == f"http://{host}"
    with pytest.raises(InputError, match="https://"):
        credentials_of(Options(target="amocrm", url="http://10.0.0.5", token=TOKEN), {}, "en")


def test_an_option_of_the_other_target_is_refused() -> None:
    with pytest.raises(UsageError, match="--token"):
        credentials_of(Options(target="bitrix24", webhook=HOOK, token=TOKEN), {}, "en")
    with pytest.raises(UsageError, match="--webhook"):
        credentials_of(Options(target="amocrm", webhook=HOOK, url="https://a.amocrm.ru"), {}, "en")


def test_the_capability_table_covers_every_item_for_every_target() -> None:
    for target in TARGETS:
        assert tuple(c.item for c in CAPABILITIES[target]) == ITEMS
    # what the issue says amoCRM does differently
    assert capability("amocrm", "stage_required").push == "pushed"
    assert capability("bitrix24", "stage_required").push == "manual"
    assert capability("amocrm", "robots").push == "manual"
    assert capability("amocrm", "smart_processes").read == "unreadable"


@pytest.mark.parametrize("lang", ["ru", "en", "uk"])
def test_the_capability_table_renders_in_every_language(lang: str) -> None:
    for target in TARGETS:
        table = capability_markdown(target, lang)  # type: ignore[arg-type]
        assert table.count("\n") == len(ITEMS) + 2
        assert "push.target" not in table  # no key left untranslated


def test_docs_carry_the_capability_tables_as_the_code_has_them() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for target in TARGETS:
        assert capability_markdown(target, "en") in text, target


def test_a_bitrix24_state_hashes_as_before_amocrm_existed() -> None:
    """The fingerprint of a saved plan must not change because PortalState grew fields."""
    from crmkit.push.state import FunnelState, PortalState, StageState

    state = PortalState(
        funnels=(
            FunnelState(
                "lead", 1, None, "", 0, True, (StageState(1, "NEW", "a", 10, "", "process", True),)
            ),
        )
    )
    # computed with crmkit/push/state.py as it was before this change
    assert state.fingerprint() == "0190401dd5a9d5307eedc031dab435dafea699f23c7f105c2c2570b0e871db9c"
