from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from inbox import hooks
        from integrations import tokens
        from integrations.delivery import on_event_dispatched

        hooks.register("event_dispatched", on_event_dispatched)
        tokens.connect()

        from config import refcache
        from integrations.models import WebhookEndpoint

        refcache.watch(WebhookEndpoint)
