"""Messenger and Instagram contacts' names: their webhooks carry only an id (PSID, IGSID), so after a
contact's first message a task reads the profile from the Graph API, once:

    Messenger:  GET {graph}/{version}/{PSID}?fields=name
    Instagram:  GET {graph}/{version}/{IGSID}?fields=name,username
    (https://developers.facebook.com/docs/messenger-platform/identity/user-profile,
     https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api/user-profile)

Authorization: Bearer Channel.config["access_token"] ("instagram_access_token" first for
Instagram, when set). Through the SSRF guard (core.safe_get), never during intake: the
`messages_received` hook only records a ProfileLookup row (one per contact, so never twice), and
the lookup runs after commit (a worker) or in the periodic sweep (embedded mode). A failed
lookup leaves the contact as it is (shown by its id) and is tried again with backoff; the name
is stored on the contact (Contact.name, the Instagram username in attributes) and a name an
agent or another channel gave first is never overwritten.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import safe_get
from inbox import events
from inbox.models import Contact, Message, ProfileLookup

logger = logging.getLogger(__name__)

PLATFORMS = {"messenger": "name", "instagram": "name,username"}
# Seconds before attempt 2, 3, ...: 1 min, 5 min, 30 min, 2 h, 6 h, 24 h; then it is given up.
BACKOFF = [60, 300, 1800, 7200, 21600, 86400]
# A page- or Instagram-scoped id: one URL path segment, nothing that could leave it.
SCOPED_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
# A lookup claimed by a worker that died is taken again after this long.
LEASE = timedelta(minutes=5)


def queue_profile_lookups(*, arrivals) -> None:
    """Hook on "messages_received": record a lookup for each Messenger or Instagram contact
    without a name, and have it run after commit. Costs nothing for other channels or named
    contacts (the contact stored with the message is read in memory); for an unnamed one, one
    INSERT ... ON CONFLICT DO NOTHING per batch (the row per contact is the "only once")."""
    wanted: dict[int, tuple[int, str, str]] = {}
    unknown: set[int] = set()  # contacts not in memory: their names are read in one query
    for arrival in arrivals:
        message = arrival.message
        headers = message.headers or {}
        platform, sender = headers.get("platform"), str(headers.get("from") or "")
        if not arrival.created or platform not in PLATFORMS or not sender:
            continue
        contact = _cached_contact(message)
        if contact is not None and contact.name:
            continue
        contact_id = message.sender_contact_id
        if contact_id is None:
            continue
        if contact is None:
            unknown.add(contact_id)
        wanted.setdefault(contact_id, (message.channel_id, platform, sender))
    if unknown:
        named = Contact.objects.filter(pk__in=unknown).exclude(name="").values_list("pk", flat=True)
        for contact_id in named:
            wanted.pop(contact_id, None)
    if not wanted:
        return
    ProfileLookup.objects.bulk_create(
        [
            ProfileLookup(
                contact_id=contact_id,
                channel_id=channel_id,
                platform=platform,
                external_id=sender[:255],
                next_attempt_at=timezone.now(),
            )
            for contact_id, (channel_id, platform, sender) in wanted.items()
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(schedule_lookups)


def _cached_contact(message) -> Contact | None:
    """The message's contact when intake left it on the message (no query), else None."""
    if Message.sender_contact.is_cached(message):
        return message.sender_contact
    return None


def schedule_lookups() -> None:
    """Run the due lookups on a worker soon. In embedded mode (no broker) a task would run
    right here, in the request that stored the message: the periodic sweep does it instead."""
    from core.tasks import enqueue
    from inbox.intake.tasks import lookup_contact_profiles

    enqueue(lookup_contact_profiles, countdown=1)


def run_due_lookups(*, limit: int = 50) -> int:
    """Fetch the profiles whose lookup is due (periodic, and after new contacts arrived).
    Returns how many were tried."""
    now = timezone.now()
    due = list(
        ProfileLookup.objects.filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:limit]
    )
    tried = 0
    for pk, when in due:
        # Claimed with a conditional update: two sweeps never fetch the same profile.
        if ProfileLookup.objects.filter(pk=pk, next_attempt_at=when).update(
            next_attempt_at=now + LEASE
        ):
            look_up(lookup_id=pk)
            tried += 1
    return tried


def _fetch(lookup: ProfileLookup) -> dict:
    """The profile's fields, or LookupError with the reason."""
    config = lookup.channel.config or {}
    token = (lookup.platform == "instagram" and config.get("instagram_access_token")) or config.get(
        "access_token"
    )
    if not token:
        raise LookupError("no access_token in the channel's config")
    if not SCOPED_ID.fullmatch(lookup.external_id):
        raise LookupError(f"{lookup.external_id[:40]!r} is not a valid id")
    base = settings.META_GRAPH_BASE_URL.rstrip("/")
    result = safe_get.get(
        f"{base}/{settings.META_GRAPH_API_VERSION}/{lookup.external_id}"
        f"?fields={PLATFORMS[lookup.platform]}",
        headers={"Authorization": f"Bearer {token}"},
        max_bytes=65536,
        timeout=10.0,
    )
    data = safe_get.json_of(result) if result.status_code == 200 else None
    if data is None:
        raise LookupError(safe_get.failure(result, provider="Meta"))
    return data


def look_up(*, lookup_id: int) -> ProfileLookup:
    """Fetch one contact's profile and store its name; on failure schedule the next attempt
    (or give up after the last one, keeping the reason)."""
    lookup = ProfileLookup.objects.select_related("channel").get(pk=lookup_id)
    attempt = lookup.attempts + 1
    try:
        profile = _fetch(lookup)
    except LookupError as exc:
        retry_in = BACKOFF[attempt - 1] if attempt <= len(BACKOFF) else None
        ProfileLookup.objects.filter(pk=lookup.pk).update(
            attempts=attempt,
            last_error=str(exc)[:2000],
            next_attempt_at=timezone.now() + timedelta(seconds=retry_in) if retry_in else None,
        )
        logger.info("profile lookup %s failed (attempt %s): %s", lookup.pk, attempt, exc)
        lookup.refresh_from_db()
        return lookup
    _store(lookup, profile)
    ProfileLookup.objects.filter(pk=lookup.pk).update(
        attempts=attempt, last_error="", next_attempt_at=None, fetched_at=timezone.now()
    )
    lookup.refresh_from_db()
    return lookup


@transaction.atomic
def _store(lookup: ProfileLookup, profile: dict) -> None:
    """The name on the contact, unless it got one meanwhile (an agent, another channel); the
    Instagram username in its attributes. Locks the contact row; emits contact.updated."""
    name = " ".join(str(profile.get("name") or "").split())[:255]
    username = " ".join(str(profile.get("username") or "").split())[:255]
    contact = Contact.objects.select_for_update().get(pk=lookup.contact_id)
    fields = []
    if not contact.name and (name or username):
        contact.name = name or f"@{username}"
        fields.append("name")
    if username and contact.attributes.get("instagram_username") != username:
        contact.attributes = {**contact.attributes, "instagram_username": username}
        fields.append("attributes")
    if fields:
        contact.save(update_fields=fields)
        events.publish("contact.updated", data={"contact": contact.pk, "fields": fields})
