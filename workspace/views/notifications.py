"""The bell's panel: the agent's latest notifications, mark one read, mark all read. Asked by
the bell's script (HX-Request) each answers with the panel; a plain request gets a page."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from routing import notifications
from routing.models import Notification
from workspace.views.common import back


def _panel(request, status: int = 200):
    context = {
        "items": notifications.recent_for(request.user),
        "unread": notifications.unread_label(notifications.unread_count(request.user)),
    }
    if request.headers.get("HX-Request"):
        return render(request, "ui/_notifications.html", context, status=status)
    return render(request, "ui/notifications.html", context, status=status)


@login_required
@require_GET
def notification_list(request):
    return _panel(request)


@login_required
@require_POST
def notification_read(request, pk: int):
    try:
        notifications.mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404("No such notification of yours.") from None
    if request.headers.get("HX-Request"):
        return _panel(request)
    return back(request, reverse("ui:notifications"))


@login_required
@require_POST
def notification_read_all(request):
    notifications.mark_all_read(user=request.user)
    if request.headers.get("HX-Request"):
        return _panel(request)
    return back(request, reverse("ui:notifications"))
