from django.apps import AppConfig


class TaggingConfig(AppConfig):
    name = "tagging"
    verbose_name = "Tags and severity"

    def ready(self):
        from inbox import hooks
        from tagging.services import classify_arrivals
        from tagging.ugc import read_answers

        hooks.register("messages_received", classify_arrivals, order=10)
        hooks.register("messages_received", read_answers, order=15)  # a yes to "may we use it?"

        from core import refcache
        from tagging.models import ClassificationRule, Tag

        refcache.watch(ClassificationRule, Tag)
