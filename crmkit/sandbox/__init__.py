"""A local Bitrix24-compatible REST portal for rehearsals, demos and tests (stdlib only).

>>> sb = start_sandbox(port=0, rate=None)      # doctest: +SKIP
>>> sb.webhook_url                              # doctest: +SKIP
'http://127.0.0.1:54321/rest/1/3f2a…/'
>>> sb.stop()                                   # doctest: +SKIP
"""

from __future__ import annotations

from crmkit.sandbox.server import Sandbox, is_loopback, start_sandbox

__all__ = ["Sandbox", "is_loopback", "start_sandbox"]
