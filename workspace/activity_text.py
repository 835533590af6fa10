"""The conversation's activity (inbox.Activity, the audit trail) said as short sentences a person
would write: "Classification rule added the tag Incident", "Bob snoozed this until Tue 8 Dec,
09:00". The rows hold slugs, usernames and raw values (see the services that write them:
tagging, routing, inbox, reports); this module turns them into words in the active language.

activity_rows() names a page's tags, teams and people in one query each, whatever the number of
rows; activity_sentence() says one row."""

import dataclasses
import re

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Team
from inbox.models import SEVERITY_WORDS, Activity, Status
from tagging.models import Tag


@dataclasses.dataclass
class Names:
    """Display names for the slugs and usernames the rows hold."""

    tags: dict = dataclasses.field(default_factory=dict)
    teams: dict = dataclasses.field(default_factory=dict)
    people: dict = dataclasses.field(default_factory=dict)

    def tag(self, slug) -> str:
        return self.tags.get(slug) or str(slug)

    def team(self, slug) -> str:
        return self.teams.get(slug) or str(slug)

    def person(self, username) -> str:
        return self.people.get(username) or str(username)


@dataclasses.dataclass(frozen=True)
class Row:
    activity: Activity
    text: SafeString


def _slugs(value) -> list:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def names_for(activities) -> Names:
    """The names the rows mention, in one query per kind (none for a kind no row mentions)."""
    tags, teams, people = set(), set(), set()
    for a in activities:
        if a.verb in ("tagged", "untagged", "dismissed suggestion"):
            tags.update(_slugs(a.to_value) + _slugs(a.from_value))
        elif a.verb == "assigned":
            for side in (a.from_value, a.to_value):
                if isinstance(side, dict):
                    teams.update(_slugs(side.get("team")))
                    people.update(_slugs(side.get("assignee")))
        elif a.verb == "macro" and isinstance(a.to_value, dict):
            for change in a.to_value.get("changes") or ():
                if isinstance(change, dict) and change.get("kind") == "add_tags":
                    tags.update(_slugs(change.get("value")))
    names = Names()
    if tags:
        names.tags = dict(Tag.objects.filter(slug__in=tags).values_list("slug", "name"))
    if teams:
        names.teams = dict(Team.objects.filter(slug__in=teams).values_list("slug", "name"))
    if people:
        names.people = {
            username: f"{first} {last}".strip() or username
            for username, first, last in get_user_model()
            .objects.filter(username__in=people)
            .values_list("username", "first_name", "last_name")
        }
    return names


def activity_rows(activities) -> list[Row]:
    """Each row with its sentence; the names looked up once for all of them."""
    activities = list(activities)
    names = names_for(activities)
    return [Row(a, activity_sentence(a, names=names)) for a in activities]


def _say(template: str, **params) -> SafeString:
    """The translated template with its values escaped (names are people's and customers' text);
    a value already safe (a <time> from `stamp`) goes in as it is."""
    values = {key: conditional_escape(value) for key, value in params.items()}
    # Both sides escaped just above: the template (a translation) and every value.
    return mark_safe(conditional_escape(template) % values)  # noqa: S308


def _quoted_name(reason: str, prefix: str) -> str:
    return reason[len(prefix) :].strip()


def source_of(reason: str) -> str:
    """Who did it, for a row without an actor: the rule, job or feature its reason names."""
    reason = (reason or "").strip()
    lower = reason.lower()
    if lower.startswith("classification rule"):
        return _("Classification rule")
    if lower.startswith("routing rule:"):
        return _("Routing rule “%(name)s”") % {"name": _quoted_name(reason, "routing rule:")}
    if lower.startswith("routing rule"):
        return _("Routing rule")
    if lower.startswith("auto ("):
        return _("Auto-assignment")
    if lower.startswith("sla"):
        return _("SLA")
    if lower.startswith("macro:"):
        return _("Macro “%(name)s”") % {"name": _quoted_name(reason, "macro:")}
    if lower in ("undo", _("undo").lower()):
        return _("Undo")
    if lower.startswith("customer "):
        return _("Customer")
    return _("Switchboard")


# Reasons written by the services themselves: said by the sentence (its source), not repeated.
_MACHINE_REASONS = re.compile(
    r"^(classification rule|routing rule|auto \(|sla breach|macro:|snooze ended|customer |"
    r"the contact is marked as spam|automatic |accepted .* suggestion|.* suggestion, score|"
    r"\w+ survey (after resolve|answered))",
    re.IGNORECASE,
)


def _note(activity: Activity) -> str:
    """A reason a person wrote (or one the sentence does not already say), else ""."""
    reason = (activity.reason or "").strip()
    if not reason or activity.verb == "contact_merged" or _MACHINE_REASONS.match(reason):
        return ""
    if activity.actor_id is None and source_of(reason) != _("Switchboard"):
        return ""
    return reason


def activity_sentence(activity: Activity, *, names: Names | None = None) -> SafeString:
    """One row as a sentence in the active language. `names` from names_for() for a page of rows;
    without it the row's own names are looked up."""
    if names is None:
        names = names_for([activity])
    actor = activity.actor.display_name if activity.actor_id else source_of(activity.reason)
    sentence = _sentence(activity, actor, names)
    note = _note(activity)
    if note:
        return _say(_("%(sentence)s (%(note)s)"), sentence=sentence, note=note)
    return sentence


def _sentence(a: Activity, actor: str, names: Names) -> SafeString:
    verb, before, after = a.verb, a.from_value, a.to_value
    reason = (a.reason or "").lower()
    if verb == "tagged":
        tags = _slugs(after)
        if reason.startswith("accepted") and len(tags) == 1:
            return _say(
                _("%(actor)s accepted the suggested tag %(tag)s"),
                actor=actor,
                tag=names.tag(tags[0]),
            )
        return _say(
            ngettext(
                "%(actor)s added the tag %(tags)s", "%(actor)s added the tags %(tags)s", len(tags)
            ),
            actor=actor,
            tags=", ".join(names.tag(t) for t in tags),
        )
    if verb == "untagged":
        tags = _slugs(before) or _slugs(after)
        return _say(
            ngettext(
                "%(actor)s removed the tag %(tags)s",
                "%(actor)s removed the tags %(tags)s",
                len(tags),
            ),
            actor=actor,
            tags=", ".join(names.tag(t) for t in tags),
        )
    if verb == "dismissed suggestion":
        return _say(
            _("%(actor)s dismissed the suggested tag %(tag)s"),
            actor=actor,
            tag=", ".join(names.tag(t) for t in _slugs(after)),
        )
    if verb == "severity":
        now = SEVERITY_WORDS.get(after, after)
        if before:
            return _say(
                _("%(actor)s set severity to %(severity)s (was %(before)s)"),
                actor=actor,
                severity=now,
                before=SEVERITY_WORDS.get(before, before),
            )
        return _say(_("%(actor)s set severity to %(severity)s"), actor=actor, severity=now)
    if verb == "assigned" and isinstance(after, dict):
        return _assigned(actor, before if isinstance(before, dict) else {}, after, names)
    if verb == "status":
        return _status(a, actor)
    if verb == "macro" and isinstance(after, dict):
        return _macro(actor, after, names)
    if verb == "sla_breached":
        return _say(_("SLA breached: %(target)s"), target=_sla_target(after))
    if verb == "csat_sent":
        return _say(_("Survey sent"))
    if verb == "csat_answered":
        return _survey_answer(a)
    if verb == "contact_merged":
        if a.actor_id:
            return _say(_("%(actor)s merged the contact into another"), actor=actor)
        return _say(_("Contact merged"))
    if verb == "auto_acknowledged":
        return _say(_("Automatic acknowledgement sent"))
    if verb == "after_hours_replied":
        return _say(_("After-hours reply sent"))
    if verb == "rule_canned_replied":
        return _say(_("%(actor)s sent a canned reply"), actor=actor)
    if verb == "ugc_permission":
        return _ugc(actor, after)
    return _generic(actor, verb, before, after)


def _assigned(actor: str, before: dict, after: dict, names: Names) -> SafeString:
    team, agent = after.get("team"), after.get("assignee")
    if agent and team:
        return _say(
            _("%(actor)s assigned this to %(agent)s in %(team)s"),
            actor=actor,
            agent=names.person(agent),
            team=names.team(team),
        )
    if agent:
        return _say(
            _("%(actor)s assigned this to %(agent)s"), actor=actor, agent=names.person(agent)
        )
    if team and team != before.get("team"):
        return _say(_("%(actor)s moved this to %(team)s"), actor=actor, team=names.team(team))
    if before.get("assignee"):
        return _say(
            _("%(actor)s unassigned this (was %(agent)s)"),
            actor=actor,
            agent=names.person(before["assignee"]),
        )
    return _say(_("%(actor)s unassigned this"), actor=actor)


def _status(a: Activity, actor: str) -> SafeString:
    after, before = a.to_value, a.from_value
    if isinstance(after, dict):
        status, until = after.get("status"), after.get("until")
    else:
        status, until = after, None
    reason = (a.reason or "").strip().lower()
    if status == Status.SNOOZED:
        moment = parse_datetime(until) if isinstance(until, str) else None
        if moment is None:
            return _say(_("%(actor)s snoozed this"), actor=actor)
        from workspace.templatetags.ui import stamp

        return _say(_("%(actor)s snoozed this until %(until)s"), actor=actor, until=stamp(moment))
    if a.actor_id is None:
        if reason == "snooze ended":
            return _say(_("Snooze ended; this is open again"))
        if reason == "customer wrote again":
            return _say(_("The customer wrote again; reopened"))
        if reason == "customer replied":
            return _say(_("The customer replied; back to open"))
        if reason == "the contact is marked as spam":
            return _say(_("Moved to spam: the contact is marked as spam"))
    if status == Status.OPEN:
        if before == Status.SNOOZED:
            return _say(_("%(actor)s unsnoozed this"), actor=actor)
        if before == Status.PENDING:
            return _say(_("%(actor)s moved this back to open"), actor=actor)
        return _say(_("%(actor)s reopened this"), actor=actor)
    if status == Status.RESOLVED:
        return _say(_("%(actor)s resolved this"), actor=actor)
    if status == Status.PENDING:
        return _say(_("%(actor)s marked this as pending"), actor=actor)
    if status == Status.SPAM:
        return _say(_("%(actor)s marked this as spam"), actor=actor)
    label = dict(Status.choices).get(status, status)
    return _say(_("%(actor)s set the status to %(status)s"), actor=actor, status=label)


def _macro(actor: str, value: dict, names: Names) -> SafeString:
    from routing.macros import describe

    steps = []
    for change in value.get("changes") or ():
        if not isinstance(change, dict):
            continue
        if change.get("kind") == "add_tags":
            change = {**change, "value": [names.tag(t) for t in _slugs(change.get("value"))]}
        steps.append(describe(change))
    if not steps:
        return _say(
            _("%(actor)s ran the macro “%(macro)s” (nothing changed)"),
            actor=actor,
            macro=value.get("macro", ""),
        )
    return _say(
        _("%(actor)s ran the macro “%(macro)s”: %(steps)s"),
        actor=actor,
        macro=value.get("macro", ""),
        steps="; ".join(steps),
    )


def _sla_target(target) -> str:
    words = {
        "first_response": _("first response"),
        "next_response": _("next response"),
        "resolution": _("resolution"),
    }
    return words.get(target) or str(target or "").replace("_", " ")


def _survey_answer(a: Activity) -> SafeString:
    from reports.surveys import SCALES

    kind = (a.reason or "").split(" ", 1)[0].lower()
    scale = SCALES.get(kind)
    if scale is None:
        return _say(_("Customer answered the survey: %(score)s"), score=a.to_value)
    return _say(
        _("Customer answered the survey: %(score)s/%(high)s"), score=a.to_value, high=scale.high
    )


def _ugc(actor: str, state) -> SafeString:
    from tagging.models import UgcItem

    if state == UgcItem.Permission.ASKED:
        return _say(_("%(actor)s asked the customer for permission to share this"), actor=actor)
    label = dict(UgcItem.Permission.choices).get(state, state)
    return _say(
        _("%(actor)s set the permission to share this to %(state)s"), actor=actor, state=label
    )


def _generic(actor: str, verb: str, before, after) -> SafeString:
    from workspace.templatetags.ui import activity_value

    what = str(verb).replace("_", " ")
    if before not in (None, "", [], {}) and after not in (None, "", [], {}):
        return _say(
            _("%(actor)s changed %(what)s from %(before)s to %(after)s"),
            actor=actor,
            what=what,
            before=activity_value(before),
            after=activity_value(after),
        )
    if after not in (None, "", [], {}):
        return _say(
            _("%(actor)s set %(what)s to %(after)s"),
            actor=actor,
            what=what,
            after=activity_value(after),
        )
    return _say(_("%(actor)s: %(what)s"), actor=actor, what=what)
