from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from inbox import hooks
        from inbox.outbound.auto_ack import acknowledge_new_conversations

        # Late, so routing and tagging have had their say about the new conversation.
        hooks.register("messages_received", acknowledge_new_conversations, order=900)
        from inbox.intake.profiles import queue_profile_lookups

        # Messenger and Instagram names, looked up after commit (never during intake).
        hooks.register("messages_received", queue_profile_lookups, order=910)

        from core import refcache
        from inbox.models import Channel

        refcache.watch(Channel)

        # Connects the receiver of django-anymail's `inbound` signal (ESP inbound mail).
