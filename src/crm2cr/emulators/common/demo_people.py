"""The people of the demo organisation, shared by both emulators' demo seeds.

Deterministic: the same names, companies and addresses every time, so the
Dataverse demo organisation and the CleverReach demo account match (the same
people are contacts in the CRM and receivers in CleverReach).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

# fmt: off
FIRST_NAMES = (
    "Anna", "Lukas", "Marie", "Leon", "Sophie", "Felix", "Emma", "Jonas", "Mia", "Paul",
    "Hannah", "Ben", "Lea", "Finn", "Laura", "Elias", "Lena", "Noah", "Clara", "Tim",
    "Julia", "David", "Sarah", "Max", "Katharina", "Jan", "Nina", "Tobias", "Eva", "Moritz",
    "Oliver", "Grace", "James", "Chloe", "Henry", "Isabel", "Samuel", "Ava", "Thomas", "Ella",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Werner",
    "Smith", "Brown", "Taylor", "Wilson", "Clarke", "Walker",
)
COMPANY_STEMS = (
    "Nordlicht", "Alpen", "Rhein", "Hanse", "Spree", "Elbe", "Isar", "Main", "Weser", "Mosel",
    "Bergland", "Küsten", "Sonnen", "Stadtwerk", "Feder", "Blau", "Grün", "Eichen", "Linden",
    "Falken",
)
COMPANY_KINDS = ("Logistik", "Consulting", "Maschinenbau", "Software", "Handel", "Medien",
                 "Bau", "Energie", "Pharma", "Design")
LEGAL_FORMS = ("GmbH", "AG", "KG", "GmbH & Co. KG", "e.K.")
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart",
          "Düsseldorf", "Leipzig", "Dresden", "Hannover", "Nürnberg", "Bremen")
OWNERS = (("Max", "Admin"), ("Sabine", "Vertrieb"), ("Thomas", "Marketing"),
          ("Petra", "Innendienst"), ("Jürgen", "Außendienst"))

FEMALE = frozenset({"Anna", "Marie", "Sophie", "Emma", "Mia", "Hannah", "Lea", "Laura", "Lena",
                    "Clara", "Julia", "Sarah", "Katharina", "Nina", "Eva", "Grace", "Chloe",
                    "Isabel", "Ava", "Ella"})
# fmt: on

SEED = 20261123


@dataclass(frozen=True)
class DemoCompany:
    index: int
    name: str
    domain: str
    city: str
    owner: int  # index into OWNERS


@dataclass(frozen=True)
class DemoPerson:
    index: int
    firstname: str
    lastname: str
    email: str
    company: int  # index into companies()
    city: str
    gender: int  # 1 male, 2 female, 0 unknown
    owner: int  # index into OWNERS


def _ascii(text: str) -> str:
    table = str.maketrans(
        {
            "ä": "ae",
            "ö": "oe",
            "ü": "ue",
            "ß": "ss",
            "Ä": "Ae",
            "Ö": "Oe",
            "Ü": "Ue",
            " ": "",
            "&": "",
            ".": "",
        }
    )
    return text.translate(table).lower()


@cache
def companies(count: int = 60) -> tuple[DemoCompany, ...]:
    rng = random.Random(SEED)
    seen: set[str] = set()
    result: list[DemoCompany] = []
    while len(result) < count:
        stem, kind = rng.choice(COMPANY_STEMS), rng.choice(COMPANY_KINDS)
        if (stem, kind) in {tuple(c.name.split()[:2]) for c in result}:
            continue
        name = f"{stem} {kind} {rng.choice(LEGAL_FORMS)}"
        domain = f"{_ascii(stem)}-{_ascii(kind)}.example"
        if domain in seen:
            continue
        seen.add(domain)
        result.append(
            DemoCompany(len(result), name, domain, rng.choice(CITIES), rng.randrange(len(OWNERS)))
        )
    return tuple(result)


@cache
def people(count: int = 400) -> tuple[DemoPerson, ...]:
    rng = random.Random(SEED + 1)
    firms = companies()
    used: set[str] = set()
    result: list[DemoPerson] = []
    while len(result) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        firm = rng.randrange(len(firms))
        email = f"{_ascii(first)}.{_ascii(last)}@{firms[firm].domain}"
        if email in used:
            continue
        used.add(email)
        gender = 2 if first in FEMALE else 1
        result.append(
            DemoPerson(
                len(result), first, last, email, firm, firms[firm].city, gender, firms[firm].owner
            )
        )
    return tuple(result)
