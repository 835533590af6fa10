from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from inbox import hooks
        from integrations import tokens
        from integrations.delivery import on_events_dispatched

        hooks.register("events_dispatched", on_events_dispatched)
        tokens.connect()

        from core import refcache
        from integrations.models import WebhookEndpoint

        refcache.watch(WebhookEndpoint)
