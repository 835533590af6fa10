"""The language and time zone a mail or message the product sends by itself goes out in.

People (agents, leads, admins) get theirs: User.language, else the site's LANGUAGE_CODE, and
User.time_zone, else the site's TIME_ZONE. Customers get the contact's language when known, else
the channel's (inbox.contacts.language_for). Render inside speaking(): gettext, date_format and
localtime() then follow the recipient, not whoever happened to trigger the send.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone, translation


def supported(code) -> str:
    """A language the deployment serves (settings.LANGUAGES) for `code` ("id-ID", "in", "en_GB"),
    or "" for anything else or nothing."""
    if not isinstance(code, str) or not code.strip():
        return ""
    code = code.strip().lower().replace("_", "-")
    if code == "in" or code.startswith("in-"):  # the old ISO code some systems still send
        code = "id"
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return ""


def from_accept_language(header: str) -> str:
    """The first served language of an Accept-Language header (by q, then order), or ""."""
    wanted = []
    for position, part in enumerate((header or "").split(",")):
        code, _sep, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if code and code != "*" and q > 0:
            wanted.append((-q, position, code))
    for _q, _position, code in sorted(wanted):
        found = supported(code)
        if found:
            return found
    return ""


def of_person(user) -> str:
    """The language a person's mail is written in: theirs, else the site's."""
    return supported(getattr(user, "language", "")) or settings.LANGUAGE_CODE


def zone_of_person(user) -> str:
    """The time zone a person's mail shows times in: theirs when valid, else the site's."""
    zone = getattr(user, "time_zone", "") or ""
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ""
    return zone or settings.TIME_ZONE


@contextmanager
def speaking(language: str, zone: str | None = None) -> Iterator[None]:
    """Translations and, when `zone` is given, local times as the recipient reads them."""
    with translation.override(language or settings.LANGUAGE_CODE):
        if zone:
            with timezone.override(ZoneInfo(zone)):
                yield
        else:
            yield


@contextmanager
def speaking_to(user) -> Iterator[None]:
    """speaking() in a person's language and time zone."""
    with speaking(of_person(user), zone_of_person(user)):
        yield
