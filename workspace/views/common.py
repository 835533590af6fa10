"""What every page module shares: the keyset paginator's request adapter, form errors in words,
the way back after a form, the write controls' context and the agents with their open loads."""

from django.contrib.auth import get_user_model
from django.shortcuts import redirect

from accounts.models import Team
from accounts.permissions import can_bulk, can_write
from inbox.models import AGENT_STATUSES, Event, Severity
from routing import auto_assignment
from tagging.models import Tag

User = get_user_model()
SEVERITIES = [s.label for s in Severity]
# Session keys: text POSTed without a session, kept until the agent logs in again
# ({"<conversation>:<kind>": text}); and the boxes just sent ("<conversation>:<kind>"), so the
# page tells the draft script to forget its copy.
PENDING_DRAFTS = "workspace.pending_drafts"
SENT_DRAFTS = "workspace.sent_drafts"
# The reply's files just refused ({"conversation": pk, "text": why}), shown beside the composer.
FILES_REFUSED = "workspace.files_refused"


class PageParams:
    """Adapts a Django request to what KeysetPagination reads."""

    def __init__(self, request, params):
        self._request = request
        self.query_params = params

    def build_absolute_uri(self):
        return self._request.get_full_path()


# Errors whose words stand alone: shown without the field's name in front.
STANDALONE = {"detail", "non_field_errors", "ids", "tags", "status", "severity"}


def errors_of(exc) -> list[str]:
    """An exception's problems as sentences a person reads next to the control: "Pick at least
    one conversation.", "Snoozed until: Enter a valid date and time.", never "ids: ..."."""
    detail = getattr(exc, "detail", None) or getattr(exc, "message_dict", None)
    if isinstance(detail, dict):
        out = []
        for field, problems in detail.items():
            problems = problems if isinstance(problems, list) else [problems]
            label = field.replace("_", " ").capitalize()
            out += [str(p) if field in STANDALONE else f"{label}: {p}" for p in problems]
        return out
    if isinstance(detail, list):
        return [str(p) for p in detail]
    return [str(getattr(exc, "message", None) or exc)]


def back(request, fallback: str):
    """Where to return after a form: a local `next`, else the fallback."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


def write_context(request) -> dict:
    teams = list(Team.objects.order_by("name"))
    return {
        "last_event_id": Event.objects.order_by("-pk").values_list("pk", flat=True).first(),
        "can_write": can_write(request.user),
        "can_bulk": can_bulk(request.user),
        "teams": teams,
        "tags": list(Tag.objects.order_by("name")),
        "severities": SEVERITIES,
        "statuses": AGENT_STATUSES,  # "blocked" is a contact's, never picked
    }


def agents_with_load():
    agents = list(
        User.objects.filter(is_active=True, role__in=[User.Role.AGENT, User.Role.LEAD])
        .prefetch_related("teams")
        .order_by("username")
    )
    loads = auto_assignment.open_loads([a.pk for a in agents])
    for agent in agents:
        agent.open_load = loads[agent.pk]
    return agents
