"""How a CRM client waits and retries — one rule for every target (Bitrix24, amoCRM).

A call may be retried while a count (``max_retries``, or ``READ_RETRIES`` for what is not a rate
limit) and a time budget (``limit_patience`` for rate limits, else ``patience``) allow, the next
pause included; pauses grow 1, 2, 4, 8 s with a quarter of jitter (clients that failed together
spread out) unless the server said how long; the person at the terminal is told of each retry
and of an answer that is slow to come — never the secret. A client class derives from
``Patience``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from crmkit.i18n import Lang, msg

log = logging.getLogger("crmkit.push")

#: the pauses between retries, in seconds
BACKOFF = (1.0, 2.0, 4.0, 8.0)
#: retries of a failed read (a rate limit is retried by time only)
READ_RETRIES = len(BACKOFF)
#: how long a connection may take to open
CONNECT_TIMEOUT = 10.0
#: after how many seconds without an answer the person at the terminal is told we are waiting
NOTICE_AFTER = 5.0


class Patience:
    """The retry and waiting rules, and the settings they read (a client calls
    ``super().__init__`` with them)."""

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float] | None,
        patience: float,
        limit_patience: float,
        max_retries: int | None,
        lang: Lang,
        notify: Callable[[str], None] | None,
        notice_after: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        random: Callable[[], float],
    ) -> None:
        #: a fixed (connect, read) timeout per attempt; None: what is left of ``patience``
        self.timeout = timeout
        #: the longest one call waits for a CRM that does not answer, all attempts together
        self.patience = patience
        #: how long one call goes on retrying a rate limit (refused before it ran)
        self.limit_patience = limit_patience
        #: retries of one call at most; None: rate-limit retries by time only, others 4
        self.max_retries = max_retries
        self.lang: Lang = lang
        #: where lines for the person at the terminal go (retries, waiting); never the secret
        self.notify = notify
        self.notice_after = notice_after
        self._clock = clock
        self._sleep = sleep
        self._random = random
        #: HTTP requests sent (retries included) and retries made
        self.requests_sent = 0
        self.retries = 0

    def _may_retry(
        self, attempt: int, started: float, *, limited: bool, delay: float | None = None
    ) -> bool:
        """Whether one more try fits the count and the time budget, the next pause (``delay``,
        else the backoff's) included."""
        cap = (
            self.max_retries
            if self.max_retries is not None
            else (None if limited else READ_RETRIES)
        )
        if cap is not None and attempt >= cap:
            return False
        budget = self.limit_patience if limited else self.patience
        pause = delay if delay is not None else BACKOFF[min(attempt, len(BACKOFF) - 1)]
        return self._clock() - started + pause <= budget

    def _backoff(self, attempt: int, method: str, why: str, *, wait: float | None = None) -> int:
        """Pause before the next try (``wait`` when the server said how long) and say so."""
        if wait is not None:
            delay = wait  # the server said when: no jitter needed, nor less
        else:
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            delay += self._random() * delay / 4  # clients that failed together spread out
        log.debug("%s on %s; retrying in %.1f s", why, method, delay)
        self._tell(msg("push.client.retry", self.lang, why=why, method=method, seconds=delay))
        self.retries += 1
        self._sleep(delay)
        return attempt + 1

    def _timeout(self, started: float) -> float | tuple[float, float]:
        """A fixed timeout if one was given, else what is left of ``patience``."""
        if self.timeout is not None:
            return self.timeout
        left = max(1.0, self.patience - (self._clock() - started))
        return (min(CONNECT_TIMEOUT, left), left)

    def _tell(self, text: str) -> None:
        if self.notify is not None:
            self.notify(text)

    @contextlib.contextmanager
    def _waiting_told(self, timeout: float | tuple[float, float]) -> Iterator[None]:
        """While a request is out: if no answer comes within ``notice_after`` seconds, the
        person at the terminal is told that we are waiting, and for how long at most."""
        timer: threading.Timer | None = None
        if self.notify is not None and self.notice_after > 0:
            limit = timeout[1] if isinstance(timeout, tuple) else timeout
            text = msg("push.client.waiting", self.lang, seconds=round(limit))
            timer = threading.Timer(self.notice_after, self._tell, args=(text,))
            timer.daemon = True
            timer.start()
        try:
            yield
        finally:
            if timer is not None:
                timer.cancel()
