"""Agents' replies on the website live chat.

A reply is pushed to the visitor's open widgets (the session's Channels group) and stays readable
through the widget's HTTP poll. When the visitor is not connected and left an email address, the
reply goes out by email instead, through the email sender when one is registered; without one it
waits in the widget for the visitor's return.
"""

from inbox import chat
from inbox.senders import PermanentSendError, get_sender

WIDGET = "widget"
EMAIL = "email"


def delivery_route(conversation) -> str:
    """Where a reply goes now: the widget, or email for an offline visitor who left one."""
    if chat.visitor_connected(conversation):
        return WIDGET
    if conversation.contact.email and get_sender(EMAIL) is not None:
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
