"""Reading settings from the environment: the few parsers config/settings.py uses."""

import os


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """ "HTTP_X_FORWARDED_PROTO,https" (Django's form) or "X-Forwarded-Proto,https" (the header as
    the proxy sends it): the header that says the client spoke HTTPS, and the value that says so."""
    parts = env_list(name, "")
    if not parts:
        return None
    if len(parts) != 2:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f'{name} must be "HEADER,value", e.g. "X-Forwarded-Proto,https"')
    header, value = parts
    header = header.upper().replace("-", "_")
    return (header if header.startswith("HTTP_") else f"HTTP_{header}"), value
