"""Logging and error reporting as settings configure them (LOG_FORMAT, LOG_LEVEL, SENTRY_DSN)."""


def logging_config(log_format: str, level: str) -> dict:
    """Django's LOGGING: one line per record, plain or (log_format "json") one JSON object;
    every line carries the request id (core.requestid)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "core.requestid.LogFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if log_format == "json" else "plain",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }


def init_sentry(dsn: str, environment: str | None) -> None:
    """Report errors to Sentry. Nothing personal leaves by default: no user, IP, cookies,
    request bodies or local variables."""
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
    )
