"""Identity by link, then by address (pairing.pair_up)."""

from __future__ import annotations

from dataclasses import replace

from crm2cr.sync.pairing import pair_up
from tests.unit.sync.builders import link, member, receiver


def test_a_link_pairs_by_ids_even_when_the_addresses_differ() -> None:
    m = member(1, email="neu@firma.de")
    r = receiver(1, email="alt@firma.de")
    pairs = list(pair_up([m], [r], [link(member(1, email="alt@firma.de"), r)]))
    assert [(p.member, p.receiver) for p in pairs] == [(m, r)]


def test_a_receiver_recreated_under_a_new_id_is_found_by_the_links_address() -> None:
    m = member(1)
    old = receiver(1)
    recreated = replace(old, id="r99")
    pairs = list(pair_up([m], [recreated], [link(m, old)]))
    assert len(pairs) == 1 and pairs[0].receiver == recreated


def test_unlinked_records_pair_with_receivers_by_address_ignoring_case() -> None:
    m = member(1, email="Anna@Firma.DE")
    r = receiver(1, email="anna@firma.de")
    pairs = list(pair_up([m], [r], []))
    assert [(p.member, p.receiver, p.link) for p in pairs] == [(m, r, None)]


def test_every_record_and_receiver_appears_in_exactly_one_pair() -> None:
    members = [member(i) for i in range(10)] + [member(50, email="p3@firma.de")]
    receivers = [receiver(i) for i in range(5, 15)]
    links = [link(members[6], receivers[1])]
    pairs = list(pair_up(members, receivers, links))
    seen_members = [p.member.id for p in pairs if p.member is not None]
    seen_receivers = [p.receiver.id for p in pairs if p.receiver is not None]
    assert sorted(seen_members) == sorted(m.id for m in members)
    assert sorted(seen_receivers) == sorted(r.id for r in receivers)
    assert len([p for p in pairs if p.duplicate_of]) == 1


def test_receivers_left_over_pair_with_a_candidate_outside_the_list() -> None:
    outside = member(4, in_list=False)
    r = receiver(4)
    pairs = list(pair_up([], [r], [], [outside]))
    assert [(p.member, p.receiver) for p in pairs] == [(outside, r)]
