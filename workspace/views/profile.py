"""The agent's own profile: the language their pages speak and the time zone every time on
their pages is shown in. The browser
reports its zone once (static/js/times.js, `auto=1`), which never overrides a zone the agent
picked here."""

from zoneinfo import available_timezones

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.services import set_language, set_time_zone
from workspace.templatetags.ui import stamp_text


@login_required
@require_http_methods(["GET", "POST"])
def profile_page(request):
    status = 200
    error = ""
    if request.method == "POST" and "language" in request.POST:
        return _save_language(request)
    if request.method == "POST":
        auto = request.POST.get("auto") == "1"
        try:
            changed = set_time_zone(
                user=request.user,
                time_zone=request.POST.get("time_zone", ""),
                only_if_unset=auto,
            )
        except ValueError as exc:
            if auto:
                return JsonResponse({"detail": str(exc)}, status=400)
            error, status = str(exc), 400
        else:
            if auto:
                return JsonResponse({"time_zone": request.user.time_zone, "changed": changed})
            flash.success(
                request, _("Times are now shown in %(zone)s.") % {"zone": request.user.time_zone}
            )
            return redirect("ui:profile")
    context = {
        "zones": sorted(available_timezones()),
        "current": request.POST.get("time_zone") if error else request.user.time_zone,
        "error": error,
        "now_stamp": stamp_text(timezone.now()),
        "languages": settings.LANGUAGES,
    }
    return render(request, "ui/profile.html", context, status=status)


def _save_language(request):
    try:
        set_language(user=request.user, language=request.POST["language"])
    except ValueError as exc:
        flash.error(request, str(exc))
        return redirect("ui:profile")
    # The flash is read on the next page, which speaks the new language: say it in that one.
    with translation.override(request.user.language or translation.get_language()):
        flash.success(request, _("Your pages now speak this language."))
    return redirect("ui:profile")
