"""Writes on contacts: merging two records of the same person."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from inbox import activity, events
from inbox.models import Channel, Contact, ContactIdentity, Conversation, Message


class MergeRefused(Exception):
    """The merge cannot be done as asked; the message says why."""


@transaction.atomic
def merge_contacts(*, source_id: int, target_id: int, actor) -> Contact:
    """Fold contact `source_id` into `target_id`: its identities, conversations and messages
    move to the target, which also takes any name, email or phone it lacks. The source stays,
    empty, with `merged_into` pointing at the target, so links to it still resolve.

    Admins and leads only (PermissionDenied otherwise). Locks both contact rows (in id order, so
    two opposite merges cannot deadlock). Refuses (MergeRefused) a contact into itself or a
    source already merged. Writes an Activity on every moved conversation; emits contact.merged.
    """
    from accounts.permissions import can_merge_contacts

    if not can_merge_contacts(actor):
        raise PermissionDenied("Only admins and leads may merge contacts.")
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(pk__in=[source_id, target_id])
        .order_by("pk")
    }
    if source_id == target_id:
        raise MergeRefused("A contact cannot be merged into itself.")
    if len(locked) != 2:
        raise Contact.DoesNotExist("No such contact.")
    source, target = locked[source_id], locked[target_id]
    if source.merged_into_id:
        raise MergeRefused(f"Contact {source.pk} was already merged into {source.merged_into_id}.")
    if target.merged_into_id:
        raise MergeRefused(
            f"Contact {target.pk} was merged into {target.merged_into_id}; merge into that one."
        )

    conversations = list(
        Conversation.objects.select_for_update().filter(contact=source).order_by("pk")
    )
    identities = list(
        ContactIdentity.objects.filter(contact=source).values_list("kind", "external_id")
    )
    ContactIdentity.objects.filter(contact=source).update(contact=target)
    Conversation.objects.filter(pk__in=[c.pk for c in conversations]).update(contact=target)
    Message.objects.filter(sender_contact=source).update(sender_contact=target)
    for conversation in conversations:
        activity.record(
            conversation=conversation,
            actor=actor,
            verb="contact_merged",
            from_value=source.pk,
            to_value=target.pk,
            reason=f"{source} merged into {target}",
        )

    filled = []
    for field in ("name", "email", "phone"):
        if getattr(source, field) and not getattr(target, field):
            setattr(target, field, getattr(source, field))
            filled.append(field)
    if source.attributes:
        target.attributes = {**source.attributes, **target.attributes}
        filled.append("attributes")
    if filled:
        target.save(update_fields=filled)
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    events.publish(
        "contact.merged",
        actor=actor,
        data={
            # `contact` and `merged_into` are the documented webhook fields (integrations/schemas.py).
            "contact": source.pk,
            "merged_into": target.pk,
            "source": source.pk,
            "target": target.pk,
            "conversations": [c.pk for c in conversations],
            "identities": [f"{kind}:{external_id}" for kind, external_id in identities],
        },
    )
    return target


def own_addresses() -> set[str]:
    return {
        canonical_address(address)
        for address in Channel.objects.filter(kind=Channel.Kind.EMAIL).values_list(
            "address", flat=True
        )
        if "@" in address
    }


def canonical_address(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"
