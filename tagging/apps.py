from django.apps import AppConfig


class TaggingConfig(AppConfig):
    name = "tagging"
    verbose_name = "Tags and severity"

    def ready(self):
        from inbox import hooks
        from tagging.services import classify_arrivals

        hooks.register("messages_received", classify_arrivals, order=10)

        from core import refcache
        from tagging.models import ClassificationRule, Tag

        refcache.watch(ClassificationRule, Tag)
