"""Who a document is for and by whom: the cover of every client document (files are read
only by the functions that read ``client.toml`` and the logo).

A client folder may hold ``client.toml``::

    client = "ООО «Окна Севера»"      # whom the documents are for
    consultant = "Анна Соколова"      # who prepared them
    company = "Внедрение CRM"         # the consultant's company (optional)
    version = "1.0"                   # the documents' version, as the consultant counts them
    logo = "logo.png"                 # optional: a local image, embedded into each page
    date = 2026-12-02                 # optional: the documents' date (today by default)

Options of ``crmkit render`` override each key. The logo is read once and embedded as a
``data:`` URI — a client document never links to anything.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass, replace
from pathlib import Path

from crmkit.errors import InputError
from crmkit.i18n import Lang, msg, run_msg

CLIENT_FILE = "client.toml"
#: a logo larger than this is not a logo (and would make every page heavy)
MAX_LOGO_BYTES = 1024 * 1024
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}


@dataclass(frozen=True)
class DocumentMeta:
    """What the cover and the footer of a document say; every part may be empty."""

    client: str = ""
    consultant: str = ""
    company: str = ""
    version: str = ""
    date: datetime.date | None = None
    #: the logo as a ``data:`` URI, or ""
    logo: str = ""

    def with_defaults(
        self, *, client: str = "", today: datetime.date | None = None
    ) -> DocumentMeta:
        """The client named by the document itself and today's date, where not given."""
        return replace(self, client=self.client or client, date=self.date or today)


def long_date(day: datetime.date, lang: Lang) -> str:
    """«2 декабря 2026 г.», «2 грудня 2026 р.», "2 December 2026"."""
    month = msg("doc.frame.months", lang).split("|")[day.month - 1]
    return msg("doc.frame.long_date", lang, day=day.day, month=month, year=day.year)


def cover_facts(meta: DocumentMeta, lang: Lang) -> list[tuple[str, str]]:
    """The cover's (label, value) pairs that have a value: client, consultant, date, version."""
    rows = [
        ("client", meta.client),
        ("consultant", ", ".join(x for x in (meta.consultant, meta.company) if x)),
        ("date", long_date(meta.date, lang) if meta.date else ""),
        ("version", meta.version),
    ]
    return [(msg(f"doc.frame.{key}", lang), value) for key, value in rows if value]


def logo_data_uri(path: Path, where: str) -> str:
    """The image at ``path`` as a ``data:`` URI; one-line errors name ``where`` (file:line)."""
    from crmkit.files import read_bytes

    kind = _IMAGE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise InputError(
            run_msg("load.client.logo_type", types=", ".join(sorted(_IMAGE_TYPES))), where=where
        )
    raw = read_bytes(path, limit=MAX_LOGO_BYTES)
    return f"data:{kind};base64,{base64.b64encode(raw).decode('ascii')}"


def read_client_file(path: Path) -> DocumentMeta:
    """``client.toml``: one-line errors name the file, the line and the key."""
    from crmkit.files import is_file, read_toml
    from crmkit.schema import Problems, root

    doc = read_toml(path)
    problems = Problems()
    node = root(doc.data, doc.source, problems)
    texts = {key: node.str(key) or "" for key in ("client", "consultant", "company", "version")}
    logo_name = node.str("logo") or ""
    day = node.raw("date")
    if day is not None and (not isinstance(day, datetime.date) or hasattr(day, "hour")):
        node.error(run_msg("load.client.date"), "date")
        day = None
    node.done()
    problems.raise_if_any()
    logo = ""
    if logo_name:
        logo_path = path.parent / logo_name
        where = doc.source.where(("logo",))
        if not is_file(logo_path):
            raise InputError(run_msg("load.client.logo_missing", path=logo_name), where=where)
        logo = logo_data_uri(logo_path, where)
    return DocumentMeta(**texts, date=day, logo=logo)


def client_meta(folder: Path) -> DocumentMeta:
    """The ``client.toml`` of the client folder ``folder``, or an empty cover without one."""
    from crmkit.files import is_file

    candidate = folder / CLIENT_FILE
    return read_client_file(candidate) if is_file(candidate) else DocumentMeta()
