"""This process's copies of the routing reference rows read for every inbound message: routing
rules, team policies with their calendars, active SLA policies. Refreshed when any of them
changes (core.refcache); treat what these return as read-only."""

from core import refcache
from routing.models import RoutingRule, SLAPolicy, TeamPolicy


def routing_rules() -> list[RoutingRule]:
    """Active routing rules in their order."""
    return refcache.get("routing-rules", lambda: list(RoutingRule.objects.filter(is_active=True)))


def team_policies() -> dict[int, TeamPolicy]:
    """Team id -> its policy, calendar loaded. The round-robin pointer in these copies is stale:
    assignment reads the policy row under a lock."""
    return refcache.get(
        "team-policies",
        lambda: {p.team_id: p for p in TeamPolicy.objects.select_related("business_hours")},
    )


def sla_policies() -> list[SLAPolicy]:
    """Active SLA policies, oldest first, calendars loaded."""
    return refcache.get(
        "sla-policies",
        lambda: list(
            SLAPolicy.objects.filter(is_active=True).select_related("business_hours").order_by("id")
        ),
    )
