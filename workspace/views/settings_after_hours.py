"""The after-hours panel of a channel's settings page (admins): on or off, and the text. It
calls routing.after_hours.set_after_hours, as PUT /api/v1/channels/{id}/after-hours/ does."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inbox.models import Channel
from routing.after_hours import set_after_hours


@login_required
@require_POST
def channel_after_hours(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk)
    try:
        set_after_hours(
            actor=request.user,
            channel=channel,
            enabled=request.POST.get("enabled") == "on",
            text=request.POST.get("text", ""),
        )
    except ValidationError as exc:
        for problems in exc.message_dict.values():
            for problem in problems:
                flash.error(request, problem)
    else:
        flash.success(request, _("After-hours reply saved."))
    return redirect("ui:settings-channel", pk=channel.pk)
