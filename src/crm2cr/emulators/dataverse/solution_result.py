"""The result XML of an import, as `importjobs({id})/data` holds it (reference §10).

Shape of the service's import log, shortened: the solution manifest with one
`result` (success or failure with the error code and text), then one entry
per table the import touched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lxml import etree

from crm2cr.emulators.dataverse.errors import ODataError
from crm2cr.solution.schema import Solution

if TYPE_CHECKING:
    from crm2cr.emulators.dataverse.app import DataverseEmulator


def _time(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%H:%M:%S.00")


def _result(parent: etree._Element, error: ODataError | None, stamp: int) -> None:
    etree.SubElement(
        parent,
        "result",
        result="failure" if error else "success",
        errorcode=error.code if error else "0",
        errortext=error.message if error else "",
        datetime=_time(stamp),
    )


def result_xml(
    emu: DataverseEmulator,
    solution: Solution | None,
    touched: list[str],
    started: int,
    stopped: int,
    error: ODataError | None,
) -> str:
    root = etree.Element(
        "importexportxml",
        start=str(started),
        stop=str(stopped),
        progress="100",
        processed="true",
    )
    manifests = etree.SubElement(root, "solutionManifests")
    manifest = etree.SubElement(
        manifests,
        "solutionManifest",
        languagecode="1033",
        id=solution.unique_name if solution else "",
        LocalizedName=solution.display.en if solution else "",
        processed="true",
    )
    if solution is not None:
        etree.SubElement(manifest, "UniqueName").text = solution.unique_name
        etree.SubElement(manifest, "Version").text = solution.version
        etree.SubElement(manifest, "Managed").text = "1" if solution.managed else "0"
    _result(manifest, error, stopped)
    entities = etree.SubElement(root, "entities")
    for name in touched:
        entity = emu.metadata.entity(name)
        label = entity.display_name if entity else name
        item = etree.SubElement(
            entities,
            "entity",
            id=name,
            LocalizedName=label,
            OriginalName=label,
            processed="true",
        )
        _result(item, None, stopped)
    for empty in ("nodes", "settings", "dependencies", "workflows", "optionSets"):
        etree.SubElement(root, empty)
    return str(etree.tostring(root, encoding="unicode"))
