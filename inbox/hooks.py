"""A small registry through which tagging, routing and integrations react to inbox changes.

inbox never imports those apps; they register here from their AppConfig.ready(). Hooks run in
ascending `order`; those called inside a service's transaction roll back with it on failure.

Hook names in use:
- "messages_received"(arrivals): after inbound messages are stored, inside their transaction;
  each arrival (inbox.services.Received) has conversation, message and conversation_created. One
  message at a time or a drain's batch at once: a handler does its work for the batch set-wise.
- "arrivals_in_order"() -> bool: asked before a batch's messages_received; when one says True,
  the hooks run once per arrival, in order (an app whose work for one arrival must be seen by
  the next one's, as routing rules that assign).
- "conversation_opening"(conversation, message): an inbound message opens `conversation`, not
  saved yet: fields set now are inserted with it (no UPDATE of the fresh row).
- "agent_replied"(conversation, message), "tags_changed"(conversation, added, removed, run_rules),
  "conversation_changed"(conversation, changes), "conversations_changed"(conversation_ids, changes):
  inside the transaction of the change.
- "event_dispatched"(event): after commit, once per outbox event (outbound webhooks).
- "events_dispatched"(events): after commit, once per fanned-out batch, after the per-event hooks
  (work that is cheaper done for the batch at once: SLA mails).
"""

from collections import defaultdict
from collections.abc import Callable

_registry: dict[str, list[tuple[int, Callable]]] = defaultdict(list)


def register(name: str, fn: Callable, *, order: int = 100) -> None:
    if any(existing is fn for _, existing in _registry[name]):
        return
    _registry[name].append((order, fn))
    _registry[name].sort(key=lambda item: item[0])


def unregister(name: str, fn: Callable) -> None:
    _registry[name] = [
        (order, existing) for order, existing in _registry[name] if existing is not fn
    ]


def run(name: str, **kwargs) -> None:
    for _, fn in _registry[name]:
        fn(**kwargs)


def registered(name: str) -> list[Callable]:
    return [fn for _, fn in _registry[name]]
