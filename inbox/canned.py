"""Canned responses as an agent sees them in the composer: the ones they may use, with the
placeholders filled in for the conversation at hand. Plain text substitution, no template
language: the result is untrusted text and the page escapes it like any other."""

import re

from django.db.models import Q

from inbox.models import CannedResponse

PLACEHOLDER = re.compile(r"\{\{\s*(contact\.name|agent\.name)\s*\}\}")


def canned_responses_for(*, user, conversation) -> list[dict]:
    """[{"id", "title", "text"}] visible to `user` (shared, their teams', their own), by title,
    with {{contact.name}} and {{agent.name}} replaced for `conversation`."""
    visible = Q(owner__isnull=True, team__isnull=True) | Q(owner=user)
    visible |= Q(owner__isnull=True, team__in=user.memberships.values("team_id"))
    values = {
        "contact.name": conversation.contact.name or str(conversation.contact),
        "agent.name": user.display_name,
    }
    # One pass, so a name that itself looks like a placeholder is left as it is.
    return [
        {
            "id": canned.pk,
            "title": canned.title,
            "text": PLACEHOLDER.sub(lambda m: values[m.group(1)], canned.text),
        }
        for canned in CannedResponse.objects.filter(visible).order_by("title", "pk")
    ]
