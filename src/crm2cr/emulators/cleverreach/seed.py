"""The emulator's starting data: `empty` (the account, nothing in it) and `demo`.

The demo account holds the people of emulators/common/demo_people.py, the
same people who are contacts in the Dataverse demo organisation, so a demo
sync finds matches. Deterministic: the same content every time (timestamps
count back from the emulator's clock).
"""

from __future__ import annotations

from typing import Any

from crm2cr.emulators.cleverreach import attributes, blacklist, groups, mailings, members, sending
from crm2cr.emulators.cleverreach.receivers_write import write
from crm2cr.emulators.cleverreach.settings import Settings
from crm2cr.emulators.cleverreach.store import Store, Tx
from crm2cr.emulators.common.demo_people import OWNERS, DemoPerson, companies, people

DAY = 86_400
GLOBAL_ATTRIBUTES = (
    ("firstname", "text", "Vorname"),
    ("lastname", "text", "Nachname"),
    ("company", "text", "Firma"),
    ("salutation", "text", "Anrede"),
    ("gender", "gender", "Geschlecht"),
    ("city", "text", "Ort"),
    ("owner_firstname", "text", "Vorname des Besitzers im CRM"),
)
NEWSLETTER_SIZE = 250
ONLY_IN_CLEVERREACH = (
    ("leserin.frank@posteo-demo.example", "Ines", "Frank"),
    ("m.vogel@webmail-demo.example", "Martin", "Vogel"),
    ("info@kanzlei-roth-demo.example", "", ""),
    ("s.yilmaz@mailbox-demo.example", "Selin", "Yilmaz"),
    ("newsletter.fan@gmx-demo.example", "", ""),
)
DEACTIVATED = frozenset({7, 27, 47, 67, 87, 107, 127, 147, 167, 187, 207, 227})
BOUNCED = (33, 111, 199)
BLACKLISTED = (13, 77)


def apply(store: Store, name: str, settings: Settings) -> None:
    """Fill a wiped store with seed `name` (`empty` leaves it empty: the account exists
    by itself)."""
    if name == "empty":
        return
    with store.write("seed demo", actor="seed") as tx:
        _demo(tx, settings)


def _person(p: DemoPerson, now: int, *, days_ago: int) -> dict[str, Any]:
    company = companies()[p.company]
    female = p.gender == 2
    stamp = now - days_ago * DAY
    return {
        "email": p.email,
        "registered": stamp,
        "activated": stamp,
        "source": "CRM2CR Demo",
        "global_attributes": {
            "firstname": p.firstname,
            "lastname": p.lastname,
            "company": company.name,
            "salutation": "Frau" if female else "Herr",
            "gender": "female" if female else "male",
            "city": p.city,
            "owner_firstname": OWNERS[p.owner][0],
        },
    }


def _demo(tx: Tx, settings: Settings) -> None:
    for name, kind, description in GLOBAL_ATTRIBUTES:
        attributes.create(
            tx,
            {"name": name, "type": kind, "description": description},
            0,
            settings.attribute_limit,
        )
    everyone = people()
    now = tx.now

    newsletter = int(groups.create(tx, {"name": "Newsletter"})["id"])
    batch = []
    for p in everyone[:NEWSLETTER_SIZE]:
        item = _person(p, now, days_ago=400 - p.index)
        if p.index in DEACTIVATED:
            item["deactivated"] = now - (p.index % 90 + 1) * DAY
        batch.append(item)
    for i, (email, first, last) in enumerate(ONLY_IN_CLEVERREACH):
        batch.append(
            {
                "email": email,
                "registered": now - (30 + i) * DAY,
                "activated": now - (30 + i) * DAY,
                "source": "Anmeldeformular",
                "global_attributes": {"firstname": first, "lastname": last},
                "tags": ["Origin.Website"],
            }
        )
    write(tx, newsletter, batch, "upsert", "faithful")

    premium = int(groups.create(tx, {"name": "Kunden Premium"})["id"])
    attributes.create(
        tx,
        {"name": "kundennr", "type": "text", "description": "Kundennummer"},
        premium,
        settings.attribute_limit,
    )
    batch = []
    for p in everyone[:300:5]:
        item = _person(p, now, days_ago=200 - p.index // 5)
        item["attributes"] = {"kundennr": f"K-{10000 + p.index}"}
        item["tags"] = ["CRM.Premium"]
        batch.append(item)
    write(tx, premium, batch, "upsert", "faithful")

    events = int(groups.create(tx, {"name": "Events 2026"})["id"])
    batch = []
    for p in everyone[250:280]:
        item = _person(p, now, days_ago=20)
        if p.index % 6 == 0:
            item["activated"] = 0  # signed up, double opt-in not yet confirmed
        batch.append(item)
    write(tx, events, batch, "upsert", "faithful")

    for index in BLACKLISTED:
        blacklist.put(tx, 0, {"email": everyone[index].email, "comment": "Beschwerde"})
    for index in BOUNCED:
        members.bounce(
            tx,
            everyone[index].email,
            category="hardbounce",
            message=sending.BOUNCE_MESSAGE,
            kind="import",
            type_id="0",
        )

    finished = int(mailings.create(tx, _mailing("Winter-Newsletter 2025", newsletter))["id"])
    sent_at = now - 30 * DAY
    sending.start(tx, finished, sent_at)
    sending.finish(tx, finished, sent_at + settings.send_duration, settings)
    mailings.create(tx, _mailing("Frühjahrs-Newsletter 2026", newsletter))


def _mailing(name: str, group_id: int) -> dict[str, Any]:
    html = (
        f"<html><body><h1>{name}</h1><p>Hallo {{FIRSTNAME}},</p>"
        "<p>hier sind unsere Neuigkeiten.</p></body></html>"
    )
    return {
        "name": name,
        "subject": name,
        "sender_name": "crm2cr Demo GmbH",
        "sender_email": "news@crm2cr-demo.example",
        "content": {"type": "html/text", "html": html, "text": f"{name}\n\nHallo {{FIRSTNAME}},"},
        "receivers": {"groups": [str(group_id)], "filter": ""},
        "settings": {"editor": "wizard", "open_tracking": True, "click_tracking": True},
    }
