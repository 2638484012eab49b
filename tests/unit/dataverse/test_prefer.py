"""Standard headers and Prefer values (reference §3)."""

from __future__ import annotations

from crm2cr.dataverse import DataverseClient
from crm2cr.dataverse import prefer as pref


def test_standard_headers_are_on_every_request() -> None:
    """Reference §3: Accept application/json, OData-MaxVersion and OData-Version 4.0."""
    dv = DataverseClient.connect("https://contoso.crm4.dynamics.com", None)
    request = dv.http.build_request("GET", "WhoAmI")
    assert request.headers["Accept"] == "application/json"
    assert request.headers["OData-MaxVersion"] == "4.0"
    assert request.headers["OData-Version"] == "4.0"
    assert str(request.url) == "https://contoso.crm4.dynamics.com/api/data/v9.2/WhoAmI"
    dv.close()


def test_prefer_values_combine_in_one_header() -> None:
    """Reference §3 Prefer: several values comma-separated in one header, each once."""
    value = pref.prefer(
        [
            pref.max_page_size(2),
            pref.include_annotations(pref.ALL_ANNOTATIONS),
            pref.max_page_size(2),
            pref.TRACK_CHANGES,
        ]
    )
    assert value == 'odata.maxpagesize=2,odata.include-annotations="*",odata.track-changes'


def test_annotation_sets_merge_and_star_covers_all() -> None:
    """Reference §3, §4.3: a list of annotation names with wildcards, or '*'."""
    assert pref.merge_annotations(pref.FETCH_PAGING, pref.LABELS) == (
        "Microsoft.Dynamics.CRM.*,OData.Community.Display.V1.FormattedValue,"
        "Microsoft.Dynamics.CRM.lookuplogicalname"
    )
    assert pref.merge_annotations(pref.FETCH_PAGING, "*") == "*"
    assert pref.merge_annotations(None, "") is None
