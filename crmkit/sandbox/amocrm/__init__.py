"""A local amoCRM-compatible API v4 account for rehearsals, demos and tests (stdlib only).

>>> sb = start_amocrm_sandbox(port=0, rate=None)   # doctest: +SKIP
>>> sb.base_url, sb.token                           # doctest: +SKIP
('http://127.0.0.1:54321', 'q3…')
>>> sb.stop()                                       # doctest: +SKIP

Its behaviours and the doc pages they come from: docs/amocrm-sandbox.md.
"""

from __future__ import annotations

from crmkit.sandbox.amocrm.server import AmoSandbox, start_amocrm_sandbox

__all__ = ["AmoSandbox", "start_amocrm_sandbox"]
