"""Step 2: cloud or boxed. Questions over the rows of seed 001's two tables, merged.

Pure: answers in, a recommendation with its reasons out. Each question is one row of the merged
table (payment, access, updates, data storage, data safety, hardware, installation,
flexibility, help); an answer favours ``cloud``, ``boxed`` or neither (``either``). A *decisive*
answer (the data must stay on the company's server; no internet access to rely on) settles the
type; otherwise the side with more answers wins, and a draw goes to cloud (the seed: cloud suits
small and medium business, and 70% of the author's clients chose it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from crmkit.i18n import Lang, Text

Side = Literal["cloud", "boxed", "either"]
SIDES: tuple[str, ...] = ("cloud", "boxed", "either")


@dataclass(frozen=True)
class Question:
    id: str
    #: the row of the merged table
    criterion: Text
    text: Text
    cloud: Text  # what the cloud column says (the answer that favours cloud)
    boxed: Text  # what the boxed column says
    #: an answer on this side settles the type by itself
    decisive: tuple[str, ...] = ()


def _t(ru: str, en: str, uk: str) -> Text:
    return Text(ru=ru, en=en, uk=uk)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "access",
        _t("Доступ", "Access", "Доступ"),
        _t(
            "Откуда сотрудники будут работать в CRM?",
            "Where will people work in the CRM?",
            "Звідки працівники працюватимуть у CRM?",
        ),
        _t(
            "Отовсюду, с любого устройства через интернет",
            "Anywhere, from any device over the internet",
            "Звідусіль, з будь-якого пристрою через інтернет",
        ),
        _t(
            "Только из офиса, с компьютера, где стоит программа",
            "Only in the office, on the machine it is installed on",
            "Лише з офісу, з комп’ютера, де встановлена програма",
        ),
    ),
    Question(
        "payment",
        _t("Оплата", "Payment", "Оплата"),
        _t("Как удобнее платить?", "How would you rather pay?", "Як зручніше платити?"),
        _t("Каждый месяц, по подписке", "Every month, a subscription", "Щомісяця, за передплатою"),
        _t("Один раз, за лицензию", "Once, for a licence", "Один раз, за ліцензію"),
    ),
    Question(
        "updates",
        _t("Обновления", "Updates", "Оновлення"),
        _t("Как быть с обновлениями?", "What about updates?", "Як щодо оновлень?"),
        _t(
            "Автоматически, входят в тариф",
            "Automatic, included in the plan",
            "Автоматично, входять у тариф",
        ),
        _t(
            "Готовы платить за обновления и специалиста для доработанной системы",
            "We accept paid updates and a specialist for a customised system",
            "Готові платити за оновлення і фахівця для доопрацьованої системи",
        ),
    ),
    Question(
        "storage",
        _t("Хранение данных", "Data storage", "Зберігання даних"),
        _t(
            "Где должны храниться данные о клиентах?",
            "Where must the client data be kept?",
            "Де мають зберігатися дані про клієнтів?",
        ),
        _t(
            "На сервере разработчика — подходит",
            "On the vendor's server is fine",
            "На сервері розробника — підходить",
        ),
        _t("Только на нашем сервере", "Only on our own server", "Лише на нашому сервері"),
        decisive=("boxed",),
    ),
    Question(
        "safety",
        _t("Безопасность данных", "Data safety", "Безпека даних"),
        _t(
            "Кто отвечает за сохранность данных и резервные копии?",
            "Who answers for data safety and backups?",
            "Хто відповідає за збереженість даних і резервні копії?",
        ),
        _t("Разработчик", "The vendor", "Розробник"),
        _t(
            "Мы: есть администратор и расписание резервных копий",
            "We do: we have an administrator and a backup schedule",
            "Ми: є адміністратор і розклад резервних копій",
        ),
    ),
    Question(
        "hardware",
        _t("Оборудование", "Hardware", "Обладнання"),
        _t(
            "Есть ли сервер с запасом ресурсов?",
            "Is there a server with spare capacity?",
            "Чи є сервер із запасом ресурсів?",
        ),
        _t(
            "Нет, и покупать не хотим",
            "No, and we do not want to buy one",
            "Ні, і купувати не хочемо",
        ),
        _t(
            "Есть или купим с запасом",
            "Yes, or we will buy one with a margin",
            "Є або купимо із запасом",
        ),
    ),
    Question(
        "installation",
        _t("Установка", "Installation", "Встановлення"),
        _t("Кто установит систему?", "Who will install the system?", "Хто встановить систему?"),
        _t(
            "Некому: нужна простая установка без специальных знаний",
            "Nobody: it must be simple, no special skills",
            "Нікому: потрібне просте встановлення без спеціальних знань",
        ),
        _t(
            "Есть специалист со специальными навыками",
            "We have a specialist with the skills",
            "Є фахівець зі спеціальними навичками",
        ),
    ),
    Question(
        "flexibility",
        _t("Гибкость", "Flexibility", "Гнучкість"),
        _t(
            "Насколько специфичны ваши процессы?",
            "How specific are your processes?",
            "Наскільки специфічні ваші процеси?",
        ),
        _t(
            "Типовые, хватит стандартных настроек",
            "Ordinary: standard settings will do",
            "Типові, вистачить стандартних налаштувань",
        ),
        _t(
            "Специфичные, нужна глубокая доработка",
            "Specific: we need deep customisation",
            "Специфічні, потрібне глибоке доопрацювання",
        ),
    ),
    Question(
        "help",
        _t("Помощь в управлении", "Help", "Допомога в роботі"),
        _t(
            "Какая помощь нужна в работе с системой?",
            "What help do you need running the system?",
            "Яка допомога потрібна в роботі із системою?",
        ),
        _t("Техподдержка разработчика", "The vendor's support", "Техпідтримка розробника"),
        _t(
            "Хватит инструкций пользователя",
            "User instructions are enough",
            "Вистачить інструкцій користувача",
        ),
    ),
)

QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS)


@dataclass(frozen=True)
class Reason:
    question: Question
    side: str  # cloud | boxed | either

    def to_dict(self, lang: Lang) -> dict[str, Any]:
        q = self.question
        said = {"cloud": q.cloud, "boxed": q.boxed}.get(self.side)
        return {
            "question": q.id,
            "criterion": q.criterion.get(lang),
            "answer": self.side,
            "says": said.get(lang) if said else "",
            "decisive": self.side in q.decisive,
        }


@dataclass(frozen=True)
class Recommendation:
    #: cloud, boxed or either (no filter on deployment)
    deployment: str
    reasons: tuple[Reason, ...] = ()
    cloud_votes: int = 0
    boxed_votes: int = 0
    #: why: decisive | majority | draw | chosen | no-answers
    basis: str = "no-answers"
    decisive: tuple[str, ...] = field(default=())

    def to_dict(self, lang: Lang) -> dict[str, Any]:
        return {
            "deployment": self.deployment,
            "basis": self.basis,
            "cloud_votes": self.cloud_votes,
            "boxed_votes": self.boxed_votes,
            "decisive": list(self.decisive),
            "reasons": [r.to_dict(lang) for r in self.reasons],
        }


def recommend(answers: dict[str, str], decision: str | None = None) -> Recommendation:
    """The deployment type from ``answers`` (question id → side); ``decision`` overrides."""
    reasons = tuple(Reason(q, answers[q.id]) for q in QUESTIONS if answers.get(q.id) in SIDES)
    cloud = sum(1 for r in reasons if r.side == "cloud")
    boxed = sum(1 for r in reasons if r.side == "boxed")
    decisive = tuple(r.question.id for r in reasons if r.side in r.question.decisive)
    if decision in SIDES:
        return Recommendation(decision, reasons, cloud, boxed, "chosen", decisive)
    if decisive:
        sides = {r.side for r in reasons if r.question.id in decisive}
        side = sides.pop() if len(sides) == 1 else "either"
        return Recommendation(side, reasons, cloud, boxed, "decisive", decisive)
    if not cloud and not boxed:
        return Recommendation("either", reasons, 0, 0, "no-answers")
    if cloud == boxed:
        return Recommendation("cloud", reasons, cloud, boxed, "draw")
    return Recommendation("cloud" if cloud > boxed else "boxed", reasons, cloud, boxed, "majority")
