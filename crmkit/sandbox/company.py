"""The synthetic company every sandbox is seeded with, whatever CRM it imitates: its people,
client names and how many of each a seed makes.

The Bitrix24 seed (``seed.py``) and the amoCRM seed (``amocrm/seed.py``) draw from here, so a
consultant rehearsing on either meets the same company.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

#: the employees of every sandbox (id 1 owns the webhook or the token)
BASE_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("Анна", "Смирнова", "Генеральный директор", "anna.smirnova@example.com"),
    ("Игорь", "Петров", "Руководитель отдела продаж", "igor.petrov@example.com"),
    ("Мария", "Кузнецова", "Менеджер по продажам", "maria.kuznetsova@example.com"),
    ("Дмитрий", "Соколов", "Менеджер по продажам", "dmitry.sokolov@example.com"),
)
HEAD_OF_SALES = 2
MORE_MANAGERS = (
    ("Елена", "Попова"),
    ("Алексей", "Лебедев"),
    ("Ольга", "Козлова"),
    ("Сергей", "Новиков"),
    ("Татьяна", "Морозова"),
    ("Павел", "Волков"),
)
COMPANY_WORDS = (
    "Вектор",
    "Альфа",
    "Северный ветер",
    "ТехноСфера",
    "Горизонт",
    "СтройИнвест",
    "Меридиан",
    "Прогресс",
    "Орион",
    "Гранит",
    "Лидер",
    "Эталон",
    "Фортуна",
    "Аврора",
    "Пульс",
    "Кристалл",
    "Магистраль",
    "Атлант",
    "Сигма",
    "Нева",
    "Волга",
    "Байкал",
    "Импульс",
    "Вертикаль",
)
LEGAL_FORMS = ("ООО", "АО", "ИП", "ООО", "ООО")
FIRST_NAMES = (
    "Александр",
    "Екатерина",
    "Михаил",
    "Наталья",
    "Андрей",
    "Юлия",
    "Владимир",
    "Ирина",
    "Николай",
    "Светлана",
    "Роман",
    "Дарья",
    "Константин",
    "Анастасия",
)
LAST_NAMES = (
    "Иванов",
    "Васильев",
    "Фёдоров",
    "Михайлов",
    "Егоров",
    "Павлов",
    "Семенов",
    "Голубев",
    "Виноградов",
    "Богданов",
    "Воробьев",
    "Захаров",
    "Орлов",
    "Киселев",
)
POSTS = ("Директор", "Закупщик", "Главный инженер", "Финансовый директор", "Менеджер")
EXTRA_PIPELINES = ("Партнёрские продажи", "Повторные продажи")
CALLS = ("Первичный звонок", "Уточнить потребность", "Обсудить КП", "Напомнить о счёте")
MEETINGS = ("Встреча с клиентом", "Презентация продукта", "Переговоры по договору")
TASKS = ("Подготовить КП", "Выставить счёт", "Согласовать договор", "Отправить материалы")

#: how many records a seed makes, drawn in these ranges (inclusive)
EXTRA_MANAGERS = (2, 4)
COMPANIES = (18, 24)
CONTACTS = (45, 60)
LEADS = (80, 110)
DEALS = (110, 150)
#: the share of contacts that work for one of the companies
CONTACT_IN_COMPANY = 0.8


def person(rng: random.Random) -> tuple[str, str]:
    """A first and a last name; Russian surnames agree with the first name's gender."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    if first.endswith(("а", "я")) and not last.endswith("а"):
        last = last[:-1] + "а" if last.endswith("й") else last + "а"
    return first, last


def moment(now: datetime, rng: random.Random, days_back: int) -> datetime:
    """A moment within the last ``days_back`` days (and up to ten hours more)."""
    return now - timedelta(days=rng.randint(0, days_back), minutes=rng.randint(0, 600))


def company_names(rng: random.Random) -> list[str]:
    """The client companies' names (``ООО «Вектор»``), as many as ``COMPANIES`` draws."""
    words = rng.sample(COMPANY_WORDS, rng.randint(*COMPANIES))
    return [f"{rng.choice(LEGAL_FORMS)} «{word}»" for word in words]
