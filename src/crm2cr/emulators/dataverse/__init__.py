"""The Dataverse (Dynamics 365) Web API emulator (issue #3).

`DataverseEmulator` (app.py) is the ASGI app; `crm2cr emulate dataverse` serves it.
The organisation and tenant ids are fixed and no real organisation has them
(SPEC §6), so licences signed with the demo key are valid only here.
"""

EMULATOR_ORGANISATION_ID = "c2c2c2c2-0000-4000-8000-00000000c2c2"
EMULATOR_TENANT_ID = "c2c2c2c2-0000-4000-8000-0000000e17a1"
EMULATOR_VERSION = "9.2.25093.00168"
