"""Agents' replies on the website live chat.

A reply is pushed to the visitor's open widgets (the session's Channels group) and stays readable
through the widget's HTTP poll. When the visitor is not connected and left an email address, the
reply goes out by email instead, from the mailbox the chat channel names in
config["email_channel"] (the slug of an email channel, whose plus address brings the visitor's
answer back into this conversation); without one it waits in the widget for the visitor's return.
"""

from inbox.chat import service as chat
from inbox.outbound.senders import PermanentSendError, get_sender

WIDGET = "widget"
EMAIL = "email"


def delivery_route(conversation) -> str:
    """Where a reply goes now: the widget, or email for an offline visitor who left one."""
    if chat.visitor_connected(conversation):
        return WIDGET
    email = get_sender(EMAIL)
    if conversation.contact.email and email is not None and email.can_send(conversation) is None:
        return EMAIL
    return WIDGET


def send(message) -> str | None:
    conversation = message.conversation
    if message.kind != message.Kind.MESSAGE:
        raise PermanentSendError("private notes are never sent to the visitor")
    if not conversation.thread_key:
        raise PermanentSendError("this conversation has no chat session")
    if delivery_route(conversation) == EMAIL:
        return get_sender(EMAIL).send(message)
    chat.push_to_session(
        channel_id=conversation.channel_id,
        session_id=conversation.thread_key,
        frame={"type": "message", **chat.widget_message(message)},
    )
    return f"chat-reply-{message.pk}"
