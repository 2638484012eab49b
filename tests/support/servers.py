"""Real HTTP: an ASGI app under uvicorn on 127.0.0.1 with an ephemeral port."""

from crm2cr.emulators.common.runner import serve

__all__ = ["serve"]
