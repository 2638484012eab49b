"""`crm2cr connect crm|cleverreach`: sign in and save the connection."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from crm2cr.cli.options import JsonFlag
from crm2cr.cli.output import console, print_json
from crm2cr.services import accounts

app = typer.Typer(
    help="Sign in to the CRM or to CleverReach and save the connection.", no_args_is_help=True
)


@app.command("crm")
def crm(
    url: Annotated[
        str, typer.Option("--url", help="Organisation URL, e.g. https://contoso.crm4.dynamics.com.")
    ],
    client_id: Annotated[str | None, typer.Option(help="Application (client) id.")] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(help="Client secret of the application user (kept in the keyring)."),
    ] = None,
    tenant: Annotated[
        str | None,
        typer.Option(help="Tenant id or domain; found from the organisation when left out."),
    ] = None,
    device_code: Annotated[
        bool, typer.Option("--device-code", help="Sign in as a user in a browser.")
    ] = False,
    username: Annotated[
        str | None, typer.Option(help="User name (where the tenant allows password sign-in).")
    ] = None,
    password: Annotated[str | None, typer.Option(help="Password (kept in the keyring).")] = None,
    token: Annotated[str | None, typer.Option(help="A ready access token (emulators).")] = None,
    json: JsonFlag = False,
) -> None:
    """Sign in to Dynamics 365 and save the connection (URL, tenant, client id; secrets apart).

    Example: crm2cr connect crm --url https://contoso.crm4.dynamics.com
    --client-id 00000000-0000-0000-0000-000000000000 --client-secret … --tenant contoso.com
    """
    account = accounts.connect_crm(
        accounts.CrmSignIn(
            url, client_id, client_secret, tenant, device_code, username, password, token
        ),
        show=lambda message: console.print(message, highlight=False),
    )
    if json:
        print_json(asdict(account))
        return
    console.print(
        f"Connected to the CRM at [bold]{account.url}[/] "
        f"(organisation {account.organisation_id}, version {account.version})."
    )


@app.command("cleverreach")
def cleverreach(
    url: Annotated[str, typer.Option("--url", help="REST API base URL.")] = (
        accounts.CLEVERREACH_URL
    ),
    client_id: Annotated[str | None, typer.Option(help="OAuth app client id.")] = None,
    client_secret: Annotated[
        str | None, typer.Option(help="OAuth app client secret (kept in the keyring).")
    ] = None,
    token: Annotated[str | None, typer.Option(help="A ready access token.")] = None,
    json: JsonFlag = False,
) -> None:
    """Sign in to CleverReach and save the token (in the keyring, never in a plain file).

    Example: crm2cr connect cleverreach --client-id abc123 --client-secret …
    """
    account = accounts.connect_cleverreach(
        url, client_id=client_id, client_secret=client_secret, token=token
    )
    if json:
        print_json(asdict(account))
        return
    console.print(
        f"Connected to CleverReach account [bold]{account.customer_id}[/] "
        f"({account.name or account.email}) at {account.url}."
    )
