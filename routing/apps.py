from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing and SLA"

    def ready(self):
        from inbox import hooks
        from routing import (
            after_hours,
            auto_assignment,
            notifications,
            rules,
            services,
            sla_notify,
            sla_reactions,
            spike_notify,
        )

        hooks.register("conversation_opening", services.mark_outside_hours, order=30)
        hooks.register("messages_received", rules.route_arrivals, order=30)
        hooks.register("arrivals_in_order", rules.arrivals_in_order)
        hooks.register("tags_changed", rules.route_on_tags, order=30)
        hooks.register("conversation_changed", auto_assignment.hand_out_after_close, order=90)
        hooks.register("messages_received", sla_reactions.on_messages_received, order=40)
        # After the acknowledgement (inbox, 900), once routing has picked the team.
        hooks.register("messages_received", after_hours.reply_after_hours, order=905)
        hooks.register("agent_replied", sla_reactions.on_agent_replied, order=40)
        hooks.register("conversation_changed", sla_reactions.on_conversation_changed, order=40)
        hooks.register("tags_changed", sla_reactions.on_tags_changed, order=40)
        hooks.register("conversations_changed", sla_reactions.on_conversations_changed, order=40)
        hooks.register("events_dispatched", sla_notify.notify_dispatched, order=50)
        hooks.register("events_dispatched", notifications.notify_dispatched, order=60)
        hooks.register("events_dispatched", spike_notify.notify_dispatched, order=65)

        from core import refcache
        from routing.models import BusinessHours, RoutingRule, SLAPolicy, TeamPolicy

        refcache.watch(RoutingRule, SLAPolicy, BusinessHours)
        # The round-robin pointer moves on every assignment; no copy holds it.
        refcache.watch(TeamPolicy, ignore_fields=lambda fields: fields <= {"last_assigned"})
