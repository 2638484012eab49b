"""The Dataverse (Dynamics 365) Web API client: protocol only, nothing of syncing.

from crm2cr.dataverse import BearerAuth, ClientCredentials, DataverseClient
auth = BearerAuth(ClientCredentials(org, tenant=t, client_id=c, client_secret=s))
with DataverseClient.connect(org, auth) as dv:
    for row in dv.rows("contacts", Query(select=("emailaddress1",))): ...
"""

from crm2cr.dataverse.auth import (
    AccessToken,
    BearerAuth,
    LoopbackClientCredentials,
    StaticToken,
    TokenSource,
)
from crm2cr.dataverse.batch import ChangeSet, Operation
from crm2cr.dataverse.client import API_PATH, ClientSettings, DataverseClient
from crm2cr.dataverse.models import (
    Change,
    ChangedRow,
    DeletedRow,
    MarketingList,
    MemberType,
    OperationResult,
    Outcome,
    Page,
    Record,
    WhoAmI,
)
from crm2cr.dataverse.query import Column, Expand, Filter, Query, col
from crm2cr.dataverse.signin import ClientCredentials, DeviceCode, UsernamePassword

__all__ = [
    "API_PATH",
    "AccessToken",
    "BearerAuth",
    "Change",
    "ChangeSet",
    "ChangedRow",
    "ClientCredentials",
    "ClientSettings",
    "Column",
    "DataverseClient",
    "DeletedRow",
    "DeviceCode",
    "Expand",
    "Filter",
    "LoopbackClientCredentials",
    "MarketingList",
    "MemberType",
    "Operation",
    "OperationResult",
    "Outcome",
    "Page",
    "Query",
    "Record",
    "StaticToken",
    "TokenSource",
    "UsernamePassword",
    "WhoAmI",
    "col",
]
