"""The file of a reply, served to whoever holds its signed URL (inbox.outbound.files): a
provider fetching media by URL, or the API channel's integration. No session, no token: the
signature is the permission, and it expires (OUTBOUND_FILE_URL_MAX_AGE)."""

from django.http import FileResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from inbox.attachments import MissingFile, opened
from inbox.outbound.files import attachment_for_token


@require_safe
def outbound_file(request, token: str, name: str):
    attachment = attachment_for_token(token)
    if attachment is None:
        return JsonResponse(
            {"detail": _("This file link is not valid or has expired."), "code": "bad_file_link"},
            status=404,
        )
    try:
        handle = opened(attachment)
    except MissingFile:
        return JsonResponse(
            {"detail": _("The file is no longer stored."), "code": "file_missing"}, status=410
        )
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response
