"""Routing rules: conditions on a conversation (channel, tags, severity, keywords, sender, contact
attributes, business hours) and the actions they take; run on arrival and when tags change."""

import logging
from types import SimpleNamespace

from django.db import transaction

from accounts.models import Team, User
from inbox import activity, selectors
from inbox import canned as canned_service
from inbox.models import Activity, CannedResponse, Conversation, Message, Status
from routing import reference
from routing.auto_assignment import _auto_assign_in_order
from routing.models import RoutingRule, TeamPolicy
from routing.services import _assign_locked

logger = logging.getLogger(__name__)
DRY_RUN_LIMIT = 200
CANNED_VERB = "rule_canned_replied"
NO_AUTOMATIC_REPLY = (Status.AUTOMATED, Status.SPAM, Status.BLOCKED)


def rule_matches(
    rule: RoutingRule, conversation: Conversation, *, text: str = "", tag_slugs=None
) -> bool:
    c = rule.conditions or {}
    if c.get("automated") and conversation.status != Status.AUTOMATED:
        return False
    if c.get("channels") and conversation.channel.slug not in c["channels"]:
        return False
    if c.get("tags_any"):
        tag_slugs = set(
            tag_slugs if tag_slugs is not None else conversation.tags.values_list("slug", flat=True)
        )
        if not tag_slugs & set(c["tags_any"]):
            return False
    if c.get("severity_at_least"):
        from inbox.models import Severity

        if conversation.severity < Severity.from_name(c["severity_at_least"]):
            return False
    if c.get("keywords"):
        from tagging.services import _keyword_pattern

        pattern = _keyword_pattern(c["keywords"])
        if not pattern or not pattern.search(f"{conversation.subject}\n{text[:10_000]}"):
            return False
    if c.get("sender_domains"):
        domain = conversation.contact.email.rpartition("@")[2].lower()
        if domain not in {d.lower().lstrip("@") for d in c["sender_domains"]}:
            return False
    attribute = c.get("contact_attribute")
    if attribute and str(conversation.contact.attributes.get(attribute.get("key"))) != str(
        attribute.get("value")
    ):
        return False
    wants_outside = c.get("outside_business_hours")
    return wants_outside is None or bool(wants_outside) == conversation.arrived_outside_hours


def apply_rule_actions(rule: RoutingRule, conversation: Conversation) -> None:
    from tagging.services import apply_tags, set_severity, tags_for_slugs

    a = rule.actions or {}
    reason = f"routing rule: {rule.name}"
    if a.get("add_tags"):
        apply_tags(
            conversation_id=conversation.pk,
            tags=tags_for_slugs(a["add_tags"]),
            actor=None,
            reason=reason,
            run_rules=False,
        )
    if a.get("set_severity"):
        from inbox.models import Severity

        set_severity(
            conversation_id=conversation.pk,
            severity=Severity.from_name(a["set_severity"]),
            actor=None,
            reason=reason,
        )
    if a.get("assign_team") or a.get("assign_agent"):
        team = (
            Team.objects.filter(slug=a["assign_team"]).first()
            if a.get("assign_team")
            else conversation.team
        )
        agent = (
            User.objects.filter(username=a["assign_agent"], is_active=True).first()
            if a.get("assign_agent")
            else None
        )
        current = Conversation.objects.select_for_update().get(pk=conversation.pk)
        _assign_locked(current, team=team, assignee=agent, actor=None, reason=reason)
    if a.get("set_status"):
        from inbox.services import set_status

        set_status(
            conversation_id=conversation.pk, status=a["set_status"], actor=None, reason=reason
        )
    if a.get("send_canned"):
        try:
            with transaction.atomic():  # a reply that cannot be queued never costs the arrival
                send_rule_canned_reply(rule=rule, conversation_id=conversation.pk)
        except Exception:
            logger.exception("canned reply by rule %s on %s failed", rule.pk, conversation.pk)


def send_rule_canned_reply(*, rule: RoutingRule, conversation_id: int) -> Message | None:
    """Queue the rule's canned response (variables filled, the assignee as the agent) on the
    conversation, through the outbound queue, as the system (auto_kind auto_reply). Loop-safe
    like the automatic acknowledgement: nothing (None) for an Automated, spam or blocked
    conversation, or when its latest customer message is automatic or from an address
    inbox.outbound.auto_ack refuses (lists, bounces, auto-responders, our own); and once per
    conversation and rule, checked under the conversation's row lock. Writes Activity
    "rule_canned_replied"; emits message.created."""
    from routing.after_hours import refusal

    conversation = (
        Conversation.objects.select_for_update(of=("self",))  # team, assignee: outer joins
        .select_related("channel", "contact", "team", "assignee")
        .get(pk=conversation_id)
    )
    if conversation.status in NO_AUTOMATIC_REPLY:
        return None
    canned = CannedResponse.objects.filter(pk=(rule.actions or {}).get("send_canned")).first()
    if canned is None:
        return None
    inbound = (
        Message.objects.select_related("sender_contact")
        .filter(conversation=conversation, direction=Message.Direction.IN)
        .order_by("-created_at", "-pk")
        .first()
    )
    why = "no customer message" if inbound is None else refusal(conversation.channel, inbound)
    if why:
        logger.info("no canned reply by rule %s on %s: %s", rule.pk, conversation.pk, why)
        return None
    done = Activity.objects.filter(conversation=conversation, verb=CANNED_VERB)
    if any((v or {}).get("rule") == rule.pk for v in done.values_list("to_value", flat=True)):
        return None
    agent = conversation.assignee or SimpleNamespace(
        display_name=conversation.team.name if conversation.team_id else "", first_name=""
    )
    text = canned_service.fill(
        canned.text, canned_service.values_for(user=agent, conversation=conversation)
    )
    from inbox.outbound.replies import queue_system_message

    message = queue_system_message(
        conversation=conversation, text=text, auto_kind=Message.AutoKind.AUTO_REPLY
    )
    activity.record(
        conversation=conversation,
        actor=None,
        verb=CANNED_VERB,
        to_value={"rule": rule.pk, "canned": canned.pk, "message": message.pk},
        reason=f"routing rule: {rule.name}",
    )
    return message


def run_routing_rules(
    conversation: Conversation, *, text: str = "", automated: bool = False
) -> list[RoutingRule]:
    """Apply the rules that match, in order. Mail that opened an Automated conversation (a list,
    an auto-reply, a bounce) is seen only by rules that ask for it (`"automated": true`), which
    may take it out of that view (`"set_status": "open"`)."""
    applied = []
    for rule in reference.routing_rules():
        if automated and not (rule.conditions or {}).get("automated"):
            continue
        conversation.refresh_from_db()
        if rule_matches(rule, conversation, text=text):
            apply_rule_actions(rule, conversation)
            applied.append(rule)
            if rule.stop_processing:
                break
    return applied


def dry_run_rule(*, rule: RoutingRule, limit: int = DRY_RUN_LIMIT) -> list[int]:
    """Which of the most recent conversations this rule would act on; changes nothing."""
    recent = (
        Conversation.objects.select_related("channel", "contact")
        .prefetch_related("tags")
        .order_by("-created_at")[:limit]
    )
    matched = []
    for conversation in recent:
        if rule_matches(
            rule,
            conversation,
            text=selectors.first_customer_text(conversation=conversation),
            tag_slugs=[t.slug for t in conversation.tags.all()],
        ):
            matched.append(conversation.pk)
    return matched


def route_arrivals(*, arrivals) -> None:
    """Hook on messages_received: run routing rules for new conversations, then auto-assign what
    is still unassigned, in arrival order (overnight arrivals were marked as they opened:
    mark_outside_hours). While routing rules exist arrivals come one at a time
    (arrivals_in_order): a rule's assignment must count before the next arrival's."""
    rules = reference.routing_rules()
    waiting: list[Conversation] = []
    for arrival in arrivals:
        if arrival.message.auto_kind:
            if arrival.conversation_created and arrival.conversation.status == Status.AUTOMATED:
                run_routing_rules(arrival.conversation, text=arrival.message.text, automated=True)
            continue
        conversation = arrival.conversation
        if arrival.conversation_created:
            run_routing_rules(conversation, text=arrival.message.text)
        if rules:
            # A rule (here, or run by the tags classification added) may have moved it.
            conversation.refresh_from_db(fields=["assignee", "team", "status"])
        if conversation.assignee_id is None and conversation.status == Status.OPEN:
            policy = reference.team_policies().get(conversation.team_id)
            if policy is not None and policy.assignment != TeamPolicy.Assignment.MANUAL:
                waiting.append(conversation)
    if waiting:
        # The arrivals hold the locks, and what auto-assignment reads (team, assignee, status)
        # is current: refreshed above when rules could have moved them.
        _auto_assign_in_order(waiting)


def arrivals_in_order() -> bool:
    """Hook on arrivals_in_order: routing rules (run on arrival and on tags) may assign, so each
    arrival's hooks must run before the next one's."""
    return bool(reference.routing_rules())


def route_on_tags(*, conversation: Conversation, added, removed, run_rules: bool) -> None:
    if run_rules and added:
        run_routing_rules(conversation)
