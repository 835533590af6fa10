"""One conversation: the page, its thread (re-fetched by the live feed), a message's sanitized HTML
for the sandboxed iframe, and attachment downloads."""

import logging

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from accounts.permissions import can_write
from inbox import attachments, drafts, reads, selectors, titles
from inbox.canned import canned_responses_for
from inbox.models import Channel, Message
from inbox.outbound import whatsapp_templates
from inbox.outbound.files import limit_for, limit_words
from inbox.outbound.replies import reply_limit
from inbox.outbound.senders import get_sender
from tagging import ugc
from workspace.views.common import FILES_REFUSED, PENDING_DRAFTS, SENT_DRAFTS
from workspace.views.inbox import list_context
from workspace.views.triage import triage_context

logger = logging.getLogger(__name__)


def _reply_refusal(conversation) -> str | None:
    """Why a reply cannot go out now (the channel sender's can_send), shown before typing. The
    service asks again when the reply is posted, so this is a courtesy, not the guard."""
    sender = get_sender(conversation.channel.kind)
    can_send = getattr(sender, "can_send", None)
    return can_send(conversation) if can_send else None


def _templates_offered(conversation, refusal: str | None):
    """Instead of a dead end: when free-form replies are refused on a WhatsApp conversation (the
    24-hour window is closed), the templates the agent may send (a Catalog), else None."""
    if not refusal or whatsapp_templates.whatsapp_refusal(conversation):
        return None
    return whatsapp_templates.catalog(conversation.channel)


def _conversation_context(request, conversation) -> dict:
    messages = list(selectors.message_list_for_conversation(conversation=conversation))
    return {
        "conversation": conversation,
        "conversation_title": titles.title_from_thread(conversation, messages),
        "is_email": conversation.channel.kind == Channel.Kind.EMAIL,
        "reply_refusal": (refusal := _reply_refusal(conversation)),
        "template_catalog": _templates_offered(conversation, refusal)
        if can_write(request.user)
        else None,
        "canned": canned_responses_for(user=request.user, conversation=conversation)
        if can_write(request.user)
        else [],
        "thread_messages": messages,
        "now": timezone.now(),
        **triage_context(request, conversation),
    }


def _composer_context(request, conversation) -> dict:
    """The reply and note boxes' drafts and limits. Text POSTed while signed out (kept in the
    session until now) becomes the agent's draft; a box just sent is flagged so the draft
    script forgets its local copy."""
    if not can_write(request.user):
        return {}
    pending = request.session.get(PENDING_DRAFTS) or {}
    for kind in drafts.KINDS:
        text = pending.pop(f"{conversation.pk}:{kind}", None)
        if text:
            drafts.save_draft(user=request.user, conversation=conversation, kind=kind, text=text)
            request.session[PENDING_DRAFTS] = pending
    sent = request.session.get(SENT_DRAFTS) or []
    just_sent = {key.split(":")[1] for key in sent if key.startswith(f"{conversation.pk}:")}
    if just_sent:
        request.session[SENT_DRAFTS] = [k for k in sent if not k.startswith(f"{conversation.pk}:")]
    refused = request.session.get(FILES_REFUSED) or {}
    if refused.get("conversation") == conversation.pk:
        del request.session[FILES_REFUSED]
    return {
        "files_refused": refused.get("text")
        if refused.get("conversation") == conversation.pk
        else "",
        **_file_limits(conversation),
        "drafts": drafts.drafts_for(user=request.user, conversation=conversation),
        "just_sent": just_sent,
        "reply_limit": reply_limit(conversation),
        "note_limit": drafts.MAX_TEXT,
    }


def _file_limits(conversation) -> dict:
    limit = limit_for(conversation)
    return {"can_attach": limit is not None, "file_limits": limit_words(limit)}


@login_required
@require_GET
def conversation_page(request, pk):
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    reads.mark_read(user=request.user, conversation_id=conversation.pk)  # clears its unread marker
    if request.htmx and request.htmx.target == "pane":
        # Opened from the list: the right pane alone (static/js/panes.js swaps it and pushes
        # the URL). A full page shows the list beside it, with the URL's list filters.
        context = {"layout": "ui/_pane.html"}
    else:
        context, _ = list_context(request)
        context["layout"] = "ui/inbox.html"
    context.update(_conversation_context(request, conversation))
    context.update(_composer_context(request, conversation))
    response = render(request, "ui/conversation.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    # Never from the back/forward cache or a stale copy: Back after sending must not offer the
    # sent text again, and the boxes always start from the saved draft.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def conversation_thread(request, pk):
    """The thread alone, re-fetched by the live feed when a message arrives: the agent sees the
    new message, so it is read."""
    conversation = selectors.conversation_get_for_agent(user=request.user, pk=pk)
    reads.mark_read(user=request.user, conversation_id=conversation.pk)
    # Only what the thread shows: not the side panel, canned responses or other conversations.
    context = {
        "conversation": conversation,
        "thread_messages": selectors.message_list_for_conversation(conversation=conversation),
        "can_write": can_write(request.user),
    }
    return render(request, "ui/_thread.html", context)


@login_required
@require_GET
@xframe_options_sameorigin
def message_body(request, pk):
    """A message's sanitized HTML for a sandboxed iframe, under its own strict policy: no script
    at all, and remote images only when the agent asked (?images=1)."""
    message = (
        Message.objects.filter(
            pk=pk, conversation__in=selectors.conversation_base_for(request.user)
        )
        .only("html")
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    images = "img-src data: https:" if request.GET.get("images") == "1" else "img-src data:"
    response = HttpResponse(
        "<!doctype html><meta charset=utf-8><base target=_blank>" + message.html,
        content_type="text/html; charset=utf-8",
    )
    response["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; {images}; sandbox allow-popups"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def attachment_download(request, pk):
    """Downloads only, never rendered inline: a hostile .html or .svg cannot run on our origin."""
    attachment = selectors.attachment_get_for_user(user=request.user, pk=pk)
    if not can_write(request.user) and ugc.withheld(attachment):
        # Read-only roles (marketing's viewers) take a customer's content from the UGC library,
        # where only what the customer agreed to share is given in full.
        raise PermissionDenied(
            _(
                "This file is in the UGC library and its customer has not granted permission: "
                "only the thumbnail is shown there until they do."
            )
        )
    return attachments.download_response(attachment)
