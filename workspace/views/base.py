"""What base.html asks for on every page: the tag chips' stylesheet and the agent's own
availability switch."""

import re

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError

from accounts.permissions import can_write
from routing import auto_assignment
from tagging.models import Tag
from workspace.views.common import back, errors_of


@login_required
@require_POST
def set_my_availability(request):
    if not can_write(request.user):
        raise PermissionDenied(_("Availability is for the agents who take conversations."))
    try:
        auto_assignment.set_availability(
            user=request.user, availability=request.POST.get("availability")
        )
    except (ApiValidationError, DjangoValidationError) as exc:
        for problem in errors_of(exc):
            flash.error(request, problem)
    return back(request, reverse("ui:inbox"))


# --- tag colours ---------------------------------------------------------------------------------

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
CSS_SLUG = re.compile(r"[A-Za-z0-9_-]+")


def _ink_for(color: str) -> str:
    """Dark or white text, whichever reads better on the tag's colour (WCAG luminance)."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#1a202c" if luminance > 0.179 else "#ffffff"


@login_required
@require_GET
def tags_css(request):
    """Chip colours as a stylesheet (the CSP forbids inline style): `.chip.tag-<slug>` per tag.
    Only #rrggbb colours and plain slugs are written; anything else keeps the default chip."""
    rules = []
    for slug, color in Tag.objects.order_by("slug").values_list("slug", "color"):
        if not (CSS_SLUG.fullmatch(slug) and HEX_COLOR.fullmatch(color or "")):
            continue
        color = color.lower()
        rules.append(
            f".chip.tag-{slug} {{ background: {color}; border-color: {color}; "
            f"color: {_ink_for(color)}; }}"
        )
    response = HttpResponse("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")
    patch_cache_control(response, private=True, max_age=60)
    response["X-Content-Type-Options"] = "nosniff"
    return response
