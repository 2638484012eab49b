"""Solutions: which version is installed, import and export (reference §6, §10, §13.2).

ImportSolution answers 204 when the import is done, which may take longer
than a client waits. The import carries an ImportJobId we choose, so when the
answer does not come in time the client asks `importjobs({id})` until the job
completes instead of sending the import again.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from crm2cr.dataverse.classify import SERVICE
from crm2cr.dataverse.models import ImportJob
from crm2cr.dataverse.query import Query, col, guid, key_segment
from crm2cr.errors import ConnectionLost, NotFoundError, ProtocolError

if TYPE_CHECKING:
    from crm2cr.dataverse.client import DataverseClient

POLL_INTERVAL = 5.0


class Solutions:
    def __init__(
        self,
        client: DataverseClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.sleep = sleep
        self.clock = clock

    def installed_version(self, unique_name: str) -> str | None:
        """`a.b.c.d` of the installed solution, or None when it is not installed."""
        query = Query(select=("uniquename", "version"), filter=col("uniquename").eq(unique_name))
        for row in self.client.rows("solutions", query):
            return str(row.get("version") or "") or None
        return None

    def import_job(self, job_id: str, *, with_data: bool = False) -> ImportJob:
        select = "progress,completedon" + (",data" if with_data else "")
        data = self.client.call_function(key_segment("importjobs", job_id), {"$select": select})
        return ImportJob(
            import_job_id=guid(job_id),
            progress=float(data.get("progress") or 0.0),
            completed=bool(data.get("completedon")),
            data=data.get("data") if with_data else None,
        )

    def import_solution(
        self,
        solution_zip: bytes,
        *,
        job_id: str | None = None,
        overwrite: bool = True,
        poll_interval: float = POLL_INTERVAL,
    ) -> ImportJob:
        """Import a solution file and wait (bounded by the import timeout) until it is done."""
        job = guid(job_id or str(uuid.uuid4()))
        body: dict[str, Any] = {
            "CustomizationFile": base64.b64encode(solution_zip).decode("ascii"),
            "OverwriteUnmanagedCustomizations": overwrite,
            "PublishWorkflows": True,
            "ImportJobId": job,
        }
        deadline = self.clock() + self.client.settings.import_timeout
        try:
            self.client.call_action(
                "ImportSolution",
                body,
                idempotent=False,
                timeout=self.client.settings.import_timeout,
            )
        except ConnectionLost as lost:
            if isinstance(lost.__context__, httpx.ConnectError):
                raise  # never sent: there is no job to watch
            # Sent, but no answer in time: the import may still run; watch its job.
            return self._wait(job, deadline, poll_interval)
        finally:
            self.client.metadata.forget()
        return self.import_job(job, with_data=True)

    def _wait(self, job_id: str, deadline: float, poll_interval: float) -> ImportJob:
        while True:
            try:
                job = self.import_job(job_id, with_data=True)
            except NotFoundError:
                job = ImportJob(job_id, 0.0, completed=False)
            if job.completed:
                self.client.metadata.forget()
                return job
            if self.clock() + poll_interval > deadline:
                raise ConnectionLost(
                    SERVICE,
                    f"the solution import (job {job_id}) did not finish in time",
                    method="POST",
                    url=f"{self.client.api_url}/ImportSolution",
                )
            self.sleep(poll_interval)

    def export_solution(self, unique_name: str, *, managed: bool = False) -> bytes:
        """The solution file (zip) of an installed solution."""
        answer = self.client.call_action(
            "ExportSolution",
            {"SolutionName": unique_name, "Managed": managed},
            read_only=True,
            idempotent=True,
            timeout=self.client.settings.import_timeout,
        )
        encoded = (answer or {}).get("ExportSolutionFile")
        if not isinstance(encoded, str):
            raise ProtocolError(SERVICE, 200, "ExportSolution answered without a file")
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ProtocolError(SERVICE, 200, "ExportSolution answered with bad base64") from None
