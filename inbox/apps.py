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

        # Connection tests and secret hand-overs of channel set-up (inbox.channel_settings).
        from inbox import channel_settings
        from inbox.intake import probes as intake_probes
        from inbox.outbound import probes as outbound_probes

        kind = Channel.Kind
        channel_settings.register_probe(kind.TELEGRAM, outbound_probes.probe_telegram)
        channel_settings.register_secret_push(kind.TELEGRAM, outbound_probes.set_telegram_webhook)
        channel_settings.register_probe(kind.META, intake_probes.probe_meta)
        channel_settings.register_probe(kind.EMAIL, intake_probes.probe_imap)
        channel_settings.register_probe(kind.EMAIL, outbound_probes.probe_smtp)
        channel_settings.register_probe(kind.API, outbound_probes.probe_api_callback)
