from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        # Connects the receiver of django-anymail's `inbound` signal (ESP inbound mail).
        from inbox import inbound_email  # noqa: F401
