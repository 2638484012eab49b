"""The emulator's own settings (reference §13): start values from options, changed at run time.

`EmulatorOptions.extra` may set any of them by name at start (strings, e.g.
`{"sticky": "strict", "webhook_retry_delays": "0.01,0.01"}`);
`POST /_emulator/settings` changes them while the emulator runs.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from crm2cr.emulators.common.options import EmulatorOptions
from crm2cr.errors import ConfigError

Sticky = Literal["faithful", "strict"]
DEFAULT_RANDOM_SEED = 4711


@dataclass(frozen=True)
class Settings:
    sticky: Sticky = "faithful"  # strict: `deactivated: 0` and activate never re-activate
    rate_limit: float = 20.0  # requests per second and token; 0 switches the limit off
    rate_burst: int = 40
    send_duration: int = 60  # emulator seconds a mailing stays `running`
    token_lifetime: int = 2_592_000  # access tokens, seconds (30 days)
    refresh_lifetime: int = 2_592_000  # refresh tokens, seconds (30 days)
    batch_limit: int = 1000
    attribute_limit: int = 40
    pagesize_max: int = 5000
    webhook_timeout: float = 5.0
    webhook_retry_delays: tuple[float, ...] = (1.0, 5.0)  # 3 attempts: two pauses
    webhook_queue: int = 100_000  # deliveries waiting per registration before new ones drop
    handshake_timeout: float = 5.0
    bounce_rate: float = 0.02
    open_rate: float = 0.40
    click_rate: float = 0.10
    unsubscribe_rate: float = 0.005
    random_seed: int = DEFAULT_RANDOM_SEED
    scopes: str = ""  # granted scopes, space-separated; "" = all granted, none enforced

    def validated(self) -> Settings:
        if self.sticky not in ("faithful", "strict"):
            raise ValueError("sticky must be 'faithful' or 'strict'")
        if self.rate_limit < 0 or self.rate_burst < 1:
            raise ValueError("rate_limit must be >= 0 and rate_burst >= 1")
        for name in ("send_duration", "token_lifetime", "refresh_lifetime"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.batch_limit < 1 or self.attribute_limit < 0 or self.pagesize_max < 1:
            raise ValueError("batch_limit and pagesize_max must be >= 1")
        if self.webhook_timeout <= 0 or self.handshake_timeout <= 0 or self.webhook_queue < 1:
            raise ValueError("webhook timeouts and queue size must be positive")
        if any(d < 0 for d in self.webhook_retry_delays):
            raise ValueError("webhook_retry_delays must not be negative")
        rates = (self.bounce_rate, self.open_rate, self.click_rate, self.unsubscribe_rate)
        if any(not 0.0 <= r <= 1.0 for r in rates) or self.click_rate > self.open_rate:
            raise ValueError("report rates must be between 0 and 1, clicks <= opens")
        return self

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["webhook_retry_delays"] = list(self.webhook_retry_delays)
        return data


def _convert(name: str, value: Any) -> Any:
    """One setting from JSON or from an options string, as its field's type."""
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if name == "webhook_retry_delays":
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, list | tuple):
            raise ValueError("webhook_retry_delays must be a list of seconds")
        return tuple(float(p) for p in parts if str(p).strip() != "")
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"{name} must be an integer")
        return int(value)
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a number")
        return float(value)
    return str(value)


def changed(current: Settings, changes: dict[str, Any]) -> Settings:
    """`current` with `changes` applied; ValueError names the first bad one."""
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(unknown)}")
    try:
        converted = {name: _convert(name, value) for name, value in changes.items()}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad setting value: {exc}") from exc
    return replace(current, **converted).validated()


def from_options(options: EmulatorOptions) -> Settings:
    base = Settings(rate_limit=Settings.rate_limit if options.limits else 0.0)
    if options.random_seed is not None:
        base = replace(base, random_seed=options.random_seed)
    try:
        result = changed(base, dict(options.extra))
    except ValueError as exc:
        raise ConfigError(
            f"CleverReach emulator: {exc}",
            hint="See the settings table in reference/cleverreach.md §13.",
        ) from exc
    if not options.limits:
        result = replace(result, rate_limit=0.0)
    return result


class SettingsHolder:
    """The settings in force; replaced as a whole so readers never see half a change."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._settings = settings

    @property
    def current(self) -> Settings:
        with self._lock:
            return self._settings

    def update(self, changes: dict[str, Any]) -> Settings:
        with self._lock:
            self._settings = changed(self._settings, changes)
            return self._settings
