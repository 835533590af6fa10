from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing and SLA"

    def ready(self):
        from inbox import hooks
        from routing import services

        hooks.register("message_received", services.route_on_arrival, order=30)
        hooks.register("tags_changed", services.route_on_tags, order=30)
        hooks.register("conversation_changed", services.hand_out_after_close, order=90)
