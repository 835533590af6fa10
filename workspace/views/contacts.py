"""A contact's page (identities and conversations on every channel) and merging two contacts:
this one into another, or a duplicate into this one."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inbox import selectors, titles


def _page_context(request, contact) -> dict:
    from accounts.permissions import can_block_contacts, can_merge_contacts
    from inbox.screening import blocked_messages_for

    can_merge = can_merge_contacts(request.user)
    titles.attach_titles(contact.visible_conversations)
    duplicates = []
    if can_merge and not contact.merged_into_id:
        duplicates = selectors.contact_duplicates_for(user=request.user, contact=contact)
    identities = sorted(contact.identities.all(), key=lambda i: (i.kind, i.external_id))
    return {
        "contact": contact,
        "identities": identities,
        "conversations": contact.visible_conversations,
        "open_count": sum(1 for c in contact.visible_conversations if c.status == "open"),
        "can_merge": can_merge,
        "duplicates": duplicates,
        "can_block": can_block_contacts(request.user),
        "blocked_messages": blocked_messages_for(contact),
    }


@login_required
def contact_page(request, pk):
    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    return render(request, "inbox/contact.html", _page_context(request, contact))


def _merge(request, *, source_id, target_id, page_contact, field: str):
    """One merge from the page: redirect to the contact kept, or the page again with the refusal
    in words next to the form that asked (`field`)."""
    from inbox.contacts import MergeRefused, merge_contacts

    try:
        merge_contacts(source_id=source_id, target_id=target_id, actor=request.user)
    except PermissionDenied:
        return HttpResponseForbidden(_("Only admins and leads may merge contacts."))
    except MergeRefused as exc:
        context = {**_page_context(request, page_contact), f"{field}_error": str(exc)}
        return render(request, "inbox/contact.html", context, status=400)
    return redirect("inbox:contact", pk=target_id)


@login_required
@require_POST
def contact_merge(request, pk):
    """This contact into the one given as `into` (this one stays, empty, pointing there)."""
    source = selectors.contact_get_for_user(user=request.user, pk=pk)
    target = selectors.contact_get_for_user(user=request.user, pk=request.POST.get("into", ""))
    return _merge(
        request, source_id=source.pk, target_id=target.pk, page_contact=source, field="into"
    )


@login_required
@require_POST
def contact_merge_duplicate(request, pk):
    """The contact given as `duplicate_id` (typed) or `duplicate` (picked) into this one: this
    one keeps its name, email and phone (taking only those it lacks) and gains the duplicate's
    identities and conversations."""
    from accounts.permissions import can_merge_contacts

    target = selectors.contact_get_for_user(user=request.user, pk=pk)
    if not can_merge_contacts(request.user):
        return HttpResponseForbidden(_("Only admins and leads may merge contacts."))
    typed = request.POST.get("duplicate_id", "").strip()
    raw = (typed or request.POST.get("duplicate", "")).strip().lstrip("#")
    problem = None
    source = None
    if not raw.isdigit():
        problem = "Pick the duplicate contact, or type its number (shown in its page's address)."
    else:
        try:
            source = selectors.contact_get_for_user(user=request.user, pk=raw)
        except Http404:
            problem = f"There is no contact {raw} that you may see."
    if source is None:
        context = {**_page_context(request, target), "duplicate_error": problem}
        return render(request, "inbox/contact.html", context, status=400)
    return _merge(
        request, source_id=source.pk, target_id=target.pk, page_contact=target, field="duplicate"
    )


@login_required
@require_POST
def contact_block(request, pk):
    """Block (`action=block`) or unblock (`action=unblock`) the contact: admins and leads."""
    from django.contrib import messages as flash

    from inbox.screening import block_contact, unblock_contact

    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    service = {"block": block_contact, "unblock": unblock_contact}.get(request.POST.get("action"))
    if service is None:
        context = {**_page_context(request, contact), "block_error": "Choose block or unblock."}
        return render(request, "inbox/contact.html", context, status=400)
    try:
        service(contact_id=contact.pk, actor=request.user)
    except PermissionDenied:
        return HttpResponseForbidden(_("Only admins and leads may block or unblock contacts."))
    flash.success(
        request,
        _("Blocked: their new messages are kept here and reach no inbox view.")
        if service is block_contact
        else _("Unblocked: their next message opens a conversation as usual."),
    )
    return redirect("inbox:contact", pk=contact.pk)
