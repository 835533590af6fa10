"""A rebuild writes exactly the rows the incremental refresh wrote: conversation by conversation,
and set-wise with REPORTS_SQL_REBUILD (PostgreSQL: facts by INSERT ... SELECT, business-hours
conversations through the Python path)."""

import io

import pytest
import time_machine
from django.core.management import call_command

from reports.models import ConversationFact, DailyRollup, DurationHistogram, HourlyArrivals
from routing.models import SLAMeasurement, SLAPolicy
from tests.reports.scenario import Week, at, customer_writes

pytestmark = pytest.mark.django_db


def tables() -> dict:
    """Every report row, without ids, in a stable order."""
    return {
        model.__name__: sorted(
            repr(sorted((k, v) for k, v in row.items() if k != "id"))
            for row in model.objects.values()
        )
        for model in (ConversationFact, DailyRollup, HourlyArrivals, DurationHistogram)
    }


@pytest.mark.parametrize(
    "in_sql", [False, pytest.param(True, marks=pytest.mark.postgres)], ids=["python", "sql"]
)
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_the_rebuild_writes_the_rows_of_the_incremental_refresh(settings, zone, in_sql):
    settings.REPORTS_SQL_REBUILD = in_sql  # the SQL twin, or the plain path it mirrors
    settings.REPORTS_TIME_ZONE = zone
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    week = Week().play()
    # Odd ones: a clock naming no usable policy, and a first response measured under a policy
    # the clock no longer names (the measurement's policy then decides the calendar).
    with time_machine.travel(at(20, 10), tick=False):
        odd = customer_writes(week.sales_mail, "odd1", sender="odd@example.com")
        measured = customer_writes(week.mail, "odd2", sender="m@example.com")
    odd.sla_clock = {"policy": "not-a-number"}
    odd.save(update_fields=["sla_clock"])
    measured.sla_clock = None
    measured.save(update_fields=["sla_clock"])
    SLAMeasurement.objects.create(
        conversation=measured,
        target="first_response",
        policy=SLAPolicy.objects.get(),
        started_at=at(20, 10),
        due_at=at(20, 12),
        stopped_at=at(20, 11),
        elapsed_seconds=3600,
        met=True,
        business_hours=True,
    )
    week.roll_up(at(23, 12))
    incremental = tables()
    facts = ConversationFact.objects
    assert facts.filter(business_hours=True).exists()  # through refresh_facts in the rebuild
    assert facts.filter(business_hours=False, resolved_day__isnull=False).exists()  # SQL

    with time_machine.travel(at(23, 12), tick=False):
        call_command("rebuild_report_rollups", "--no-progress", stdout=io.StringIO())
    assert tables() == incremental
