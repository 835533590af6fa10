"""The outbound webhook events: which outbox events become which webhook, their JSON schemas
(versioned) and examples. Served at GET /api/v1/webhook-events/.

Every body has the same envelope:

    {"type": "conversation.tagged", "id": "evt_42", "version": 1,
     "created_at": "2026-11-24T10:00:00+00:00", "data": {...}}

`data` carries ids and the fields that changed, never whole records: fetch the rest from the API.
A field added to `data` keeps the version; a field removed or changed in meaning bumps it.
"""

from inbox.models import Event

SCHEMA_VERSION = 1

_ID = {"type": "integer"}
_ID_OR_NULL = {"type": ["integer", "null"]}
_REF = {
    "type": "object",
    "properties": {"team": {"type": ["string", "null"]}, "assignee": {"type": ["string", "null"]}},
}
_CHANGE = {"type": "array", "minItems": 2, "maxItems": 2, "description": "[before, after]"}
_SLA = {
    "conversation": _ID,
    "target": {"type": "string", "enum": ["first_response", "next_response", "resolution"]},
    "due_at": {"type": "string", "format": "date-time"},
}

# type: (description, data properties, required, example data)
EVENTS: dict[str, tuple[str, dict, list[str], dict]] = {
    "conversation.created": (
        "A new conversation was opened by an inbound message.",
        {"conversation": _ID, "channel": {"type": "string"}, "contact": _ID, "team": _ID_OR_NULL},
        ["conversation"],
        {"conversation": 12, "channel": "support-email", "contact": 7, "team": 1},
    ),
    "conversation.updated": (
        "Status or severity changed; `changes` maps each field to [before, after].",
        {
            "conversation": _ID,
            "changes": {
                "type": "object",
                "properties": {"status": _CHANGE, "severity": _CHANGE},
                "additionalProperties": _CHANGE,
            },
        },
        ["conversation", "changes"],
        {"conversation": 12, "changes": {"status": ["open", "resolved"]}},
    ),
    "conversation.tagged": (
        "Tags were added.",
        {"conversation": _ID, "tags": {"type": "array", "items": {"type": "string"}}},
        ["conversation", "tags"],
        {"conversation": 12, "tags": ["billing"]},
    ),
    "conversation.untagged": (
        "A tag was removed.",
        {"conversation": _ID, "tag": {"type": "string"}},
        ["conversation", "tag"],
        {"conversation": 12, "tag": "billing"},
    ),
    "conversation.assigned": (
        "The team or assignee changed.",
        {"conversation": _ID, "before": _REF, "after": _REF, "reason": {"type": "string"}},
        ["conversation", "after"],
        {
            "conversation": 12,
            "before": {"team": "support", "assignee": None},
            "after": {"team": "support", "assignee": "alice"},
            "reason": "",
        },
    ),
    "message.created": (
        "A message (inbound or outbound) or an internal note was added.",
        {
            "conversation": _ID,
            "message": _ID,
            "direction": {"type": "string", "enum": ["in", "out"]},
            "kind": {"type": "string", "enum": ["message", "note"]},
        },
        ["conversation", "message", "direction"],
        {"conversation": 12, "message": 301, "direction": "in", "kind": "message"},
    ),
    "contact.created": (
        "A new contact was created.",
        {"contact": _ID},
        ["contact"],
        {"contact": 7},
    ),
    "contact.merged": (
        "A contact was merged into another.",
        {"contact": _ID, "merged_into": _ID},
        ["contact", "merged_into"],
        {"contact": 7, "merged_into": 3},
    ),
    "sla.warning": (
        "An SLA target is close to its due time.",
        _SLA,
        ["conversation", "target"],
        {"conversation": 12, "target": "first_response", "due_at": "2026-11-24T11:00:00+00:00"},
    ),
    "sla.breached": (
        "An SLA target passed its due time.",
        _SLA,
        ["conversation", "target"],
        {"conversation": 12, "target": "first_response", "due_at": "2026-11-24T11:00:00+00:00"},
    ),
    "alert.spike": (
        "Conversations about a watched tag or word arrived much faster than usual for that hour "
        "of the week (an incident spike). Sent once per spike; `conversations` is a sample, "
        "newest first; GET /api/v1/alerts/ lists the alerts.",
        {
            "alert": _ID,
            "kind": {"type": "string", "enum": ["tag", "word"]},
            "watch": {"type": "string"},
            "count": {"type": "integer"},
            "baseline": {"type": "number"},
            "threshold": {"type": "number"},
            "window_minutes": {"type": "integer"},
            "opened_at": {"type": "string", "format": "date-time"},
            "conversations": {"type": "array", "items": _ID},
        },
        ["alert", "kind", "watch", "count", "baseline", "window_minutes", "conversations"],
        {
            "alert": 3,
            "kind": "tag",
            "watch": "incident",
            "count": 14,
            "baseline": 1.0,
            "threshold": 5.0,
            "window_minutes": 60,
            "opened_at": "2026-11-24T10:00:00+00:00",
            "conversations": [58, 57, 55],
        },
    ),
}

EVENT_TYPES = list(EVENTS)


def webhook_type(event: Event) -> str | None:
    """The webhook type an outbox event is delivered as; None for events not delivered."""
    return event.type if event.type in EVENTS else None


def envelope(*, type: str, id: str, created_at: str, data: dict) -> dict:
    return {
        "type": type,
        "id": id,
        "version": SCHEMA_VERSION,
        "created_at": created_at,
        "data": data,
    }


def body_for(event: Event) -> dict:
    """The JSON body for one outbox event: the envelope around ids and changed fields."""
    data = dict(event.payload)
    if event.conversation_id is not None:
        data["conversation"] = event.conversation_id
    return envelope(
        type=event.type, id=f"evt_{event.pk}", created_at=event.created_at.isoformat(), data=data
    )


def json_schema(type: str) -> dict:
    description, properties, required, _ = EVENTS[type]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": type,
        "description": description,
        "type": "object",
        "required": ["type", "id", "version", "created_at", "data"],
        "properties": {
            "type": {"const": type},
            "id": {"type": "string"},
            "version": {"const": SCHEMA_VERSION},
            "created_at": {"type": "string", "format": "date-time"},
            "data": {"type": "object", "required": required, "properties": properties},
        },
    }


def example(type: str) -> dict:
    return envelope(
        type=type, id="evt_42", created_at="2026-11-24T10:00:00+00:00", data=EVENTS[type][3]
    )


def catalogue() -> list[dict]:
    return [
        {
            "type": type,
            "version": SCHEMA_VERSION,
            "description": EVENTS[type][0],
            "schema": json_schema(type),
            "example": example(type),
        }
        for type in EVENTS
    ]
