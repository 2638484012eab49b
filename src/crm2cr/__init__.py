"""crm2cr: keep Dynamics 365 (Dataverse) marketing lists and CleverReach groups in sync."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crm2cr")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = ["__version__"]
