"""The CleverReach REST API v3 emulator (reference/cleverreach.md).

`crm2cr.emulators.cleverreach.app.CleverReachEmulator(options)` is the ASGI
app. The OAuth client id and secret below open only this emulator
(EMULATOR-ONLY credentials, published on purpose for tests and the demo).
"""

from crm2cr.emulators.cleverreach.account import (
    CUSTOMER_NUMBER,
    EMULATOR_CLIENT_ID,
    EMULATOR_CLIENT_SECRET,
)

__all__ = ["CUSTOMER_NUMBER", "EMULATOR_CLIENT_ID", "EMULATOR_CLIENT_SECRET"]
