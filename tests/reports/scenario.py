"""One known week of support, played through the real services with the clock under control,
and the numbers each report must show for it, computed by hand (see the comments).

Team support works Berlin business hours (Mon-Fri 09:00-17:00, UTC+1 in November); its SLA
policy for normal severity counts business hours: first response 2 h, next response 4 h,
resolution 3 days. Team sales has no calendar, so the same policy counts wall-clock time there.
The report week is Mon 2026-11-16 .. Sun 2026-11-22 (days in UTC).

A  Mon 08:00 created (support, tag feature-request "Dark mode for the dashboard"), assigned to
   alice 08:05, alice replies 10:00 (FRT 2 h business = 7200 s, met: due 10:00), resolved 11:00
   (3 h = 10800 s). One reply, never reopened: first-contact resolution. Survey answered 5.
B  Fri 11-13 15:00 created (before the week), assigned to alice 15:10; alice replies Mon 09:30
   (FRT 1 h Fri + 1.5 h Mon = 9000 s business; 66.5 h wall; missed: due Mon 09:00), again 10:00,
   resolved Mon 12:00 (1 h Fri + 4 h Mon = 18000 s). Two replies: not first-contact.
   Survey sent, never answered.
C  Tue 10:00 created (support, tag incident), assigned to alice 10:05, reply 10:30 (1800 s, met),
   resolved 11:00; the customer writes again Wed 09:00 (reopened), alice replies 09:30 (next
   response met), resolved Wed 10:00 (Tue 10:00-16:00 + Wed 08:00-10:00 UTC = 8 h = 28800 s).
   Survey (sent once, at the first resolve) answered 2, then answered again: refused.
D  Wed 12:00 created (support), never answered: still open.
E  Thu 09:00 created (sales, tag feature-request "Please add dark mode to reports"), assigned to
   bob 09:05, bob replies 09:20 (1200 s wall), resolved 10:00 (3600 s). First-contact.
   Survey sent, never answered.
"""

import datetime as dt
import re

import time_machine

from inbox.intake.receive import receive_message
from inbox.models import Conversation, Message
from inbox.normalized import NormalizedMessage, SenderRef
from inbox.outbound.replies import send_reply
from inbox.services import set_status
from reports import rollups, services
from routing.models import BusinessHours, SLAPolicy, TeamPolicy
from routing.services import assign_conversation
from tagging.models import Tag
from tagging.services import apply_tags
from tests.accounts.factories import AgentFactory, LeadFactory, TeamFactory
from tests.inbox.factories import ChannelFactory

UTC = dt.UTC
WEEK = ("2026-11-16", "2026-11-22")


def at(month_day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, month_day, hour, minute, tzinfo=UTC)


def customer_writes(channel, key, *, sender, subject="Help", text="Help please", references=()):
    return receive_message(
        channel=channel,
        message=NormalizedMessage(
            channel_kind="email",
            external_id=f"<{key}@customer.example>",
            thread_key=None,
            sender=SenderRef(kind="email", id=sender, email=sender, verified=True),
            text=text,
            html=None,
            attachments=(),
            sent_at=dt.datetime.now(UTC),
            subject=subject,
            references=tuple(references),
            auto_kind="",
        ),
    ).conversation


def undo_window_passes(conversation, resolved_when=None) -> None:
    """The delayed survey task, run as the worker would once the undo window after a resolve has
    passed (30 s later: more than SURVEY_DELAY_SECONDS)."""
    from reports.tasks import send_survey_after_undo

    when = (resolved_when or dt.datetime.now(UTC)) + dt.timedelta(seconds=30)
    with time_machine.travel(when, tick=False):
        send_survey_after_undo(conversation.pk)


TOKEN = re.compile(r"/survey/([A-Za-z0-9_-]+)/")


def survey_token(conversation) -> str:
    """The token as the customer gets it: from the survey message on their channel."""
    texts = Message.objects.filter(
        conversation=conversation, direction="out", sender_user__isnull=True
    ).values_list("text", flat=True)
    for text in texts:
        found = TOKEN.search(text)
        if found:
            return found.group(1)
    raise AssertionError("no survey link was sent")


class Week:
    def __init__(self):
        SLAPolicy.objects.all().delete()
        self.support = TeamFactory(slug="support", name="Support")
        self.sales = TeamFactory(slug="sales", name="Sales")
        berlin = BusinessHours.objects.create(
            name="Berlin",
            timezone="Europe/Berlin",
            weekly={d: [["09:00", "17:00"]] for d in BusinessHours.DAYS[:5]},
        )
        TeamPolicy.objects.create(team=self.support, business_hours=berlin)
        SLAPolicy.objects.create(
            name="Normal",
            severity=2,
            first_response_minutes=120,
            next_response_minutes=240,
            resolution_minutes=3 * 24 * 60,
            business_hours_only=True,
        )
        self.alice = AgentFactory(username="alice", teams=[self.support])
        self.bob = AgentFactory(username="bob", teams=[self.sales])
        self.lead = LeadFactory(username="lead", teams=[self.support, self.sales])
        csat = {"csat": {"enabled": True, "text": "Thanks for writing to us."}}
        self.mail = ChannelFactory(slug="mail", default_team=self.support, config=csat)
        self.sales_mail = ChannelFactory(slug="sales-mail", default_team=self.sales, config=csat)
        self.feature = Tag.objects.get_or_create(slug="feature-request", defaults={"name": "FR"})[0]
        self.incident = Tag.objects.get_or_create(slug="incident", defaults={"name": "Incident"})[0]

    def play(self):
        alice, bob, lead = self.alice, self.bob, self.lead

        def assign(conversation, team, agent, when):
            with time_machine.travel(when, tick=False):
                assign_conversation(
                    conversation_id=conversation.pk, team=team, assignee=agent, actor=lead
                )

        def reply(conversation, agent, when):
            with time_machine.travel(when, tick=False):
                send_reply(conversation_id=conversation.pk, actor=agent, text="Here is how.")

        def resolve(conversation, agent, when):
            with time_machine.travel(when, tick=False):
                set_status(conversation_id=conversation.pk, status="resolved", actor=agent)
            undo_window_passes(conversation, when)

        with time_machine.travel(at(13, 15), tick=False):
            self.b = customer_writes(self.mail, "b1", sender="bea@example.com")
        assign(self.b, self.support, alice, at(13, 15, 10))

        with time_machine.travel(at(16, 8), tick=False):
            self.a = customer_writes(
                self.mail,
                "a1",
                sender="ann@example.com",
                subject="Dark mode for the dashboard",
                text="The dashboard is too bright at night.",
            )
            apply_tags(conversation_id=self.a.pk, tags=[self.feature], actor=None)
        assign(self.a, self.support, alice, at(16, 8, 5))
        reply(self.b, alice, at(16, 9, 30))
        reply(self.a, alice, at(16, 10))
        reply(self.b, alice, at(16, 10))
        resolve(self.a, alice, at(16, 11))
        with time_machine.travel(at(16, 12), tick=False):
            services.answer_survey(token=survey_token(self.a), score=5, comment="Quick and kind")
        resolve(self.b, alice, at(16, 12))

        with time_machine.travel(at(17, 10), tick=False):
            self.c = customer_writes(self.mail, "c1", sender="cid@example.com")
            apply_tags(conversation_id=self.c.pk, tags=[self.incident], actor=None)
        assign(self.c, self.support, alice, at(17, 10, 5))
        reply(self.c, alice, at(17, 10, 30))
        resolve(self.c, alice, at(17, 11))
        with time_machine.travel(at(18, 9), tick=False):
            customer_writes(
                self.mail, "c2", sender="cid@example.com", references=["<c1@customer.example>"]
            )
        reply(self.c, alice, at(18, 9, 30))
        resolve(self.c, alice, at(18, 10))
        with time_machine.travel(at(18, 12), tick=False):
            services.answer_survey(
                token=survey_token(self.c), score=2, comment="Had to write twice"
            )
            self.d = customer_writes(self.mail, "d1", sender="dan@example.com")

        with time_machine.travel(at(19, 9), tick=False):
            self.e = customer_writes(
                self.sales_mail,
                "e1",
                sender="eve@example.com",
                subject="Please add dark mode to reports",
                text="Our team works late.",
            )
            apply_tags(conversation_id=self.e.pk, tags=[self.feature], actor=None)
        assign(self.e, self.sales, bob, at(19, 9, 5))
        reply(self.e, bob, at(19, 9, 20))
        resolve(self.e, bob, at(19, 10))
        for c in (self.a, self.b, self.c, self.d, self.e):
            c.refresh_from_db()
        assert self.c.reopened_count == 1
        assert Conversation.objects.count() == 5
        return self

    def roll_up(self, when=None):
        with time_machine.travel(when or at(23, 12), tick=False):
            return rollups.refresh()
