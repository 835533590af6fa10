"""Outbound delivery, one module per channel kind, each exposing:

    send(message: Message) -> str | None
        Deliver one outbound message (an agent's reply) to the customer on its channel and return
        the provider's id for it (stored as Message.external_id, so status callbacks find it).
        Raise TransientSendError for what may work later (network, 5xx, 429) and
        PermanentSendError for what never will (4xx, the 24-hour window closed, no address).

    can_send(conversation) -> str | None      optional
        A reason the agent cannot reply right now, shown before they type; None when they can.

Senders run in a Celery task, outside any transaction, never inside a request.
"""

from importlib import import_module
from types import ModuleType


class SendError(Exception):
    pass


class TransientSendError(SendError):
    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    pass


SENDERS: dict[str, str] = {
    "api": "inbox.outbound.senders.api",
    "email": "inbox.outbound.senders.email",
    "meta": "inbox.outbound.senders.meta",
    "telegram": "inbox.outbound.senders.telegram",
    "twilio": "inbox.outbound.senders.twilio",
    "x": "inbox.outbound.senders.x",
    "chat": "inbox.chat.sender",
}


def get_sender(kind: str) -> ModuleType | None:
    path = SENDERS.get(kind)
    return import_module(path) if path else None
