"""Every write the pages make: the conversation page's forms (reply, note, tags, severity,
assignment, status) and the bulk bar of the list and the lead board. Each calls the same service
as the REST API, so scope, permissions and audit are identical."""

import re

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError as ApiValidationError

from accounts.permissions import can_bulk, can_write
from core.errors import ActionRefused
from inbox import drafts, selectors
from inbox import services as inbox_services
from inbox.drafts import MAX_TEXT
from inbox.models import AGENT_STATUSES, Message, Severity, Status
from inbox.outbound import whatsapp_templates
from inbox.outbound.delivery import retry_failed
from inbox.outbound.files import FileRefused, outgoing_files
from inbox.outbound.replies import send_reply
from routing import services
from routing.api import resolve_assignment
from tagging import services as tagging_services
from workspace.views.board import remember_for_undo
from workspace.views.common import (
    FILES_REFUSED,
    PENDING_DRAFTS,
    SENT_DRAFTS,
    SEVERITIES,
    back,
    errors_of,
)
from workspace.views.drafts import login_url
from workspace.views.triage import (
    events_through,
    snooze_until,
    tag_for_name_or_slug,
    triage_response,
)


def _act(
    request,
    pk,
    action,
    *,
    refused: str = "{}",
    on_refusal=None,
    triage: bool = False,
    undo: dict | None = None,
):
    """Run one write on a visible conversation and come back to it with the outcome shown; a
    refusal (ActionRefused) is shown in the words of `refused` ("Not sent: {}" for a reply).
    A `triage` form posted by htmx gets the triage panel back in place (workspace.views.triage),
    with an Undo when the action filled `undo["status"]`; without htmx, a redirect as ever."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    url = reverse("ui:conversation", args=[conversation.pk])
    if not can_write(request.user):
        raise PermissionDenied(gettext("Your role is read-only."))
    try:
        done = action(conversation)
    except ActionRefused as exc:
        flash.error(request, refused.format(exc))
    except PermissionDenied as exc:
        flash.error(request, str(exc) or gettext("You may not do that."))
    except (ApiValidationError, DjangoValidationError, ValueError) as exc:
        for problem in errors_of(exc):
            flash.error(request, problem)
    else:
        if done:
            flash.success(request, done)
        return _back_to(request, conversation, url, triage=triage, undo=undo)
    if on_refusal:
        on_refusal(conversation)
    return _back_to(request, conversation, url, triage=triage, undo=undo)


def _back_to(request, conversation, url, *, triage: bool = False, undo: dict | None = None):
    through = events_through(conversation.pk) if triage and request.htmx else 0
    still = (
        selectors.conversation_base_for(request.user)
        .select_related("channel", "team", "assignee")
        .filter(pk=conversation.pk)
        .first()
    )
    if triage and request.htmx:
        if still is None:  # handed out of the agent's teams: back to the list, saying so
            flash.info(request, gettext("The conversation is no longer in your teams."))
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("ui:inbox")
            return response
        return triage_response(
            request, still, through=through, undo_status=(undo or {}).get("status")
        )
    if still is not None:
        return redirect(url)
    return redirect("ui:inbox")


def _compose(request, pk, kind: str, send) -> HttpResponse:
    """The reply and note forms. What was typed is never thrown away: a POST without a session
    (it expired, or the agent logged out in another tab) keeps the text in this browser's
    session and goes through the login page back to the conversation, where it becomes the
    agent's draft (the login's `next` is the conversation, never this URL, which answers a GET
    with 405); a refused send keeps it as the draft; a sent one deletes the draft."""
    page = reverse("ui:conversation", args=[pk])
    text = request.POST.get("text", "")
    if not request.user.is_authenticated:
        if text.strip() and len(text) <= MAX_TEXT:
            pending = request.session.get(PENDING_DRAFTS, {})
            pending[f"{pk}:{kind}"] = text
            request.session[PENDING_DRAFTS] = pending
        return redirect(login_url(page))

    def action(conversation):
        said = send(conversation, text)
        drafts.delete_draft(user=request.user, conversation=conversation, kind=kind)
        sent = request.session.get(SENT_DRAFTS, [])
        request.session[SENT_DRAFTS] = [*sent, f"{conversation.pk}:{kind}"][-20:]
        return said or (
            gettext("Reply queued for sending.") if kind == "message" else gettext("Note added.")
        )

    def keep(conversation):
        if text.strip() and len(text) <= MAX_TEXT and can_write(request.user):
            drafts.save_draft(user=request.user, conversation=conversation, kind=kind, text=text)

    refused = gettext("Not sent: {}") if kind == "message" else gettext("Not saved: {}")
    return _act(request, pk, action, refused=refused, on_refusal=keep)


@require_POST
def send_template(request, pk):
    """The composer's WhatsApp template form: the template chosen ("name|language") and its
    parameters (fields named "p:name|language", in the template's order)."""
    key = request.POST.get("template", "")
    name, _sep, language = key.partition("|")

    def action(conversation):
        # Read before the service's transaction: the list may come from the Graph API.
        catalog = whatsapp_templates.catalog(conversation.channel)
        template = catalog.find(name, language)
        if template is None:
            raise ActionRefused(whatsapp_templates.unknown_template(catalog, name, language))
        whatsapp_templates.send_template(
            conversation_id=conversation.pk,
            actor=request.user,
            template=template,
            parameters=request.POST.getlist(f"p:{key}"),
        )
        return gettext("Template queued for sending.")

    return _act(request, pk, action, refused=gettext("Not sent: {}"))


@require_POST
def reply(request, pk):
    def send(conversation, text):
        try:
            send_reply(
                conversation_id=conversation.pk,
                actor=request.user,
                text=text,
                cc=[a for a in re.split(r"[,;\s]+", request.POST.get("cc", "")) if a],
                subject=request.POST.get("subject", ""),
                files=outgoing_files(request.FILES.getlist("files")),
            )
        except FileRefused as exc:  # shown again beside the attach button
            request.session[FILES_REFUSED] = {"conversation": conversation.pk, "text": str(exc)}
            raise
        if request.POST.get("then") == "resolve":  # "Send and resolve"
            inbox_services.set_status(
                conversation_id=conversation.pk, status=Status.RESOLVED, actor=request.user
            )
            return gettext("Reply queued for sending, and the conversation is resolved.")
        return None

    return _compose(request, pk, "message", send)


@require_POST
def note(request, pk):
    def send(conversation, text):
        inbox_services.add_note(conversation_id=conversation.pk, actor=request.user, text=text)

    return _compose(request, pk, "note", send)


@login_required
@require_POST
def add_tags(request, pk):
    def action(conversation):
        typed = [s.strip() for s in request.POST.getlist("tags") if s.strip()]
        if not typed:
            raise ValueError(gettext("Pick a tag."))
        added = tagging_services.apply_tags(
            conversation_id=conversation.pk,
            tags=[tag_for_name_or_slug(t) for t in typed],
            actor=request.user,
        )
        if not added:
            return gettext("Already tagged.")
        return gettext("Tagged %(tags)s.") % {"tags": ", ".join(t.name for t in added)}

    return _act(request, pk, action, triage=True)


@login_required
@require_POST
def remove_tag(request, pk, slug):
    def action(conversation):
        (tag,) = tagging_services.tags_for_slugs([slug])
        tagging_services.remove_tag(conversation_id=conversation.pk, tag=tag, actor=request.user)
        return gettext("Removed %(tag)s.") % {"tag": tag.name}

    return _act(request, pk, action, triage=True)


@login_required
@require_POST
def accept_suggested_tag(request, pk, slug):
    def action(conversation):
        (tag,) = tagging_services.tags_for_slugs([slug])
        tagging_services.accept_suggested_tag(
            conversation_id=conversation.pk, tag=tag, actor=request.user
        )
        return gettext("Tagged %(tags)s.") % {"tags": tag.name}

    return _act(request, pk, action, triage=True)


@login_required
@require_POST
def dismiss_suggested_tag(request, pk, slug):
    def action(conversation):
        (tag,) = tagging_services.tags_for_slugs([slug])
        tagging_services.dismiss_suggested_tag(
            conversation_id=conversation.pk, tag=tag, actor=request.user
        )
        return gettext("Suggestion %(tag)s dismissed.") % {"tag": tag.name}

    return _act(request, pk, action, triage=True)


@login_required
@require_POST
def set_severity(request, pk):
    def action(conversation):
        name = request.POST.get("severity", "")
        if name not in SEVERITIES:
            raise ValueError(
                gettext("Severity is one of %(names)s.") % {"names": ", ".join(SEVERITIES)}
            )
        tagging_services.set_severity(
            conversation_id=conversation.pk,
            severity=Severity.from_name(name),
            actor=request.user,
            reason=request.POST.get("reason", ""),
        )
        return gettext("Severity set to %(name)s.") % {"name": name}

    return _act(request, pk, action, triage=True)


@login_required
@require_POST
def assign(request, pk):
    def action(conversation):
        data = {"team": request.POST.get("team") or None, "reason": request.POST.get("reason", "")}
        if request.POST.get("assignee"):
            data["assignee"] = request.POST["assignee"]
        team, assignee = resolve_assignment(data, conversation)
        services.assign_conversation(
            conversation_id=conversation.pk,
            team=team,
            assignee=assignee,
            actor=request.user,
            reason=data["reason"],
        )
        who = assignee.username if assignee else gettext("nobody")
        where = team.name if team else gettext("no team")
        return gettext("Assigned to %(team)s / %(who)s.") % {"team": where, "who": who}

    return _act(request, pk, action, triage=True)


@login_required
@require_POST
def set_status(request, pk):
    undo: dict = {}

    def action(conversation):
        status = request.POST.get("status", "")
        if status not in dict(AGENT_STATUSES):
            raise ValueError(gettext("Unknown status."))
        until = None
        if status == Status.SNOOZED:
            until = snooze_until(
                preset=request.POST.get("preset", ""),
                raw=request.POST.get("until", ""),
                tz=request.POST.get("tz"),
                now=timezone.now(),
            )
        before = conversation.status
        inbox_services.set_status(
            conversation_id=conversation.pk,
            status=status,
            actor=request.user,
            snoozed_until=until,
            reason=request.POST.get("reason", ""),
        )
        if status == Status.RESOLVED and before != Status.RESOLVED:
            undo["status"] = before
        if request.POST.get("reason") == "undo":
            return gettext("Undone: %(status)s again, and no survey goes out.") % {
                "status": Status(status).label.lower()
            }
        if status == Status.SPAM:
            return gettext(
                "Marked as spam: it and the contact's next messages are in the Spam view."
            )
        if before == Status.SPAM:
            return gettext("Marked not spam: back in the inbox.")
        return gettext("Marked %(status)s.") % {"status": Status(status).label.lower()}

    return _act(request, pk, action, triage=True, undo=undo)


@login_required
@require_POST
def bulk_action(request):
    """The list's bulk bar: the same rules as POST /api/v1/conversations/bulk/."""
    if not can_bulk(request.user):
        raise PermissionDenied(gettext("Bulk actions are for leads and admins."))
    data = {
        "ids": request.POST.getlist("ids"),
        "action": request.POST.get("action", ""),
        "reason": request.POST.get("reason", ""),
        "spread": request.POST.get("spread") == "on",
    }
    for key in ("team", "assignee", "status", "severity", "snoozed_until"):
        if request.POST.get(key):
            data[key] = request.POST[key]
    if request.POST.getlist("tags"):
        data["tags"] = [t for t in request.POST.getlist("tags") if t]
    from routing.api import BulkInputSerializer

    serializer = BulkInputSerializer(data=data)
    fallback = reverse("ui:inbox")
    if not serializer.is_valid():
        for problem in errors_of(ApiValidationError(serializer.errors)):
            flash.error(request, problem, extra_tags="bulk")  # shown beside the bulk bar
        return back(request, fallback)
    v = serializer.validated_data
    wanted = list(dict.fromkeys(v["ids"]))
    try:
        if v["action"] == "assign":
            team, assignee = resolve_assignment(v)
            before = list(
                selectors.conversation_base_for(request.user)
                .filter(pk__in=wanted)
                .values_list("pk", "team_id", "assignee_id")
            )
            result = services.bulk_assign(  # locks only what the user can see
                conversation_ids=wanted,
                team=team,
                assignee=assignee,
                actor=request.user,
                reason=v["reason"],
                spread=v["spread"],
            )
            changed = len(result.updated)
            moved = set(result.updated)
            remember_for_undo(request, [row for row in before if row[0] in moved], v["reason"])
            if result.queued:
                flash.warning(
                    request,
                    ngettext(
                        "%(n)d conversation stays in the team's queue: everyone online is at "
                        "capacity.",
                        "%(n)d conversations stay in the team's queue: everyone online is at "
                        "capacity.",
                        len(result.queued),
                    )
                    % {"n": len(result.queued)},
                    extra_tags="bulk",
                )
        else:
            ids = list(
                selectors.conversation_base_for(request.user)
                .filter(pk__in=wanted)
                .values_list("pk", flat=True)
            )
            result = services.bulk_change(
                conversation_ids=ids,
                action=v["action"],
                actor=request.user,
                reason=v["reason"],
                tags=v.get("tags") or (),
                status=v.get("status"),
                snoozed_until=v.get("snoozed_until"),
                severity=v.get("severity"),
            )
            changed = len(result.updated)
    except (ApiValidationError, DjangoValidationError, ActionRefused) as exc:
        for problem in errors_of(exc):
            flash.error(request, problem, extra_tags="bulk")
        return back(request, fallback)
    flash.success(
        request,
        gettext("%(changed)s of %(wanted)s conversations changed.")
        % {"changed": changed, "wanted": len(wanted)},
    )
    return back(request, fallback)


@login_required
@require_POST
def retry_message(request, pk):
    """A failed reply's Retry: queued again, back to the conversation saying so."""
    message = get_object_or_404(Message.objects.only("pk", "conversation_id"), pk=pk)

    def action(conversation):
        retry_failed(message_id=message.pk, actor=request.user)
        return gettext("Sending again.")

    return _act(request, message.conversation_id, action)
