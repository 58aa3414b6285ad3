"""Numbers as a reader of each language writes them: ``4,30`` and ``12 500`` in Russian and
Ukrainian (a comma before the decimals, a narrow no-break space between thousands), ``4.30`` and
``12,500`` in English.

Every client document and terminal report formats its figures here, so that one page never
mixes ``4.3`` and ``4,30``.
"""

from __future__ import annotations

import math

from crmkit.i18n import Lang

#: U+202F NARROW NO-BREAK SPACE: the thin space of Russian typography, which never breaks a line
THIN = "\u202f"


def _separators(lang: Lang) -> tuple[str, str]:
    """(decimal mark, thousands separator)."""
    return (".", ",") if lang == "en" else (",", THIN)


def number(value: float, lang: Lang, digits: int = 2, *, trim: bool = False) -> str:
    """``value`` with ``digits`` decimals (``trim`` drops trailing zeros: 4,5 rather than 4,50)."""
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if math.isnan(value):
        return "—"
    point, group = _separators(lang)
    text = f"{abs(value):,.{max(digits, 0)}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, decimals = text.partition(".")
    whole = whole.replace(",", group)
    sign = "−" if value < 0 and (text.strip("0.,") != "") else ""
    return sign + whole + (point + decimals if decimals else "")


def integer(value: float, lang: Lang) -> str:
    """A whole number with thousands grouped: ``12 500`` / ``12,500``."""
    return number(round(value), lang, 0)


def percent(share: float, lang: Lang, digits: int = 0, *, trim: bool = False) -> str:
    """A share (0.59) as a percentage: ``59 %`` in Russian and Ukrainian, ``59%`` in English
    (``trim``: 5 % rather than 5,0 %)."""
    if math.isinf(share):
        return "∞"
    figure = number(share * 100, lang, digits, trim=trim)
    return f"{figure}%" if lang == "en" else f"{figure}{THIN}%"


def money(value: float, lang: Lang, currency: str = "₽") -> str:
    """An amount with its currency sign after it (``12 500 ₽``), kopecks dropped."""
    return f"{integer(value, lang)}{THIN}{currency}"
