"""The receiving side of webhooks (reference §11)."""

from __future__ import annotations

from crm2cr.cleverreach.webhooks import (
    calltoken_matches,
    handshake_answer,
    new_verify_token,
    parse_event,
)


def test_the_handshake_answer_is_verify_space_secret() -> None:
    """Reference §11: plain text `<verify> <secret>` (one space)."""
    assert handshake_answer("myVerifyToken123", "abc") == "myVerifyToken123 abc"
    assert 10 <= len(new_verify_token()) <= 50


def test_the_call_token_must_match_exactly() -> None:
    """Reference §11: deliveries carry `X-CR-Calltoken: <call_token>`."""
    token = "t" * 64
    assert calltoken_matches(token, token)
    assert not calltoken_matches(token[:-1] + "u", token)
    assert not calltoken_matches(None, token)
    assert not calltoken_matches("", "")


def test_a_receiver_event_names_group_and_pool_id() -> None:
    """Reference §11: `{event, condition, payload: {group_id, pool_id}}`."""
    event = parse_event(
        {
            "event": "receiver.unsubscribed",
            "condition": 1146810,
            "payload": {"group_id": "1146810", "pool_id": 3387},
        }
    )
    assert (event.event, event.condition, event.group_id, event.pool_id) == (
        "receiver.unsubscribed",
        "1146810",
        "1146810",
        "3387",
    )
