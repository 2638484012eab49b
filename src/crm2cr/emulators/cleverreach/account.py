"""The one account every seed of the emulator holds, and its OAuth app.

These credentials are EMULATOR-ONLY: they open nothing but this local
emulator and are published on purpose, so tests, benchmarks and the demo can
sign in with nothing configured. A real CleverReach account has its own.
"""

from __future__ import annotations

from typing import Any

CUSTOMER_NUMBER = "129148"
"""Kundennummer of the emulator's account, answered by /v3/debug/whoami as `id`."""

EMULATOR_CLIENT_ID = "crm2cr-emulator-app"
"""OAuth client id of the emulator's seeded REST API app (emulator-only)."""

EMULATOR_CLIENT_SECRET = "emulator-only-not-a-secret-6f1c2b"
"""OAuth client secret of the emulator's seeded REST API app (emulator-only)."""

TOKEN_SCOPE = "basic receivers forms reports mailings webhooks"


def whoami(login_domain: str) -> dict[str, Any]:
    """The account owner as /v3/debug/whoami shows it (reference §12)."""
    return {
        "id": CUSTOMER_NUMBER,
        "name": "Muster",
        "firstname": "Max",
        "company": "crm2cr Demo GmbH",
        "email": "max.muster@crm2cr-demo.example",
        "login_domain": login_domain,
        "lang": "de",
    }
