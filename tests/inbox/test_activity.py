"""Audit rows written many at a time (bulk actions) are the rows record() writes one at a time,
through either path: bulk_create, or with BULK_JSON_INSERT one JSON document (PostgreSQL)."""

import datetime as dt

import pytest
import time_machine

from inbox import activity
from inbox.models import Activity
from tests.accounts.factories import AgentFactory
from tests.inbox.factories import ConversationFactory

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=dt.UTC)


def audit_rows() -> list[tuple]:
    return list(
        Activity.objects.order_by("pk").values_list(
            "conversation_id", "actor_id", "verb", "from_value", "to_value", "reason", "created_at"
        )
    )


@pytest.mark.parametrize(
    "json_insert", [False, pytest.param(True, marks=pytest.mark.postgres)], ids=["orm", "json"]
)
def test_record_many_writes_the_rows_of_record(settings, json_insert):
    settings.BULK_JSON_INSERT = json_insert
    agent = AgentFactory()
    first, second = ConversationFactory(), ConversationFactory()
    changes = [
        (first, agent, "tag", None, ["billing", "ünïcode"], "by the lead"),
        (second, None, "status", "open", {"status": "snoozed", "until": "2026-03-03T09:00:00"}, ""),
        (first, agent, "severity", "normal", "critical", 'quotes " and \\ backslashes'),
    ]
    with time_machine.travel(WHEN, tick=False):
        for conversation, actor, verb, before, after, reason in changes:
            activity.record(
                conversation=conversation,
                actor=actor,
                verb=verb,
                from_value=before,
                to_value=after,
                reason=reason,
            )
    one_at_a_time = audit_rows()
    Activity.objects.all().delete()

    activity.record_many(
        [
            {
                "conversation_id": conversation.pk,
                "actor_id": getattr(actor, "pk", None),
                "verb": verb,
                "from_value": before,
                "to_value": after,
                "reason": reason,
                "created_at": WHEN,
            }
            for conversation, actor, verb, before, after, reason in changes
        ]
    )

    assert audit_rows() == one_at_a_time
    assert len(one_at_a_time) == 3
