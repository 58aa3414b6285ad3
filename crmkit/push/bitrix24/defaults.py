"""The stages a Bitrix24 portal makes by itself: the lead funnel of a new portal, the stages of a
new deal pipeline, of a new smart-process funnel. Pure data (BITRIX24.md §7.2).

A push reuses these "stock" stages instead of doubling them: a new pipeline's stages are renamed
into the blueprint's, and a stock stage nobody renamed or filled is taken over the same way in an
existing funnel. A stage counts as stock only while it carries its stock code *and* one of its
stock names (a portal names them in its own language: the names of every language crmkit knows
are listed) and holds no items: anything a person renamed or uses is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmkit.blueprints.model import PipelineKind, Semantics


@dataclass(frozen=True)
class StockStage:
    code: str
    semantics: Semantics
    system: bool
    #: the names portals give it, per language
    names: tuple[str, ...]


# Names as the docs show them (crm-status-list.md, crm-lead-add.md, how-to-add-category-to-spa.md,
# how-to-get-stages-with-semantics.md), English and Russian; where two pages differ, both.
LEAD = (
    StockStage("NEW", "process", True, ("Not processed", "Unprocessed", "Не обработан")),
    StockStage("IN_PROCESS", "process", False, ("In process", "В работе")),
    StockStage("PROCESSED", "process", False, ("Processed", "Обработан")),
    StockStage(
        "CONVERTED",
        "success",
        True,
        ("Converted", "High-quality lead", "Сконвертирован", "Качественный лид"),
    ),
    StockStage("JUNK", "failure", True, ("Low-quality lead", "Некачественный лид")),
)
DEAL = (
    StockStage("NEW", "process", True, ("New", "Новая")),
    StockStage("PREPARATION", "process", False, ("Document preparation", "Подготовка документов")),
    # the Russian docs spell it with a Latin C: "Cчет на предоплату"
    StockStage(
        "PREPAYMENT_INVOICE",
        "process",
        False,
        ("Prepayment invoice", "Cчет на предоплату", "Счет на предоплату"),
    ),
    StockStage("EXECUTING", "process", False, ("In progress", "В работе")),
    StockStage("FINAL_INVOICE", "process", False, ("Final invoice", "Финальный счет")),
    StockStage("WON", "success", True, ("Deal successful", "Сделка успешна")),
    StockStage("LOSE", "failure", True, ("Deal failed", "Сделка провалена")),
    StockStage("APOLOGY", "failure", False, ("Failure reason analysis", "Анализ причины провала")),
)
SMART_PROCESS = (
    StockStage("NEW", "process", True, ("Start", "Начало")),
    StockStage("PREPARATION", "process", False, ("Preparation", "Подготовка")),
    StockStage("CLIENT", "process", False, ("Approval", "Согласование")),
    StockStage("SUCCESS", "success", True, ("Success", "Успех")),
    StockStage("FAIL", "failure", True, ("Failure", "Провал")),
)

STOCK: dict[PipelineKind, tuple[StockStage, ...]] = {
    "lead": LEAD,
    "deal": DEAL,
    "smart_process": SMART_PROCESS,
}


def stock_stage(kind: PipelineKind, code: str) -> StockStage | None:
    return next((s for s in STOCK[kind] if s.code == code), None)


def looks_stock(kind: PipelineKind, code: str, name: str) -> bool:
    """Whether a stage still is what the portal made: its stock code and a stock name."""
    stock = stock_stage(kind, code)
    folded = name.strip().casefold().replace("ё", "е")
    return stock is not None and any(folded == n.casefold().replace("ё", "е") for n in stock.names)
