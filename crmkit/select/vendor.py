"""Step 5: questions for the vendor's manager. Pure.

Every finalist gets the seven questions of seed 001. The uncertain parts of the selection add
their own: must-haves and step-1 needs the catalog cannot confirm, how leads are kept where they
are not separate from deals (amoCRM, seed 002), scores given with low confidence, a close call on
the critical criterion, and knock-outs that rest only on the catalog's (dated) facts.
Answers are recorded in the selection file under ``[vendor.<system>]`` by question id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crmkit.i18n import Lang, Text, plural
from crmkit.select.matrix import Criterion, Flip, Score
from crmkit.select.shortlist import Check, KnockOut

STANDARD: tuple[tuple[str, Text], ...] = (
    (
        "support_paid",
        Text(
            "Техподдержка платная или бесплатная, за что она отвечает?",
            "Is support paid or free, and what does it cover?",
            "Техпідтримка платна чи безкоштовна, за що вона відповідає?",
        ),
    ),
    (
        "extra_functions",
        Text(
            "Можно ли заказать дополнительный функционал? Сколько это стоит?",
            "Can extra functions be ordered? At what cost?",
            "Чи можна замовити додатковий функціонал? Скільки це коштує?",
        ),
    ),
    (
        "turnkey",
        Text(
            "Можно ли настроить и внедрить CRM «под ключ»? Сколько это стоит?",
            "Is a turnkey set-up available? At what cost?",
            "Чи можна налаштувати й упровадити CRM «під ключ»? Скільки це коштує?",
        ),
    ),
    (
        "updates_paid",
        Text(
            "Нужно ли платить за обновления?", "Are updates paid?", "Чи треба платити за оновлення?"
        ),
    ),
    (
        "min_period",
        Text(
            "Какой минимальный период оплаты: месяц, 6 месяцев, год?",
            "What is the minimum payment period: a month, 6 months, a year?",
            "Який мінімальний період оплати: місяць, 6 місяців, рік?",
        ),
    ),
    (
        "discount",
        Text(
            "Как можно получить скидку на оплату?",
            "How can we get a discount?",
            "Як можна отримати знижку на оплату?",
        ),
    ),
    (
        "hide_data",
        Text(
            "Можно ли скрывать данные от отдельных лиц?",
            "Can data be hidden from some people?",
            "Чи можна приховувати дані від окремих осіб?",
        ),
    ),
)
STANDARD_IDS = tuple(q for q, _ in STANDARD)
#: ids of generated questions: <kind>-<subject>
GENERATED = re.compile(r"(low|critical|check|knockout|open|cost)-[A-Za-z0-9_.-]+")
#: a critical criterion whose weight must move by at most this share is a close call
CLOSE_CALL = 0.5

#: step-1 functions one of the seven standard questions already asks about
_ASKED_BY_STANDARD = {"access_rights": "hide_data"}

_EVIDENCE = {
    "demo": Text("демо", "a demo", "демо"),
    "trial": Text("пробный период", "the trial", "пробний період"),
    "docs": Text("документация", "the docs", "документація"),
    "reference": Text("звонок клиенту вендора", "a reference call", "дзвінок клієнтові вендора"),
    "none": Text("не указано", "none given", "не зазначено"),
}


def _name(names: Mapping[str, Text], system: str, lang: Lang) -> str:
    found = names.get(system)
    return found.get(lang) if found else system


def _licence_question(users: int | None) -> Text:
    """The price of the licences, which the cost of ownership needs and nobody has given."""
    if users is None:
        return Text(
            "Сколько стоит лицензия в месяц — за пользователя или тариф целиком? Какой тариф нам "
            "подходит и с какой даты действует цена?",
            "What does the licence cost per month, per user or for the whole plan? Which plan "
            "suits us, and from what date is the price valid?",
            "Скільки коштує ліцензія на місяць — за користувача чи тариф цілком? Який тариф нам "
            "підходить і з якої дати діє ціна?",
        )
    ru = f"{users} " + plural(users, "ru", "пользователя|пользователя|пользователей")
    en = f"{users} " + plural(users, "en", "user|users")
    uk = f"{users} " + plural(users, "uk", "користувача|користувачів|користувачів")
    return Text(
        f"Сколько стоит лицензия на {ru} в месяц — за пользователя или тариф целиком? "
        "Какой тариф нам подходит и с какой даты действует цена?",
        f"What does the licence for {en} cost per month, per user or for the whole plan? "
        "Which plan suits us, and from what date is the price valid?",
        f"Скільки коштує ліцензія на {uk} на місяць — за користувача чи тариф цілком? "
        "Який тариф нам підходить і з якої дати діє ціна?",
    )


def is_question_id(qid: str) -> bool:
    return qid in STANDARD_IDS or GENERATED.fullmatch(qid) is not None


@dataclass(frozen=True)
class VendorQuestion:
    id: str
    system: str
    kind: str  # standard | low | critical | check | knockout | open | cost
    text: Text
    answer: str | None = None

    def to_dict(self, lang: Lang) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "question": self.text.get(lang),
            "answer": self.answer,
        }


@dataclass(frozen=True)
class VendorSheet:
    system: str
    finalist: bool
    questions: tuple[VendorQuestion, ...]
    #: answers recorded for questions no longer asked
    other_answers: tuple[tuple[str, str], ...] = ()


def questions(
    *,
    finalists: Sequence[str],
    names: Mapping[str, Text],
    criteria: Mapping[str, Criterion],
    scores: Mapping[str, Mapping[str, Score]],
    low_confidence: Sequence[tuple[str, str]],
    leader: str | None,
    critical: Flip | None,
    open_checks: Mapping[str, Sequence[Check]],
    unverified: Sequence[KnockOut],
    answers: Mapping[str, Mapping[str, str]],
    open_scores: Mapping[str, Sequence[str]] | None = None,
    need_checks: Mapping[str, Sequence[Check]] | None = None,
    leads_in_deals: Sequence[str] = (),
    licence_unknown: Sequence[str] = (),
    users: int | None = None,
) -> list[VendorSheet]:
    """The questions of every finalist (and of the unverified knock-outs). ``licence_unknown``:
    systems whose licence price neither the consultant nor the catalog gives (asked of the
    finalists among them, for ``users`` people)."""
    asked: dict[str, list[VendorQuestion]] = {}

    def add(system: str, qid: str, kind: str, text: Text) -> None:
        got = answers.get(system, {}).get(qid)
        bucket = asked.setdefault(system, [])
        if all(q.id != qid for q in bucket):
            bucket.append(VendorQuestion(qid, system, kind, text, got))

    for system in finalists:
        for qid, text in STANDARD:
            add(system, qid, "standard", text)
        for check in open_checks.get(system, ()):
            # what is checked, bare: "не подтверждено: воронка продаж: каждая сделка…" asks
            # "воронка продаж" (a question, not a chain of colons)
            ru = check.text.ru.removeprefix("не подтверждено: ").split(":")[0]
            en = check.text.en.removeprefix("not confirmed: ").split(":")[0]
            uk = check.text.get("uk").removeprefix("не підтверджено: ").split(":")[0]
            add(
                system,
                f"check-{check.rule}-{check.subject}",
                "check",
                Text(
                    f"Есть ли в системе {ru}? Для нас это обязательно, а в каталоге об этом "
                    "ничего нет.",
                    f"Does the system have {en}? We must have it, and the catalog does not say.",
                    f"Чи є в системі {uk}? Для нас це обов’язково, а в каталозі про це нічого "
                    "немає.",
                ),
            )
        for check in (need_checks or {}).get(system, ()):
            if check.subject in _ASKED_BY_STANDARD:
                continue
            # the function as a phrase: "воронка продаж: каждая сделка…" asks "воронка продаж"
            ru, en, uk = (x.split(":")[0] for x in (check.name.ru, check.name.en, check.name.uk))
            add(
                system,
                f"check-need-{check.subject}",
                "check",
                Text(
                    f"Есть ли в системе {ru}? Это нужно для наших задач (шаг 1).",
                    f"Does the system have this: {en}? We need it for the problems of step 1.",
                    f"Чи є в системі {uk or ru}? Це потрібно для наших завдань (крок 1).",
                ),
            )
        if system in licence_unknown:
            add(system, "cost-licence", "cost", _licence_question(users))
        if system in leads_in_deals:
            add(
                system,
                "check-leads_deals",
                "check",
                Text(
                    "Лиды и сделки здесь не разделены — для лидов понадобится отдельная воронка. "
                    "Покажите, как она устроена и как заявка из неё становится сделкой.",
                    "Leads and deals are not separate here: leads will need a pipeline of their "
                    "own. Show us how it is set up and how a request in it becomes a deal.",
                    "Ліди й угоди тут не розділені — для лідів знадобиться окрема воронка. "
                    "Покажіть, як вона влаштована і як заявка з неї стає угодою.",
                ),
            )
        for low_system, cid in low_confidence:
            if low_system != system:
                continue
            criterion = criteria[cid]
            score = scores[system][cid]
            here, above = criterion.anchor(score.value), criterion.anchor(score.value + 1)
            ev = _EVIDENCE.get(score.evidence, _EVIDENCE["none"])
            add(
                system,
                f"low-{cid}",
                "low",
                Text(
                    f"Покажите на демо, как система справляется с критерием «{criterion.name.ru}». "
                    f"Мы поставили {score.value:g} с низкой уверенностью (основание — {ev.ru}). "
                    f"Что ближе к правде — «{here.ru}» или «{above.ru}»?",
                    f"Show us in a demo how the system does on '{criterion.name.en}'. We scored "
                    f"it {score.value:g} with low confidence (evidence: {ev.en}). "
                    f"Which is true, '{here.en}' or '{above.en}'?",
                    f"Покажіть на демо, як система справляється з критерієм "
                    f"«{criterion.name.get('uk')}». Ми поставили {score.value:g} з низькою "
                    f"упевненістю (підстава — {ev.get('uk')}). Що ближче до правди — "
                    f"«{here.get('uk')}» чи «{above.get('uk')}»?",
                ),
            )
    rel = critical.relative_move if critical is not None else None
    if (
        critical is not None
        and leader
        and critical.flips_to
        and rel is not None
        and rel <= CLOSE_CALL
    ):
        criterion = criteria[critical.criterion]
        top = criterion.rubric[-1] if criterion.rubric else Text()
        for system, other in ((leader, critical.flips_to), (critical.flips_to, leader)):
            add(
                system,
                f"critical-{criterion.id}",
                "critical",
                Text(
                    f"Выбор между {_name(names, system, 'ru')} и {_name(names, other, 'ru')} "
                    f"решает «{criterion.name.ru}». Покажите на наших данных, выполняется ли: "
                    f"«{top.ru}»",
                    f"The choice between {_name(names, system, 'en')} and "
                    f"{_name(names, other, 'en')} turns on '{criterion.name.en}'. "
                    f"Show on our data whether this holds: '{top.en}'",
                ),
            )
    for system, left_open in (open_scores or {}).items():
        for cid in left_open:
            if cid not in criteria:
                continue
            criterion = criteria[cid]
            low = criterion.rubric[0] if criterion.rubric else Text()
            top = criterion.rubric[-1] if criterion.rubric else Text()
            add(
                system,
                f"open-{cid}",
                "open",
                Text(
                    f"Покажите, как система справляется с критерием «{criterion.name.ru}»: "
                    f"оценку мы отложили до вашего ответа. Что ближе к правде — «{low.ru}» "
                    f"или «{top.ru}»?",
                    f"Show us how the system does on '{criterion.name.en}': we left its score "
                    f"until you answer. Which is nearer the truth, '{low.en}' or '{top.en}'?",
                    f"Покажіть, як система справляється з критерієм «{criterion.name.get('uk')}»: "
                    f"оцінку ми відклали до вашої відповіді. Що ближче до правди — "
                    f"«{low.get('uk')}» чи «{top.get('uk')}»?",
                ),
            )
    for ko in unverified:
        for check in ko.checks:
            add(
                ko.system,
                f"knockout-{check.rule}-{check.subject}",
                "knockout",
                Text(
                    f"Верно ли это сейчас: {check.text.ru}? Данные каталога могли устареть; "
                    "если это уже не так, система возвращается в шорт-лист.",
                    f"Is this still true: {check.text.en}? The catalog's facts may be out of "
                    "date; if it no longer holds, the system is back on the shortlist.",
                    f"Чи це досі так: {check.text.get('uk')}? Дані каталогу могли застаріти; "
                    "якщо це вже не так, система повертається в шорт-лист.",
                ),
            )
    sheets = []
    order = list(finalists) + [s for s in asked if s not in finalists]
    for system in order:
        qs = tuple(asked.get(system, ()))
        ids = {q.id for q in qs}
        extra = tuple((qid, a) for qid, a in answers.get(system, {}).items() if qid not in ids)
        sheets.append(VendorSheet(system, system in finalists, qs, extra))
    for system, given in answers.items():
        if system not in order and given:
            sheets.append(VendorSheet(system, False, (), tuple(given.items())))
    return sheets
