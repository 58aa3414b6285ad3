"""Where a push keeps its files in the client folder: the record of what was applied and the
backups of the portal's set-up, one pair per portal (the file adapter of ``push``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from crmkit.files import read_text, write_text
from crmkit.push.record import Record, parse_record

#: the folder, inside the client folder, that push writes to
FOLDER = "push"


def portal_key(origin: str) -> str:
    """``https://acme.bitrix24.ru`` → ``acme.bitrix24.ru``; ``http://127.0.0.1:8024`` →
    ``127.0.0.1_8024``: a file name of the portal."""
    host = re.sub(r"^[a-z]+://", "", origin).rstrip("/")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", host) or "portal"


class PushFolder:
    def __init__(self, base: Path, origin: str, clock: float) -> None:
        self.folder = base / FOLDER
        self.key = portal_key(origin)
        self.clock = clock

    @property
    def record_path(self) -> Path:
        return self.folder / f"{self.key}.applied.json"

    def load_record(self) -> Record:
        if not self.record_path.exists():
            return Record()
        return parse_record(read_text(self.record_path), str(self.record_path))

    def save_record(self, record: Record) -> None:
        write_text(self.record_path, record.to_json())

    def save_backup(self, text: str) -> str:
        stamp = datetime.fromtimestamp(self.clock, UTC).strftime("%Y%m%d-%H%M%S")
        path = self.folder / f"{self.key}.backup-{stamp}.toml"
        write_text(path, text)
        return str(path)
