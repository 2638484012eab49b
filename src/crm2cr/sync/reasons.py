"""Why the engine did (or did not do) something: a code, details, and its text in two languages.

Every planned action and every record left out carries a Reason, so the log
can name each record with its cause (invariant 7) and `sync --dry-run` can
show why the next run would act.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Code(StrEnum):
    NEW_IN_CRM = "new_in_crm"
    NEW_IN_CLEVERREACH = "new_in_cleverreach"
    ADOPTED = "adopted"
    CRM_CHANGED = "crm_changed"
    CLEVERREACH_CHANGED = "cleverreach_changed"
    CONFLICT_CRM_NEWER = "conflict_crm_newer"
    CONFLICT_CLEVERREACH_NEWER = "conflict_cleverreach_newer"
    CONFLICT_TIE = "conflict_tie"
    MIRROR_CRM = "mirror_crm"
    MIRROR_CLEVERREACH = "mirror_cleverreach"
    EMAIL_CHANGED_IN_CRM = "email_changed_in_crm"
    EMAIL_CHANGED_IN_CLEVERREACH = "email_changed_in_cleverreach"
    LEFT_LIST = "left_list"
    REMOVED_IN_CLEVERREACH = "removed_in_cleverreach"
    RECREATED = "recreated"
    NOT_IN_LIST = "not_in_list"
    NOT_IN_GROUP = "not_in_group"
    INACTIVE_IN_CRM = "inactive_in_crm"
    INVALID_EMAIL = "invalid_email"
    NO_EMAIL = "no_email"
    OPTED_OUT_IN_CRM = "opted_out_in_crm"
    UNSUBSCRIBED_IN_CLEVERREACH = "unsubscribed_in_cleverreach"
    BOUNCED_IN_CLEVERREACH = "bounced_in_cleverreach"
    BLACKLISTED_IN_CLEVERREACH = "blacklisted_in_cleverreach"
    STAYS_DEACTIVATED = "stays_deactivated"
    OPT_OUT_CLEARED_IN_CRM = "opt_out_cleared_in_crm"
    DOUBLE_OPT_IN = "double_opt_in"
    PENDING_OPT_IN = "pending_opt_in"
    DUPLICATE_EMAIL = "duplicate_email"
    LICENCE_LIMIT = "licence_limit"
    KEPT_BY_POLICY = "kept_by_policy"
    DIRECTION = "direction"
    GONE_ON_BOTH_SIDES = "gone_on_both_sides"


@dataclass(frozen=True, slots=True)
class Reason:
    code: Code
    detail: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str:
        return dict(self.detail).get(name, "")

    def text(self, language: str = "en") -> str:
        templates = TEXTS_DE if language == "de" else TEXTS_EN
        values = {k: v for k, v in self.detail}
        try:
            return templates[self.code].format(**values)
        except KeyError:
            return templates[self.code]


def because(code: Code, **detail: object) -> Reason:
    return Reason(code, tuple((k, str(v)) for k, v in sorted(detail.items())))


TEXTS_EN: dict[Code, str] = {
    Code.NEW_IN_CRM: "new in the CRM list",
    Code.NEW_IN_CLEVERREACH: "new in the CleverReach group",
    Code.ADOPTED: "same e-mail on both sides, linked",
    Code.CRM_CHANGED: "changed in the CRM: {fields}",
    Code.CLEVERREACH_CHANGED: "changed in CleverReach: {fields}",
    Code.CONFLICT_CRM_NEWER: "conflict on {fields}: CRM newer",
    Code.CONFLICT_CLEVERREACH_NEWER: "conflict on {fields}: CleverReach newer",
    Code.CONFLICT_TIE: "conflict on {fields}: same time, the CRM wins",
    Code.MIRROR_CRM: "CleverReach differs from the CRM: {fields}",
    Code.MIRROR_CLEVERREACH: "the CRM differs from CleverReach: {fields}",
    Code.EMAIL_CHANGED_IN_CRM: "e-mail changed in the CRM from {old} to {new}",
    Code.EMAIL_CHANGED_IN_CLEVERREACH: "e-mail changed in CleverReach from {old} to {new}",
    Code.LEFT_LIST: "no longer a member of the list",
    Code.REMOVED_IN_CLEVERREACH: "removed from the CleverReach group",
    Code.RECREATED: "missing from the CleverReach group, created again",
    Code.NOT_IN_LIST: "in the group but not a member of the list",
    Code.NOT_IN_GROUP: "in the list but not a receiver of the group",
    Code.INACTIVE_IN_CRM: "inactive in the CRM",
    Code.INVALID_EMAIL: "invalid e-mail address {email}",
    Code.NO_EMAIL: "no e-mail address",
    Code.OPTED_OUT_IN_CRM: "opted out of bulk e-mail in the CRM",
    Code.UNSUBSCRIBED_IN_CLEVERREACH: "unsubscribed in CleverReach since {since}",
    Code.BOUNCED_IN_CLEVERREACH: "bounced in CleverReach since {since}",
    Code.BLACKLISTED_IN_CLEVERREACH: "blacklisted in CleverReach",
    Code.STAYS_DEACTIVATED: "deactivated in CleverReach since {since}, never re-activated",
    Code.OPT_OUT_CLEARED_IN_CRM: (
        "opt-out cleared in the CRM; the receiver stays deactivated until a new double opt-in"
    ),
    Code.DOUBLE_OPT_IN: "re-activated by a double opt-in in CleverReach",
    Code.PENDING_OPT_IN: "awaiting double opt-in in CleverReach",
    Code.DUPLICATE_EMAIL: "duplicate e-mail {email}: record {winner} is synced instead",
    Code.LICENCE_LIMIT: "licence limit reached: no new recipients beyond {limit}",
    Code.KEPT_BY_POLICY: "left the list; kept in the group (setting)",
    Code.DIRECTION: "not written: the coupling's direction is {direction}",
    Code.GONE_ON_BOTH_SIDES: "gone on both sides",
}

TEXTS_DE: dict[Code, str] = {
    Code.NEW_IN_CRM: "neu in der CRM-Liste",
    Code.NEW_IN_CLEVERREACH: "neu in der CleverReach-Gruppe",
    Code.ADOPTED: "gleiche E-Mail auf beiden Seiten, verknüpft",
    Code.CRM_CHANGED: "im CRM geändert: {fields}",
    Code.CLEVERREACH_CHANGED: "in CleverReach geändert: {fields}",
    Code.CONFLICT_CRM_NEWER: "Konflikt bei {fields}: CRM neuer",
    Code.CONFLICT_CLEVERREACH_NEWER: "Konflikt bei {fields}: CleverReach neuer",
    Code.CONFLICT_TIE: "Konflikt bei {fields}: gleichzeitig, das CRM gewinnt",
    Code.MIRROR_CRM: "CleverReach weicht vom CRM ab: {fields}",
    Code.MIRROR_CLEVERREACH: "das CRM weicht von CleverReach ab: {fields}",
    Code.EMAIL_CHANGED_IN_CRM: "E-Mail im CRM geändert von {old} auf {new}",
    Code.EMAIL_CHANGED_IN_CLEVERREACH: "E-Mail in CleverReach geändert von {old} auf {new}",
    Code.LEFT_LIST: "nicht mehr Mitglied der Liste",
    Code.REMOVED_IN_CLEVERREACH: "aus der CleverReach-Gruppe entfernt",
    Code.RECREATED: "fehlte in der CleverReach-Gruppe, neu angelegt",
    Code.NOT_IN_LIST: "in der Gruppe, aber nicht Mitglied der Liste",
    Code.NOT_IN_GROUP: "in der Liste, aber kein Empfänger der Gruppe",
    Code.INACTIVE_IN_CRM: "im CRM inaktiv",
    Code.INVALID_EMAIL: "ungültige E-Mail-Adresse {email}",
    Code.NO_EMAIL: "keine E-Mail-Adresse",
    Code.OPTED_OUT_IN_CRM: "im CRM von Massen-E-Mails abgemeldet",
    Code.UNSUBSCRIBED_IN_CLEVERREACH: "in CleverReach abgemeldet seit {since}",
    Code.BOUNCED_IN_CLEVERREACH: "in CleverReach unzustellbar seit {since}",
    Code.BLACKLISTED_IN_CLEVERREACH: "in CleverReach auf der Blacklist",
    Code.STAYS_DEACTIVATED: "in CleverReach deaktiviert seit {since}, nie wieder aktiviert",
    Code.OPT_OUT_CLEARED_IN_CRM: (
        "Abmeldung im CRM aufgehoben; der Empfänger bleibt deaktiviert bis zu einem neuen "
        "Double-Opt-in"
    ),
    Code.DOUBLE_OPT_IN: "durch Double-Opt-in in CleverReach wieder aktiviert",
    Code.PENDING_OPT_IN: "wartet in CleverReach auf das Double-Opt-in",
    Code.DUPLICATE_EMAIL: "doppelte E-Mail {email}: stattdessen wird Datensatz {winner} "
    "synchronisiert",
    Code.LICENCE_LIMIT: "Lizenzgrenze erreicht: keine neuen Empfänger über {limit} hinaus",
    Code.KEPT_BY_POLICY: "hat die Liste verlassen; bleibt in der Gruppe (Einstellung)",
    Code.DIRECTION: "nicht geschrieben: die Richtung der Kopplung ist {direction}",
    Code.GONE_ON_BOTH_SIDES: "auf beiden Seiten entfernt",
}
