"""A contact's page (identities and conversations on every channel) and merging two contacts."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inbox import selectors


@login_required
def contact_page(request, pk):
    from accounts.permissions import can_merge_contacts

    contact = selectors.contact_get_for_user(user=request.user, pk=pk)
    return render(
        request,
        "inbox/contact.html",
        {"contact": contact, "can_merge": can_merge_contacts(request.user)},
    )


@login_required
@require_POST
def contact_merge(request, pk):
    from accounts.permissions import can_merge_contacts
    from inbox.contacts import MergeRefused, merge_contacts

    source = selectors.contact_get_for_user(user=request.user, pk=pk)
    target = selectors.contact_get_for_user(user=request.user, pk=request.POST.get("into", ""))
    try:
        merge_contacts(source_id=source.pk, target_id=target.pk, actor=request.user)
    except PermissionDenied:
        return HttpResponseForbidden("Only admins and leads may merge contacts.")
    except MergeRefused as exc:
        context = {"contact": source, "can_merge": can_merge_contacts(request.user)}
        return render(request, "inbox/contact.html", {**context, "error": str(exc)}, status=400)
    return redirect("inbox:contact", pk=target.pk)
