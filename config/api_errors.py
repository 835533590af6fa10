"""API errors are JSON with the right status: service-level refusals become 400s, not 500s."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    from core.errors import ActionRefused

    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, ActionRefused):
        exc = exceptions.ValidationError({"detail": str(exc)})
    return drf_exception_handler(exc, context)
