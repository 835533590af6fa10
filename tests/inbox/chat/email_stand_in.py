"""Stands in for the email sender (built on another branch: inbox/senders/email.py) so the live
chat's routing decision can be tested on this side alone. Records what it was handed."""

sent: list[int] = []


def send(message) -> str:
    sent.append(message.pk)
    return f"<reply-{message.pk}@switchboard.test>"


def can_send(conversation) -> str | None:
    return None
