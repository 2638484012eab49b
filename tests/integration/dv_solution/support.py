"""Helpers of the solution and security tests: request bodies and error parts."""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import quote

import httpx

from crm2cr.solution.package import build_solution_zip
from crm2cr.solution.schema import SCHEMA, Solution

ClientFactory = Callable[[str], httpx.Client]
# Characters OData URLs carry unencoded in query options.
BARE = "'(),=/:@"
JOB_ID = "5a1e0c2d-0000-4000-8000-00000000a001"


def encoded(solution: Solution = SCHEMA) -> str:
    return base64.b64encode(build_solution_zip(solution)).decode("ascii")


def import_body(file: str, job_id: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "CustomizationFile": file,
        "OverwriteUnmanagedCustomizations": True,
        "PublishWorkflows": True,
    }
    if job_id:
        body["ImportJobId"] = job_id
    return body


def import_solution(api: httpx.Client, solution: Solution = SCHEMA) -> httpx.Response:
    return api.post("ImportSolution", json=import_body(encoded(solution)))


def error_of(response: httpx.Response) -> tuple[str, str]:
    error = response.json()["error"]
    return str(error["code"]), str(error["message"])


def odata(path: str, **options: str) -> str:
    """`path?$select=...&$filter=...` with spaces as %20 (query options named without `$`)."""
    query = "&".join(f"${name}={quote(value, safe=BARE)}" for name, value in options.items())
    return f"{path}?{query}" if query else path
