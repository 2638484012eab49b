"""The crm2cr solution as data: publisher, tables, columns, keys, relationships (SPEC §2).

Everything the solution adds to a CRM is declared here once; `package.py`
turns it into a solution file, the emulator's import reads that file back into
these same classes, and the client checks an organisation against them.

A later release adds to the schema with `Solution.upgraded(...)` and a higher
version: an import of the new file adds the new tables and columns and keeps
every row, as Dataverse does for an unmanaged upgrade.
"""

from __future__ import annotations

from crm2cr.solution.model import (
    LANG_DE,
    LANG_EN,
    MEMO_MAX_LENGTH,
    AlternateKey,
    CascadeDelete,
    Column,
    ColumnType,
    Label,
    Option,
    Ownership,
    Publisher,
    Relationship,
    RequiredLevel,
    Solution,
    Table,
    TableExtension,
    parse_version,
)

__all__ = [
    "LANG_DE",
    "LANG_EN",
    "MEMO_MAX_LENGTH",
    "OPTION_VALUE_PREFIX",
    "PREFIX",
    "SCHEMA",
    "SOLUTION_NAME",
    "SOLUTION_VERSION",
    "AlternateKey",
    "CascadeDelete",
    "Column",
    "ColumnType",
    "Label",
    "Option",
    "Ownership",
    "Publisher",
    "Relationship",
    "RequiredLevel",
    "Solution",
    "Table",
    "TableExtension",
    "parse_version",
]

SOLUTION_VERSION = "1.0.0.0"
SOLUTION_NAME = "crm2cr"
PREFIX = "crm2cr"
# Dataverse accepts 10000-99999; new option values start at prefix * 10000.
OPTION_VALUE_PREFIX = 64021


def _options(*labels: tuple[str, str]) -> tuple[Option, ...]:
    first = OPTION_VALUE_PREFIX * 10_000
    return tuple(Option(first + i, Label(en, de)) for i, (en, de) in enumerate(labels))


# Member-type codes of marketing lists (list.createdfromcode), reused so a
# link's regarding type reads the same as its list's member type.
REGARDING_TYPES = (
    Option(1, Label("Account", "Firma")),
    Option(2, Label("Contact", "Kontakt")),
    Option(4, Label("Lead", "Lead")),
)
REGARDING_TABLES = ("contact", "account", "lead")

LINK_STATUS = _options(
    ("active", "aktiv"),
    ("inactive", "inaktiv"),
    ("unsubscribed", "abgemeldet"),
    ("bounced", "unzustellbar"),
    ("blacklisted", "gesperrt"),
)
UNSUBSCRIBE_REASON = _options(
    ("unsubscribed", "abgemeldet"),
    ("bounced", "unzustellbar"),
    ("blacklisted", "gesperrt"),
    ("crm opt-out", "Abmeldung im CRM"),
    ("double opt-in re-activation", "Reaktivierung per Double-Opt-in"),
)
UNSUBSCRIBE_SOURCE = _options(
    ("cleverreach", "CleverReach"),
    ("crm", "CRM"),
    ("webhook", "Webhook"),
    ("audit", "Prüfung"),
)
CLEVERREACH_CHANNEL = Option(OPTION_VALUE_PREFIX * 10_000, Label("CleverReach"))


def _string(
    schema: str,
    en: str,
    de: str,
    length: int,
    *,
    required: RequiredLevel = "none",
    description: str = "",
) -> Column:
    return Column(
        schema,
        Label(en, de),
        "string",
        max_length=length,
        required=required,
        description=description,
    )


def _regarding_lookups() -> tuple[Column, ...]:
    return (
        Column("crm2cr_ContactId", Label("Contact", "Kontakt"), "lookup", targets=("contact",)),
        Column("crm2cr_AccountId", Label("Account", "Firma"), "lookup", targets=("account",)),
        Column("crm2cr_LeadId", Label("Lead", "Lead"), "lookup", targets=("lead",)),
        Column(
            "crm2cr_RegardingType",
            Label("Regarding type", "Bezugstyp"),
            "picklist",
            options=REGARDING_TYPES,
        ),
    )


LINK_TABLE = Table(
    "crm2cr_CleverReachLink",
    Label("CleverReach Link", "CleverReach Link"),
    Label("CleverReach Links", "CleverReach Links"),
    _string("crm2cr_Name", "Name", "Name", 200, required="required"),
    (
        *_regarding_lookups(),
        Column(
            "crm2cr_ListId", Label("Marketing list", "Marketingliste"), "lookup", targets=("list",)
        ),
        _string("crm2cr_GroupId", "CleverReach group", "CleverReach-Gruppe", 20),
        _string("crm2cr_ReceiverId", "CleverReach ID", "CleverReach ID", 20),
        _string("crm2cr_Email", "E-mail", "E-Mail", 320),
        Column("crm2cr_Status", Label("Status", "Status"), "picklist", options=LINK_STATUS),
        _string("crm2cr_BaseHash", "Sync base hash", "Sync-Basis (Hash)", 64),
        Column(
            "crm2cr_CrStamp", Label("CleverReach change stamp", "CleverReach-Änderung"), "bigint"
        ),
        Column("crm2cr_CrmModifiedOn", Label("CRM modified on", "Im CRM geändert am"), "datetime"),
        Column("crm2cr_LastSynced", Label("Last synced", "Zuletzt synchronisiert"), "datetime"),
        _string(
            "crm2cr_PairKey",
            "Pair key",
            "Paarschlüssel",
            100,
            required="required",
            description="CRM record id and CleverReach group id: one link per pair.",
        ),
    ),
    (AlternateKey("crm2cr_PairKey_Key", Label("Pair key", "Paarschlüssel"), ("crm2cr_pairkey",)),),
    description="One row per CRM record and CleverReach group it is synced with.",
)

UNSUBSCRIBE_TABLE = Table(
    "crm2cr_CleverReachUnsubscribe",
    Label("CleverReach Unsubscribe", "CleverReach Abmeldung"),
    Label("CleverReach Unsubscribes", "CleverReach Abmeldungen"),
    _string("crm2cr_Name", "Name", "Name", 200, required="required"),
    (
        _string("crm2cr_Email", "E-mail", "E-Mail", 320),
        _string("crm2cr_ReceiverId", "CleverReach ID", "CleverReach ID", 20),
        _string("crm2cr_GroupId", "CleverReach group", "CleverReach-Gruppe", 20),
        *_regarding_lookups(),
        Column("crm2cr_Reason", Label("Reason", "Grund"), "picklist", options=UNSUBSCRIBE_REASON),
        Column("crm2cr_Source", Label("Source", "Quelle"), "picklist", options=UNSUBSCRIBE_SOURCE),
        Column("crm2cr_EventDate", Label("Event date", "Datum"), "datetime"),
        _string(
            "crm2cr_EventKey",
            "Event key",
            "Ereignisschlüssel",
            200,
            required="required",
            description="Identifies the event: one row per unsubscribe event.",
        ),
    ),
    (
        AlternateKey(
            "crm2cr_EventKey_Key", Label("Event key", "Ereignisschlüssel"), ("crm2cr_eventkey",)
        ),
    ),
    description="The audit trail of consent: unsubscribes, bounces, blacklist entries, opt-outs.",
)

CONFIGURATION_TABLE = Table(
    "crm2cr_Configuration",
    Label("crm2cr Configuration", "crm2cr Konfiguration"),
    Label("crm2cr Configurations", "crm2cr Konfigurationen"),
    _string("crm2cr_Name", "Name", "Name", 200, required="required"),
    (
        _string("crm2cr_Kind", "Kind", "Art", 100),
        Column(
            "crm2cr_Document",
            Label("Document", "Dokument"),
            "memo",
            max_length=MEMO_MAX_LENGTH,
            description="The JSON document.",
        ),
        Column("crm2cr_Version", Label("Document version", "Dokumentversion"), "integer"),
    ),
    (AlternateKey("crm2cr_Name_Key", Label("Name", "Name"), ("crm2cr_name",)),),
    description="Named JSON documents: data mapping, couplings, settings.",
)

CAMPAIGN_ACTIVITY_EXTENSION = TableExtension(
    "campaignactivity",
    "CampaignActivity",
    (
        _string("crm2cr_MailingId", "CleverReach mailing id", "CleverReach-Mailing-ID", 50),
        _string("crm2cr_MailingName", "CleverReach mailing name", "CleverReach-Mailingname", 200),
        _string("crm2cr_MailingState", "CleverReach mailing state", "CleverReach-Status", 50),
        Column("crm2cr_Sent", Label("Sent", "Versendet"), "integer"),
        Column("crm2cr_Opens", Label("Opens", "Öffnungen"), "integer"),
        Column("crm2cr_Clicks", Label("Clicks", "Klicks"), "integer"),
        Column("crm2cr_Bounces", Label("Bounces", "Unzustellbar"), "integer"),
        Column("crm2cr_Unsubscribes", Label("Unsubscribes", "Abmeldungen"), "integer"),
        Column(
            "crm2cr_FiguresUpdated", Label("Figures updated", "Kennzahlen aktualisiert"), "datetime"
        ),
    ),
    (("channeltypecode", CLEVERREACH_CHANNEL),),
)


def _relationships() -> tuple[Relationship, ...]:
    result = []
    owners: tuple[tuple[Table, CascadeDelete], ...] = (
        (LINK_TABLE, "Cascade"),
        (UNSUBSCRIBE_TABLE, "RemoveLink"),
    )
    for table, cascade in owners:
        # Links are sync state and go with their record; unsubscribe rows are
        # the consent audit trail and outlive it.
        for target in REGARDING_TABLES:
            result.append(
                Relationship(
                    f"crm2cr_{target}_{table.logical_name}_{target}id",
                    target,
                    table.logical_name,
                    f"crm2cr_{target}id",
                    cascade,
                )
            )
    result.append(
        Relationship(
            "crm2cr_list_crm2cr_cleverreachlink_listid",
            "list",
            LINK_TABLE.logical_name,
            "crm2cr_listid",
            "Cascade",
        )
    )
    return tuple(result)


PUBLISHER = Publisher(PREFIX, Label("crm2cr"), PREFIX, OPTION_VALUE_PREFIX)

SCHEMA = Solution(
    SOLUTION_NAME,
    Label("crm2cr (CleverReach synchronisation)", "crm2cr (CleverReach-Synchronisation)"),
    SOLUTION_VERSION,
    PUBLISHER,
    (LINK_TABLE, UNSUBSCRIBE_TABLE, CONFIGURATION_TABLE),
    (CAMPAIGN_ACTIVITY_EXTENSION,),
    _relationships(),
    description="Tables and columns crm2cr keeps its shared sync state in.",
)
