"""The review page's section of the config: where `watcher web` listens and who may look."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError


class WebConfig(BaseModel):
    """`watcher web`: the review page, a process of its own beside the daemon."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        max_length=255,
        description="Address the page listens on. A loopback address (127.0.0.1, ::1, "
        "localhost) is reachable from this machine only; any other address is refused "
        "until a password is set with `watcher web passwd`.",
    )
    port: int = Field(default=8470, ge=1, le=65535, description="TCP port of the page.")
    password_file: Path = Field(
        default=Path("web-password"),
        description="Where `watcher web passwd` keeps the password's salted PBKDF2 hash "
        "(never the password) and the key that signs sessions; relative to base_dir.",
    )
    session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 30,
        description="Hours a login lasts.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        max_length=32,
        description="Addresses of reverse proxies in front of the page (e.g. 127.0.0.1 for "
        "nginx on this machine): only their X-Forwarded-For and X-Forwarded-Proto are "
        "believed, so failed logins are counted per real client and the session cookie is "
        "marked Secure behind TLS. Empty: no proxy is trusted.",
    )
    page_size: int = Field(
        default=50,
        ge=10,
        le=200,
        description="Events on one page of the timeline.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        """Each entry an IP address or network (no names: they could be made to lie)."""
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise PydanticCustomError(
                    "web_proxy",
                    "not an IP address or network: {entry!r}",
                    {"entry": entry},
                ) from None
        return [entry.strip() for entry in value]

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        """Refuse an address with a scheme, a port or spaces in it."""
        value = value.strip()
        if not value or any(c in value for c in "/ \t") or value.count(":") == 1:
            raise PydanticCustomError(
                "web_host", "not a host name or IP address (no scheme, no port: use `port`)"
            )
        return value
