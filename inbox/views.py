"""Attachment downloads. The agents' pages are in routing.views (they call triage services)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse

from inbox import selectors


@login_required
def attachment_download(request, pk):
    """Downloads only, never rendered inline: a hostile .html or .svg cannot run on our origin."""
    attachment = selectors.attachment_get_for_user(user=request.user, pk=pk)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name or "attachment",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
