"""Reading settings from the environment: the few parsers config/settings.py uses."""

import os


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_numbers(prefix: str, **defaults: float) -> dict:
    """{NAME: number} from the environment variables PREFIX + NAME, or the defaults; each of its
    default's type."""
    return {
        name: type(default)(os.environ.get(prefix + name) or default)
        for name, default in defaults.items()
    }


# The providers' API and media hosts customers' files are downloaded from (docs/channels.md);
# subdomains included. Twilio's media redirect to its CDN or to S3.
MEDIA_HOSTS = (
    "api.twilio.com,twiliocdn.com,s3-external-1.amazonaws.com,graph.facebook.com,fbsbx.com,"
    "fbcdn.net,cdninstagram.com,api.telegram.org,ton.twitter.com,twimg.com"
)


def media_download(*, attachment_max: int) -> dict:
    """Customers' media downloads: the size cap (bytes), the timeout of one download (s), the
    retries after a failed try and the wait before the first (s; each later one waits 4x)."""
    return {
        "MAX_BYTES": int(os.environ.get("MEDIA_DOWNLOAD_MAX_BYTES", str(attachment_max))),
        "TIMEOUT": float(os.environ.get("MEDIA_DOWNLOAD_TIMEOUT", "60")),
        "RETRIES": int(os.environ.get("MEDIA_DOWNLOAD_RETRIES", "5")),
        "BACKOFF_SECONDS": float(os.environ.get("MEDIA_DOWNLOAD_BACKOFF_SECONDS", "30")),
    }


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


def storage_from_url(url: str) -> dict:
    """The default storage (attachments) from STORAGE_URL. Unset or `file://`: the MEDIA_ROOT
    folder. `s3://BUCKET[/PREFIX]?endpoint=URL&region=NAME&addressing_style=path`: an S3-compatible
    store through django-storages; its credentials come from boto3's usual sources
    (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the host's role)."""
    from urllib.parse import parse_qs, urlsplit

    from django.core.exceptions import ImproperlyConfigured

    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if parts.scheme != "s3" or not parts.netloc:
        raise ImproperlyConfigured("STORAGE_URL must be file:// or s3://BUCKET[/PREFIX]?...")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    options = {
        "bucket_name": parts.netloc,
        "location": parts.path.strip("/"),
        "endpoint_url": query.get("endpoint") or None,
        "region_name": query.get("region") or None,
        "default_acl": None,  # private objects; downloads go through the permission check
        "querystring_auth": True,
    }
    if query.get("addressing_style"):
        options["addressing_style"] = query["addressing_style"]
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
