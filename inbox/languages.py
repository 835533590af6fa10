"""The customer's language: what the product's own messages to a customer are written in.

The contact's `attributes["language"]` when known (filled at intake from what the provider or
the visitor's browser says: Telegram's `language_code`, the chat widget's Accept-Language), else
the channel's `config["language"]` (set on the channel's settings page), else the site's
LANGUAGE_CODE. Texts an admin wrote (an after-hours message, a survey invitation) go as written;
only the product's own words follow this.
"""

from django.conf import settings

from core import languages
from inbox.models import Channel, Contact

ATTRIBUTE = "language"


def of_contact(contact: Contact | None) -> str:
    """The contact's known language, or "" when nobody told us."""
    if contact is None:
        return ""
    return languages.supported((contact.attributes or {}).get(ATTRIBUTE))


def of_channel(channel: Channel | None) -> str:
    """The channel's default language for its customers, or "" when it has none."""
    if channel is None:
        return ""
    return languages.supported((channel.config or {}).get(ATTRIBUTE))


def for_customer(contact: Contact | None, channel: Channel | None) -> str:
    """The language to write to this customer in (never empty)."""
    return of_contact(contact) or of_channel(channel) or settings.LANGUAGE_CODE


def filled_in(contact: Contact, language: str) -> bool:
    """Note the language a provider or browser reported on a contact that has none yet (in
    memory; the caller saves `attributes`). Returns whether it changed."""
    code = languages.supported(language)
    if not code or of_contact(contact):
        return False
    contact.attributes = {**(contact.attributes or {}), ATTRIBUTE: code}
    return True
