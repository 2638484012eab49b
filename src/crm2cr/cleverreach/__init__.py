"""The CleverReach REST API v3 client (issue #4): protocol only, nothing of syncing."""

from crm2cr.cleverreach.auth import (
    Bearer,
    ClientCredentials,
    OAuthTokens,
    StaticToken,
    Token,
    TokenEndpoint,
    TokenStore,
    authorize_url,
)
from crm2cr.cleverreach.batches import BatchOutcome, ItemResult
from crm2cr.cleverreach.client import RETRY_POLICY, CleverReachClient, open_client
from crm2cr.cleverreach.mailings import MailingDraft, MailingFigures
from crm2cr.cleverreach.models import (
    Account,
    Attribute,
    BlacklistEntry,
    Bounce,
    Form,
    Group,
    GroupStats,
    Mailing,
    MailingSummary,
    Receiver,
    Report,
    Webhook,
)
from crm2cr.cleverreach.payloads import Activation, ReceiverData

__all__ = [
    "RETRY_POLICY",
    "Account",
    "Activation",
    "Attribute",
    "BatchOutcome",
    "Bearer",
    "BlacklistEntry",
    "Bounce",
    "CleverReachClient",
    "ClientCredentials",
    "Form",
    "Group",
    "GroupStats",
    "ItemResult",
    "Mailing",
    "MailingDraft",
    "MailingFigures",
    "MailingSummary",
    "OAuthTokens",
    "Receiver",
    "ReceiverData",
    "Report",
    "StaticToken",
    "Token",
    "TokenEndpoint",
    "TokenStore",
    "Webhook",
    "authorize_url",
    "open_client",
]
