"""The Dataverse contract suite: the reference's checklist, observed through our client.

One test class, written through `DataverseClient`; each test names the
section of reference/dataverse.md it pins (§18 is the checklist). It runs in
process (tests/unit/dataverse/test_contract_inprocess.py) and over real HTTP
(tests/integration/dataverse/test_contract_http.py); a subclass only says how
an emulator is reached (`open_env`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, ClassVar

import pytest

from crm2cr.dataverse import (
    ChangedRow,
    ChangeSet,
    DataverseClient,
    DeletedRow,
    MemberType,
    Operation,
    Query,
    col,
)
from crm2cr.dataverse import prefer as pref
from crm2cr.dataverse.paging import MORE_RECORDS, NEXT_LINK, PAGING_COOKIE
from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.errors import (
    AuthError,
    ChangeTokenExpired,
    ConflictError,
    NotFoundError,
    PrivilegeDenied,
    RateLimited,
    ServerError,
    ValidationError,
)
from crm2cr.http import RequestCounter, RetryPolicy
from tests.support.dataverse import DataverseEnv, SleepRecorder

EnvFactory = Callable[..., AbstractContextManager[DataverseEnv]]
ETAG = re.compile(r'^W/"(\d+)"$')


def new_id() -> str:
    return str(uuid.uuid4())


def contact(dv: DataverseClient, tag: str, **values: Any) -> str:
    """A contact of this test (lastname = tag), created by upsert under a chosen id."""
    return dv.records.upsert("contacts", new_id(), {"lastname": tag, **values})


def tagged(dv: DataverseClient, tag: str, *select: str) -> list[dict[str, Any]]:
    query = Query(select=("contactid", *select), filter=col("lastname").eq(tag))
    return list(dv.rows("contacts", query))


def fetch_contacts(tag: str, conditions: str = "", links: str = "") -> str:
    return (
        '<fetch version="1.0" mapping="logical"><entity name="contact">'
        '<attribute name="contactid"/><attribute name="address1_city"/>'
        '<order attribute="contactid"/>'
        f'<filter type="and"><condition attribute="lastname" operator="eq" value="{tag}"/>'
        f"{conditions}</filter>{links}</entity></fetch>"
    )


class DataverseContract:
    open_env: ClassVar[EnvFactory]

    @pytest.fixture
    def env(self) -> Iterator[DataverseEnv]:
        with type(self).open_env() as env:
            yield env

    @pytest.fixture
    def dv(self, env: DataverseEnv) -> DataverseClient:
        return env.client()

    @pytest.fixture
    def tag(self) -> str:
        return f"T{uuid.uuid4().hex[:10]}"

    # -- §2 sign-in ---------------------------------------------------------------------

    def test_no_token_is_refused_with_a_sign_in_challenge(self, env: DataverseEnv) -> None:
        """Reference §2.2, §18.1: 401 + WWW-Authenticate with authorization_uri and resource_id."""
        anonymous = DataverseClient.connect(env.org_url, None, transport=env.transport)
        challenge = anonymous.sign_in_challenge()
        assert challenge.tenant == env.emulator.tenant_id
        assert challenge.authorization_uri.endswith("/oauth2/authorize")
        assert challenge.resource_id.rstrip("/") == env.org_url
        with pytest.raises(AuthError) as refused:
            anonymous.who_am_i()
        assert refused.value.status == 401 and refused.value.code == "0x80044302"

    def test_strict_tokens_expire_and_are_renewed_once(self) -> None:
        """Reference §2.3, §16, §18.1: an expired token → 401 → a new token, resent once."""
        from crm2cr.dataverse import BearerAuth, LoopbackClientCredentials, StaticToken
        from crm2cr.emulators.dataverse import seed

        with type(self).open_env(EmulatorOptions(auth="strict")) as env:
            source = LoopbackClientCredentials(
                env.org_url,
                tenant=env.emulator.tenant_id,
                client_id=seed.APP_CLIENT_ID,
                client_secret=seed.APP_CLIENT_SECRET,
                http=env.http_client(),
            )
            counter = RequestCounter()
            dv = env.client(auth=BearerAuth(source), counter=counter)
            assert dv.who_am_i().user_id == seed.APP_USER_ID
            env.control("POST", "tokens/expire")
            with counter.measuring() as seen:
                assert dv.who_am_i().user_id == seed.APP_USER_ID
            assert seen.by_status[401] == 1 and seen.by_status[200] == 1
            stale = env.client(auth=BearerAuth(StaticToken("not-issued-here")))
            with pytest.raises(AuthError):
                stale.who_am_i()

    # -- §10, §18.2 functions and routing ------------------------------------------------

    def test_who_am_i_and_unknown_resources(self, env: DataverseEnv, dv: DataverseClient) -> None:
        """Reference §10, §1, §18.2: WhoAmI ids; POST WhoAmI, /Contacts and unknown sets → 404."""
        me = dv.who_am_i()
        assert me.organization_id == env.emulator.organisation_id
        assert me.user_id and me.business_unit_id
        assert re.match(r"^\d+\.\d+", dv.retrieve_version())
        with pytest.raises(NotFoundError):
            dv.send("POST", "WhoAmI", body={})
        with pytest.raises(NotFoundError):
            dv.send("GET", "Contacts")
        with pytest.raises(NotFoundError) as unknown:
            dv.send("GET", "nosuchthings")
        assert unknown.value.code == "0x8006088a"

    # -- §7 writing ----------------------------------------------------------------------

    def test_create_answers_with_the_entity_id(self, dv: DataverseClient, tag: str) -> None:
        """Reference §7.1, §18.3: 204 + OData-EntityId; return=representation → 201 + body."""
        created = dv.records.create("contacts", {"lastname": tag, "firstname": "Erika"})
        assert dv.get("contacts", created, select=("fullname",))["fullname"] == f"Erika {tag}"
        response = dv.send(
            "POST", "contacts", body={"lastname": tag}, prefer=[pref.RETURN_REPRESENTATION]
        )
        assert response.status_code == 201
        assert "OData-EntityId" not in response.headers
        assert "return=representation" in response.headers.get("Preference-Applied", "")
        body = dv.json_object(response)
        assert body["lastname"] == tag and ETAG.match(body["@odata.etag"])

    def test_unknown_properties_are_validation_errors(self, dv: DataverseClient) -> None:
        """Reference §7.1, §4.1, §18.4: unknown property on create or in $select → 400 0x0."""
        with pytest.raises(ValidationError) as on_create:
            dv.records.create("contacts", {"lastname": "x", "nosuchcolumn": 1})
        assert on_create.value.code == "0x0"
        with pytest.raises(ValidationError) as on_select:
            list(dv.rows("contacts", Query(select=("nosuchcolumn",))))
        assert on_select.value.code == "0x0"

    def test_missing_and_deleted_records_are_not_found(self, dv: DataverseClient, tag: str) -> None:
        """Reference §4.2, §7.2, §18.5: 404 0x80040217 '… With Id = … Does Not Exist'."""
        gone = contact(dv, tag)
        dv.records.delete("contacts", gone)
        for record_id in (gone, new_id()):
            with pytest.raises(NotFoundError) as missing:
                dv.get("contacts", record_id)
            assert missing.value.code == "0x80040217"
            assert f"With Id = {record_id} Does Not Exist" in missing.value.api_message
        with pytest.raises(NotFoundError):
            dv.records.delete("contacts", gone)

    def test_etags_grow_with_every_update(self, dv: DataverseClient, tag: str) -> None:
        """Reference §3, §4.2, §18.6: @odata.etag W/"n"; n grows on every update."""
        record_id = contact(dv, tag)
        first = dv.get("contacts", record_id, select=("lastname",))["@odata.etag"]
        dv.records.update("contacts", record_id, {"firstname": "A"})
        second = dv.get("contacts", record_id, select=("lastname",))["@odata.etag"]
        match_first, match_second = ETAG.match(first), ETAG.match(second)
        assert match_first and match_second
        assert int(match_second.group(1)) > int(match_first.group(1))

    def test_upsert_creates_and_conditions_hold(self, dv: DataverseClient, tag: str) -> None:
        """Reference §7.3, §18.7–8: PATCH creates; If-Match * / If-None-Match * / etags."""
        chosen = new_id()
        assert dv.records.upsert("contacts", chosen, {"lastname": tag}) == chosen
        assert dv.get("contacts", chosen, select=("lastname",))["lastname"] == tag
        missing = new_id()
        with pytest.raises(NotFoundError):
            dv.records.update("contacts", missing, {"lastname": tag})
        with pytest.raises(NotFoundError):
            dv.get("contacts", missing)
        with pytest.raises(ConflictError) as exists:
            dv.records.upsert("contacts", chosen, {"lastname": tag}, if_none_match="*")
        assert exists.value.status == 412
        etag = dv.get("contacts", chosen, select=("lastname",))["@odata.etag"]
        dv.records.update("contacts", chosen, {"firstname": "B"}, etag=etag)
        with pytest.raises(ConflictError) as stale:
            dv.records.update("contacts", chosen, {"firstname": "C"}, etag=etag)
        assert stale.value.status == 412
        assert dv.get("contacts", chosen, select=("firstname",))["firstname"] == "B"

    def test_conditional_get(self, dv: DataverseClient, tag: str) -> None:
        """Reference §4.4, §18.9: a matching If-None-Match → 304; with annotations → 200."""
        record_id = contact(dv, tag)
        etag = dv.get("contacts", record_id, select=("lastname",))["@odata.etag"]
        assert dv.get_if_changed("contacts", record_id, etag, select=("lastname",)) is None
        annotated = dv.send(
            "GET",
            f"contacts({record_id})",
            headers={"If-None-Match": etag},
            prefer=[pref.include_annotations("*")],
        )
        assert annotated.status_code == 200
        dv.records.update("contacts", record_id, {"firstname": "New"})
        changed = dv.get_if_changed("contacts", record_id, etag, select=("firstname",))
        assert changed is not None and changed["firstname"] == "New"

    # -- §4 reading ----------------------------------------------------------------------

    def test_pages_follow_next_links_without_repeats(self, dv: DataverseClient, tag: str) -> None:
        """Reference §4.4, §18.10: maxpagesize 2 over 5 rows → 2, 2, 1; nextLink on two."""
        ids = {contact(dv, tag) for _ in range(5)}
        query = Query(select=("contactid",), filter=col("lastname").eq(tag))
        pages = list(dv.pages("contacts", query, page_size=2))
        assert [len(p.rows) for p in pages] == [2, 2, 1]
        assert [p.next_link is not None for p in pages] == [True, True, False]
        assert all(p.next_link.startswith(dv.api_url) for p in pages[:2] if p.next_link)
        seen = [r["contactid"] for p in pages for r in p.rows]
        assert sorted(seen) == sorted(ids)

    def test_counts_are_capped(self, env: DataverseEnv, dv: DataverseClient) -> None:
        """Reference §4.4, §18.11: @odata.count capped at 5000 + limitexceeded; /$count text."""
        env.control("POST", "generate", {"entity": "contact", "count": 6000})
        query = Query(select=("contactid",), count=True)
        first = next(dv.pages("contacts", query, annotations="*", page_size=10))
        assert first.count == 5000 and first.count_limit_exceeded
        assert dv.count("contacts") == 5000  # /$count is capped the same way

    def test_skip_is_refused_and_top_yields_to_page_size(
        self, dv: DataverseClient, tag: str
    ) -> None:
        """Reference §4.1, §18.12: $skip → 400; $top is ignored with odata.maxpagesize."""
        for _ in range(3):
            contact(dv, tag)
        with pytest.raises(ValidationError):
            list(dv.rows("contacts", Query(extra={"$skip": "1"})))
        query = Query(select=("contactid",), filter=col("lastname").eq(tag), top=1)
        assert len(list(dv.rows("contacts", query, page_size=2))) == 3

    def test_lookups_and_annotations_only_when_asked(self, dv: DataverseClient, tag: str) -> None:
        """Reference §4.3, §18.13–14: _x_value, FormattedValue/lookuplogicalname on request."""
        account = dv.records.create("accounts", {"name": f"Firma {tag}"})
        record_id = contact(
            dv,
            tag,
            gendercode=2,
            emailaddress1=f"o'brien.{tag}@example.com",
            **{"parentcustomerid_account@odata.bind": f"/accounts({account})"},
        )
        select = ("_parentcustomerid_value", "gendercode")
        plain = dv.get("contacts", record_id, select=select)
        assert plain["_parentcustomerid_value"] == account
        assert {k for k in plain if "@" in k} == {"@odata.context", "@odata.etag"}
        rich = dv.get("contacts", record_id, select=select, annotations="*")
        key = "_parentcustomerid_value@"
        assert rich[key + "OData.Community.Display.V1.FormattedValue"] == f"Firma {tag}"
        assert rich[key + "Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
        assert rich[key + "Microsoft.Dynamics.CRM.associatednavigationproperty"]
        assert rich["gendercode@OData.Community.Display.V1.FormattedValue"] == "Female"
        found = dv.rows(
            "contacts",
            Query(
                select=("contactid",), filter=col("emailaddress1").eq(f"O'BRIEN.{tag}@EXAMPLE.COM")
            ),
        )
        assert [r["contactid"] for r in found] == [record_id]
        dv.records.update("contacts", record_id, {"parentcustomerid_account@odata.bind": None})
        cleared = dv.get("contacts", record_id, select=("_parentcustomerid_value",))
        assert cleared["_parentcustomerid_value"] is None

    # -- §5 FetchXML ----------------------------------------------------------------------

    def test_fetchxml_pages_with_cookies_and_omits_nulls(
        self, dv: DataverseClient, tag: str
    ) -> None:
        """Reference §5, §18.15: no nextLink; morerecords + cookie on non-last pages; nulls out."""
        ids = {contact(dv, tag) for _ in range(5)}
        first = dv.json_object(
            dv.send(
                "GET",
                "contacts",
                params={"fetchXml": fetch_contacts(tag).replace("<fetch ", '<fetch count="2" ')},
                prefer=[pref.include_annotations("*")],
            )
        )
        assert NEXT_LINK not in first
        assert first[MORE_RECORDS] is True and first[PAGING_COOKIE]
        rows = list(dv.fetch_rows(fetch_contacts(tag), entity_set="contacts", page_size=2))
        assert sorted(r["contactid"] for r in rows) == sorted(ids)
        assert all("address1_city" not in r for r in rows)

    def test_fetchxml_operators_and_dynamic_lists(self, dv: DataverseClient, tag: str) -> None:
        """Reference §5, §11, §18.16: like, in, null, dates, link-entity; dynamic list members."""
        berlin = contact(dv, tag, address1_city="Berlin-Mitte", gendercode=2)
        hamburg = contact(dv, tag, address1_city="Hamburg", gendercode=1)
        nowhere = contact(dv, tag)
        firm = dv.records.create("accounts", {"name": f"Firma {tag}", "industrycode": 1})
        dv.records.update(
            "contacts", hamburg, {"parentcustomerid_account@odata.bind": f"/accounts({firm})"}
        )

        def ids(conditions: str = "", links: str = "") -> set[str]:
            query = fetch_contacts(tag, conditions, links)
            return {r["contactid"] for r in dv.fetch_rows(query, entity_set="contacts")}

        assert ids('<condition attribute="address1_city" operator="like" value="%berlin%"/>') == {
            berlin
        }
        assert ids(
            '<condition attribute="gendercode" operator="in"><value>1</value></condition>'
        ) == {hamburg}
        assert ids('<condition attribute="address1_city" operator="null"/>') == {nowhere}
        assert ids('<condition attribute="address1_city" operator="not-null"/>') == {
            berlin,
            hamburg,
        }
        assert ids('<condition attribute="createdon" operator="last-x-days" value="1"/>') == {
            berlin,
            hamburg,
            nowhere,
        }
        assert ids('<condition attribute="createdon" operator="on-or-after" value="2000-01-01"/>')
        linked = (
            '<link-entity name="account" from="accountid" to="parentcustomerid" alias="a">'
            '<filter><condition attribute="industrycode" operator="eq" value="1"/></filter>'
            "</link-entity>"
        )
        assert ids(links=linked) == {hamburg}
        dynamic = dv.records.create(
            "lists",
            {
                "listname": f"Dynamisch {tag}",
                "type": True,
                "createdfromcode": 2,
                "query": fetch_contacts(
                    tag, '<condition attribute="address1_city" operator="not-null"/>'
                ),
            },
        )
        marketing_list = dv.lists.get(dynamic)
        assert marketing_list.dynamic and marketing_list.member_type is MemberType.CONTACT
        members = dv.lists.members(marketing_list, ("emailaddress1",), page_size=1)
        assert {m["contactid"] for m in members} == {berlin, hamburg}

    # -- §9 $batch --------------------------------------------------------------------------

    def test_batch_of_creates_reports_each_entity(self, dv: DataverseClient, tag: str) -> None:
        """Reference §9, §18.17: three creates → 200, each part with Location + OData-EntityId."""
        results = dv.batches.send(
            [
                Operation("POST", "contacts", {"lastname": tag, "firstname": str(i)})
                for i in range(3)
            ]
        )
        assert [r.status for r in results] == [204, 204, 204]
        assert all(r.ok and r.entity_id for r in results)
        assert all({"location", "odata-entityid"} <= set(r.headers) for r in results)
        assert {r["contactid"] for r in tagged(dv, tag)} == {r.entity_id for r in results}

    def test_change_sets_are_atomic_and_reference_earlier_parts(
        self, dv: DataverseClient, tag: str
    ) -> None:
        """Reference §9, §18.18: a failing change set leaves nothing; $1; undeclared $n → 400."""
        failed = dv.batches.send(
            [
                ChangeSet(
                    [
                        Operation("POST", "contacts", {"lastname": tag}),
                        Operation("POST", "contacts", {"lastname": tag, "nosuchcolumn": 1}),
                    ]
                )
            ]
        )
        assert [r.ok for r in failed] == [False, False]
        assert tagged(dv, tag) == []
        linked = dv.batches.send(
            [
                ChangeSet(
                    [
                        Operation("POST", "accounts", {"name": f"Firma {tag}"}),
                        Operation(
                            "POST",
                            "contacts",
                            {"lastname": tag, "parentcustomerid_account@odata.bind": "$1"},
                        ),
                    ]
                )
            ]
        )
        assert all(r.ok for r in linked)
        child = dv.get("contacts", str(linked[1].entity_id), select=("_parentcustomerid_value",))
        assert child["_parentcustomerid_value"] == linked[0].entity_id
        undeclared = dv.batches.send([ChangeSet([Operation("PATCH", "$7", {"lastname": tag})])])
        assert undeclared[0].status == 400 and isinstance(undeclared[0].error, ValidationError)

    def test_continue_on_error_runs_every_part(self, dv: DataverseClient, tag: str) -> None:
        """Reference §9, §17.4, §18.19: without it the batch stops; with it every part runs."""
        operations = [
            Operation("POST", "contacts", {"lastname": tag, "firstname": "1"}),
            Operation("POST", "contacts", {"lastname": tag, "nosuchcolumn": 1}),
            Operation("POST", "contacts", {"lastname": tag, "firstname": "3"}),
        ]
        stopped = dv.batches.send(operations, continue_on_error=False)
        assert [r.ok for r in stopped] == [True, False, False]
        assert stopped[1].status == 400 and stopped[2].status == 0
        assert len(tagged(dv, tag)) == 1
        outcome = dv.batches.run(operations, chunk_size=2)
        assert [r.ok for r in outcome.results] == [True, False, True]
        assert [r.index for r in outcome.failed] == [1]
        assert outcome.failed[0].error is not None and outcome.failed[0].error.code == "0x0"
        assert len(tagged(dv, tag)) == 3

    # -- §8 bulk ------------------------------------------------------------------------------

    def test_create_and_upsert_multiple(self, dv: DataverseClient, tag: str) -> None:
        """Reference §8, §18.20: CreateMultiple → ids in order, all-or-nothing; UpsertMultiple."""
        created = dv.bulk.create_multiple(
            "contacts", "contact", [{"lastname": tag, "firstname": f"F{i}"} for i in range(5)]
        )
        assert created.ok and len(created.results) == 5
        for i, result in enumerate(created.results):
            row = dv.get("contacts", str(result.entity_id), select=("firstname",))
            assert row["firstname"] == f"F{i}"
        bad = dv.bulk.create_multiple(
            "contacts", "contact", [{"lastname": tag}, {"lastname": tag, "nosuchcolumn": 1}]
        )
        assert not bad.succeeded and len(bad.failed) == 2
        assert len(tagged(dv, tag)) == 5
        chosen = [new_id() for _ in range(4)]
        records = [{"contactid": c, "lastname": tag, "firstname": "U"} for c in chosen]
        for _ in range(2):  # a repeat changes nothing: same ids, no twins
            upserted = dv.bulk.upsert_multiple("contacts", "contact", records, chunk_size=3)
            assert upserted.ok and [r.entity_id for r in upserted.results] == chosen
        assert len(tagged(dv, tag)) == 9

    def test_only_repeatable_writes_are_retried(self, env: DataverseEnv, tag: str) -> None:
        """Reference §16, §8: 503 → UpsertMultiple resent, CreateMultiple never (no twins)."""
        counter = RequestCounter()
        dv = env.client(counter=counter, policy=RetryPolicy(attempts=3))
        env.control("POST", "faults", {"fault_rate": 1.0, "kinds": ["503"]})
        with counter.measuring() as create:
            created = dv.bulk.create_multiple("contacts", "contact", [{"lastname": tag}])
        with counter.measuring() as upsert:
            upserted = dv.bulk.upsert_multiple(
                "contacts", "contact", [{"contactid": new_id(), "lastname": tag}]
            )
        env.control("POST", "faults", {"fault_rate": 0.0})
        assert create.requests == 1 and upsert.requests == 3
        assert isinstance(created.results[0].error, ServerError)
        assert isinstance(upserted.results[0].error, ServerError)

    def test_a_batch_of_reads_is_a_read(self, env: DataverseEnv, tag: str) -> None:
        """Reference §4.1, §9: GETs in a $batch (long URLs) change nothing and count as reads."""
        counter = RequestCounter()
        dv = env.client(counter=counter)
        record_id = contact(dv, tag)
        since = env.emulator.journal.last_seq
        with counter.measuring() as seen:
            results = dv.batches.read([f"contacts({record_id})?$select=lastname", "WhoAmI"])
        assert [r.status for r in results] == [200, 200]
        assert results[0].body["lastname"] == tag
        query = Query(
            select=("lastname",), filter=col("lastname").eq(tag) & col("firstname").eq(None)
        )
        filtered = dv.batches.send([Operation.read("contacts", query)])
        assert [row["contactid"] for row in filtered[0].body["value"]] == [record_id]
        assert seen.requests == 1 and seen.writes == 0
        assert env.emulator.journal.writes_since(since) == []

    # -- §10, §11 marketing lists -------------------------------------------------------------

    def test_add_member_list(self, dv: DataverseClient, tag: str) -> None:
        """Reference §10, §17.7, §18.21: AddMemberList adds once; dynamic or wrong type refused."""
        static = dv.lists.create_static(new_id(), f"Statisch {tag}", MemberType.CONTACT)
        member = contact(dv, tag)
        for _ in range(2):
            outcome = dv.lists.add_members(static, [member])
            assert outcome.ok and outcome.results[0].body["Id"]
        assert dv.lists.get(static).membercount == 1
        assert list(dv.lists.member_ids(static)) == [member]
        firm = dv.records.create("accounts", {"name": f"Firma {tag}"})
        wrong_type = dv.lists.add_members(static, [firm])
        assert isinstance(wrong_type.results[0].error, NotFoundError)
        dynamic = dv.records.create(
            "lists",
            {
                "listname": f"Dynamisch {tag}",
                "type": True,
                "createdfromcode": 2,
                "query": fetch_contacts(tag),
            },
        )
        refused = dv.lists.add_members(dynamic, [member])
        assert isinstance(refused.results[0].error, ValidationError)
        others = [contact(dv, tag) for _ in range(3)]
        dv.lists.add_members_at_once(static, MemberType.CONTACT, others)
        assert set(dv.lists.member_ids(static)) == {member, *others}
        assert dv.lists.get(static).membercount == 4

    def test_associate_and_disassociate_change_membership(
        self, dv: DataverseClient, tag: str
    ) -> None:
        """Reference §7.5, §11, §18.22: $ref changes membership, seen in listmembers and pages."""
        static = dv.lists.create_static(new_id(), f"Statisch {tag}", MemberType.CONTACT)
        members = [contact(dv, tag, emailaddress1=f"{i}.{tag}@example.com") for i in range(3)]
        for member in members:
            dv.records.associate("lists", static, "listcontact_association", "contacts", member)
        marketing_list = dv.lists.get(static)
        assert set(dv.lists.member_ids(static, page_size=2)) == set(members)
        rows = list(dv.lists.members(marketing_list, ("emailaddress1",), page_size=2))
        assert sorted(r["contactid"] for r in rows) == sorted(members)
        assert all(r["emailaddress1"].endswith(f"{tag}@example.com") for r in rows)
        dv.records.disassociate("lists", static, "listcontact_association", members[0])
        removed = dv.lists.remove_members(static, MemberType.CONTACT, [members[1]])
        assert removed.ok
        assert set(dv.lists.member_ids(static)) == {members[2]}

    # -- §13 metadata, solutions, privileges ----------------------------------------------------

    def test_metadata_of_standard_tables(self, dv: DataverseClient) -> None:
        """Reference §13.1, §18.25: names, columns, lookup targets, choice labels 1–9."""
        table = dv.metadata.table("contact")
        assert (table.entity_set, table.primary_id, table.primary_name) == (
            "contacts",
            "contactid",
            "fullname",
        )
        assert {"emailaddress1", "donotbulkemail"} <= {
            c.logical_name for c in dv.metadata.columns("contact")
        }
        assert {"systemuser", "team"} <= set(dv.metadata.lookup_targets("contact", "ownerid"))
        assert dv.metadata.option_labels("contact", "gendercode") == {1: "Male", 2: "Female"}
        channels = dv.metadata.option_labels("campaignactivity", "channeltypecode")
        assert set(range(1, 10)) <= set(channels) and channels[7] == "Email"
        assert dv.metadata.option_labels("contact", "donotbulkemail")[1] == "Do Not Allow"
        assert not dv.metadata.table_exists("crm2cr_cleverreachlink")
        assert "prvReadContact" in {p.name for p in dv.metadata.privileges("contact")}

    def test_solution_import_export(self, dv: DataverseClient) -> None:
        """Reference §10, §13.2, §18.23, §18.25: absent before ImportSolution, present after."""
        from crm2cr.solution.package import build_solution_zip
        from crm2cr.solution.schema import SCHEMA, SOLUTION_VERSION

        assert dv.solutions.installed_version("crm2cr") is None
        assert not dv.metadata.table_exists("crm2cr_cleverreachlink")
        job = dv.solutions.import_solution(build_solution_zip(SCHEMA))
        assert job.completed
        assert dv.solutions.installed_version("crm2cr") == SOLUTION_VERSION
        assert dv.metadata.table_exists("crm2cr_cleverreachlink")
        channels = dv.metadata.option_labels("campaignactivity", "channeltypecode")
        assert "CleverReach" in channels.values()
        exported = dv.solutions.export_solution("crm2cr")
        assert exported[:2] == b"PK"
        assert dv.solutions.import_solution(exported).completed

    def test_an_import_whose_answer_is_lost_is_watched_through_its_job(
        self, env: DataverseEnv, dv: DataverseClient
    ) -> None:
        """Reference §10 ImportSolution: the import may outlast the answer; poll importjobs."""
        from crm2cr.solution.package import build_solution_zip
        from crm2cr.solution.schema import SCHEMA, SOLUTION_VERSION

        counter = RequestCounter()
        watcher = env.client(counter=counter)
        env.control(
            "POST",
            "faults",
            {
                "fault_rate": 1.0,
                "kinds": ["drop-after"],  # the import runs, its answer is lost
                "exclude_paths": ["/api/data/v9.2/importjobs"],
            },
        )
        job_id = new_id()
        job = watcher.solutions.import_solution(build_solution_zip(SCHEMA), job_id=job_id)
        env.control("POST", "faults", {"fault_rate": 0.0})
        assert job.completed and job.import_job_id == job_id
        assert counter.snapshot().by_method["POST"] == 1  # the import is never sent twice
        assert dv.solutions.installed_version("crm2cr") == SOLUTION_VERSION

    def test_privileges_and_privilege_denied(self, env: DataverseEnv, dv: DataverseClient) -> None:
        """Reference §13.3, §18.24: RetrieveUserPrivileges names + depths; 403 names prvReadList."""
        me = dv.who_am_i()
        privileges = dv.metadata.user_privileges(me.user_id)
        assert ("prvReadContact", "Global") in {(p.name, p.depth) for p in privileges}
        assert all(p.privilege_id and p.depth for p in privileges)
        newcomer = dv.records.create(
            "systemusers",
            {"firstname": "Neu", "lastname": "Ohne Rollen", "internalemailaddress": "neu@x.de"},
        )
        assert dv.metadata.user_privileges(newcomer) == []
        powerless = env.client(token=f"user:{newcomer}")
        with pytest.raises(PrivilegeDenied) as denied:
            list(powerless.lists.all())
        assert denied.value.privilege == "prvReadList"
        assert denied.value.code == "0x80040220" and denied.value.status == 403

    # -- §12 change tracking ------------------------------------------------------------------

    def test_change_tracking(self, dv: DataverseClient, tag: str) -> None:
        """Reference §12.1, §18.26: deltaLink; changed rows then $deletedEntity; expiry typed."""
        kept, dropped = contact(dv, tag), contact(dv, tag)
        initial = dv.changes.feed("contacts", "contactid", select=("lastname",), page_size=2)
        assert {kept, dropped} <= {c.id for c in initial}
        assert initial.delta_link and initial.full
        dv.records.update("contacts", kept, {"firstname": "Changed"})
        dv.records.delete("contacts", dropped)
        delta = dv.changes.feed(
            "contacts", "contactid", select=("lastname",), delta_link=initial.delta_link
        )
        changes = list(delta)
        assert [type(c) for c in changes] == [ChangedRow, DeletedRow]
        assert [c.id for c in changes] == [kept, dropped]
        assert isinstance(changes[1], DeletedRow) and changes[1].reason == "deleted"
        assert delta.delta_link and not delta.full
        with pytest.raises(ValidationError):
            dv.send(
                "GET",
                "contacts",
                params={"$filter": "statecode eq 0"},
                prefer=[pref.TRACK_CHANGES],
            )
        expired = re.sub(r"\$deltatoken=[^&]+", "$deltatoken=1%2101%2f01%2f2000", delta.delta_link)
        with pytest.raises(ChangeTokenExpired) as too_old:
            list(dv.changes.feed("contacts", "contactid", select=(), delta_link=expired))
        assert too_old.value.code == "0x80044352"
        again = dv.changes.feed(
            "contacts", "contactid", select=(), delta_link=expired, fallback=True
        )
        assert kept in {c.id for c in again} and again.full

    # -- §15 limits, faults ----------------------------------------------------------------------

    def test_request_limit_answers_429_with_retry_after(self, env: DataverseEnv) -> None:
        """Reference §15, §18.27: over the request limit → 429, integer Retry-After, 0x80072322."""
        dv = env.client(policy=RetryPolicy(attempts=1))
        env.control("POST", "limits", {"enabled": True, "requests": 3, "window": 300})
        with pytest.raises(RateLimited) as limited:
            for _ in range(5):
                dv.who_am_i()
        assert limited.value.code == "0x80072322"
        assert limited.value.retry_after is not None
        assert limited.value.retry_after == int(limited.value.retry_after) > 0
        env.control("POST", "limits", {"requests": 6000, "concurrent": 0, "reset": True})
        with pytest.raises(RateLimited) as crowded:
            dv.who_am_i()
        assert crowded.value.code == "0x80072326"
        env.control("POST", "limits", {"concurrent": 52, "execution_ms": 0, "reset": True})
        with pytest.raises(RateLimited) as busy:
            for _ in range(3):
                dv.who_am_i()
        assert busy.value.code == "0x80072321"

    def test_retry_after_is_waited_exactly(self, env: DataverseEnv) -> None:
        """Reference §15, §16: 429 → wait Retry-After (through the injected sleep), then resend."""

        class SwitchOff(SleepRecorder):
            def __call__(self, seconds: float) -> None:
                super().__call__(seconds)
                env.control("POST", "faults", {"fault_rate": 0.0})

        sleep = SwitchOff()
        counter = RequestCounter()
        dv = env.client(sleep=sleep, counter=counter)
        env.control("POST", "faults", {"fault_rate": 1.0, "kinds": ["429"], "retry_after": 7})
        assert dv.who_am_i().organization_id == env.emulator.organisation_id
        assert sleep.waits == [7.0]
        stats = counter.snapshot()
        assert stats.retries == 1 and stats.by_status[429] == 1 and stats.waited == 7.0

    def test_paged_read_survives_faults_exactly_once(self) -> None:
        """Reference §16, §17.17: with 30 % faults every row arrives once; retries are bounded."""
        with type(self).open_env(EmulatorOptions(random_seed=20260122)) as env:
            env.control("POST", "generate", {"entity": "contact", "count": 2000})
            counter = RequestCounter()
            sleep = SleepRecorder()
            policy = RetryPolicy(attempts=10)
            dv = env.client(counter=counter, sleep=sleep, policy=policy)
            env.control(
                "POST",
                "faults",
                {"fault_rate": 0.3, "kinds": ["429", "503", "502", "drop", "drop-after"]},
            )
            ids = [
                r["contactid"]
                for r in dv.rows("contacts", Query(select=("contactid",)), page_size=100)
            ]
            stats = counter.snapshot()
        assert len(ids) == 2000 and len(set(ids)) == 2000
        pages = 20
        assert stats.retries > 0
        assert stats.requests == pages + stats.retries
        assert stats.retries <= pages * (policy.attempts - 1)
        assert len(sleep.waits) == stats.retries
