"""How a portal is used, measured: the figures an audit reads. Pure values.

A target's usage reader fills ``Usage`` (for Bitrix24: ``crmkit.push.bitrix24.usage``): counts
(through the ``total`` of one-row pages), and aggregates of the row sets an audit must walk (open
deals, their open activities, stage history), kept small: counts, per-stage durations, at most
``SAMPLES`` example ids each. Nothing here holds whole tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: example record ids an audit keeps per finding
SAMPLES = 10


@dataclass
class Sampled:
    """A count and the first few ids it counted (for links in the report)."""

    count: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, rid: int) -> None:
        self.count += 1
        if len(self.ids) < SAMPLES:
            self.ids.append(rid)


@dataclass
class OpenDeals:
    """What the walk over the open deals found."""

    walked: int = 0
    without_open_activity: Sampled = field(default_factory=Sampled)
    with_overdue_activity: Sampled = field(default_factory=Sampled)
    without_client: Sampled = field(default_factory=Sampled)
    past_close_date: Sampled = field(default_factory=Sampled)
    owned_by_inactive: Sampled = field(default_factory=Sampled)
    by_owner: dict[int, int] = field(default_factory=dict)
    #: (category id, stage code as stored) → open deals in it
    by_stage: dict[tuple[int, str], int] = field(default_factory=dict)
    #: mandatory field → open deals that have it filled
    filled: dict[str, int] = field(default_factory=dict)
    #: open deals with the minutes since they entered their stage: (id, category, stage, minutes)
    in_stage: list[tuple[int, int, str, int]] = field(default_factory=list)


@dataclass
class History:
    """What the stage history (of a window of time) shows."""

    #: (category id, stage) → minutes items stayed in it before they moved on (finished stays)
    stays: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    #: category id → stage → items that entered it (items created in the window)
    reached: dict[int, dict[str, int]] = field(default_factory=dict)
    #: category id → position in the pipeline's path (in-progress stages, then success) → items
    #: of the window whose furthest stage it is (a failure leaves an item where it was)
    furthest: dict[int, dict[int, int]] = field(default_factory=dict)
    #: category id → items created in the window
    started: dict[int, int] = field(default_factory=dict)
    rows: int = 0


@dataclass
class Usage:
    """The usage figures of one portal at ``now`` (unix time)."""

    now: float
    leads_total: int | None = None
    leads_by_status: dict[str, int] = field(default_factory=dict)
    stale_leads: Sampled = field(default_factory=Sampled)
    leads_in_first_status: int | None = None
    contacts_total: int | None = None
    companies_total: int | None = None
    activities_total: int | None = None
    open_activities: int | None = None
    overdue_activities: int | None = None
    deals_total: int | None = None
    deals_open: int | None = None
    #: (category id, stage code as stored) → deals in it (every pipeline, open or closed)
    deals_by_stage: dict[tuple[int, str], int] = field(default_factory=dict)
    open_deals: OpenDeals = field(default_factory=OpenDeals)
    deal_history: History | None = None
    #: minutes from a lead's creation to its first move or activity (leads of the window)
    lead_response: list[int] = field(default_factory=list)
    inactive_users: set[int] = field(default_factory=set)
    #: the window (days) the stage history was read for, and the staleness limit of leads
    history_days: int = 90
    stale_days: int = 7
    #: figures this webhook could not fully see (their keys), and why
    partial: dict[str, str] = field(default_factory=dict)
    #: rules whose figure the target has no counterpart for (rule key → reason key,
    #: ``audit.amo.reason.*``): not applicable there, never guessed
    no_counterpart: dict[str, str] = field(default_factory=dict)
    #: HTTP requests: for the core figures, and what the stage history added
    requests: int = 0
    history_requests: int = 0
