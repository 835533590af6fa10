"""The three surveys that may follow a resolution, and which one a conversation gets.

CSAT asks how satisfied the customer is (1-5), NPS how likely they are to recommend us (0-10),
CES how easy it was to get the issue resolved (1-7). Every customer-facing string is wrapped for
translation and rendered in the customer's language (see survey_language).

Which survey: the channel decides *whether* a survey follows a resolution
(Channel.config["csat"]["enabled"]); the conversation's team decides *which*
(Team.survey_kind), and when the team leaves it blank, the channel's
Channel.config["csat"]["kind"], else CSAT. The team wins because the score judges the people who
resolved the conversation, and a channel is often shared by teams that want different measures;
the channel keeps the switch because whether a customer there may be sent anything is the
channel owner's call.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import SurveyKind
from core import languages
from inbox import languages as customer_languages


@dataclass(frozen=True)
class Scale:
    kind: str
    low: int
    high: int
    question: Promise  # the page's heading
    legend: Promise  # what the numbers mean
    invitation: Promise  # the message's first line when the channel sets no text of its own
    link: Promise  # the message's line with the link; %(url)s
    agents_see: Promise  # the note agents see instead of the link; %(text)s

    @property
    def scores(self) -> range:
        return range(self.low, self.high + 1)


SCALES = {
    SurveyKind.CSAT: Scale(
        kind=SurveyKind.CSAT,
        low=1,
        high=5,
        question=_("How did we do?"),
        legend=_("Your rating, from 1 (very unhappy) to 5 (very happy)"),
        invitation=_("Your conversation with us is resolved. How did we do?"),
        link=_("Rate us from 1 to 5 (one click, one question): %(url)s"),
        agents_see=_("Satisfaction survey sent: %(text)s"),
    ),
    SurveyKind.NPS: Scale(
        kind=SurveyKind.NPS,
        low=0,
        high=10,
        question=_("How likely are you to recommend us to a friend or colleague?"),
        legend=_("From 0 (not at all likely) to 10 (extremely likely)"),
        invitation=_(
            "Your conversation with us is resolved. How likely are you to recommend us to a "
            "friend or colleague?"
        ),
        link=_("Answer from 0 to 10 (one click, one question): %(url)s"),
        agents_see=_("NPS survey sent: %(text)s"),
    ),
    SurveyKind.CES: Scale(
        kind=SurveyKind.CES,
        low=1,
        high=7,
        question=_("How easy was it to get your issue resolved?"),
        legend=_("From 1 (very difficult) to 7 (very easy)"),
        invitation=_(
            "Your conversation with us is resolved. How easy was it to get your issue resolved?"
        ),
        link=_("Answer from 1 to 7 (one click, one question): %(url)s"),
        agents_see=_("Effort survey sent: %(text)s"),
    ),
}


def channel_survey_options(channel) -> dict:
    """The channel's survey settings, {} when it sends none.

    Channel.config = {"csat": {"enabled": true, "kind": "nps", "text": "How did we do?"}}
    ("kind" is optional: csat, nps or ces; "text" replaces the invitation of the channel's kind).
    """
    options = (channel.config or {}).get("csat") or {}
    if not isinstance(options, dict) or not options.get("enabled"):
        return {}
    return options


def survey_kind_for(conversation, options: dict) -> str:
    """The conversation team's choice, else the channel's, else CSAT (an unknown value in the
    channel's JSON reads as CSAT rather than sending nothing)."""
    team_kind = getattr(conversation.team, "survey_kind", "") if conversation.team_id else ""
    if team_kind in SCALES:
        return team_kind
    channel_kind = options.get("kind")
    return channel_kind if channel_kind in SCALES else SurveyKind.CSAT


def supported_language(code) -> str:
    """A language code the deployment serves (settings.LANGUAGES), or "" for anything else."""
    return languages.supported(code)


def survey_language(contact, options: dict, channel=None) -> str:
    """The customer's language as far as we know it when sending: the contact's
    attributes["language"], else the channel's config["csat"]["language"], else the channel's
    own default language (config["language"]); "" when none names a served language (the page
    then follows the customer's browser)."""
    return (
        customer_languages.of_contact(contact)
        or supported_language(options.get("language"))
        or customer_languages.of_channel(channel)
    )


def page_language(survey, request) -> str:
    """The survey page's language: the one the invitation went out in, else one of ours the
    browser asks for (Accept-Language), else the channel's customers' language, else
    settings.LANGUAGE_CODE."""
    from core import languages
    from inbox.languages import of_channel

    return (
        survey.language
        or languages.from_accept_language(request.headers.get("Accept-Language", ""))
        or of_channel(survey.channel)
        or settings.LANGUAGE_CODE
    )
