from django.contrib import admin

from routing.models import (
    BusinessHours,
    Notification,
    RoutingRule,
    SLAAlert,
    SLAPolicy,
    TeamPolicy,
)


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        """Open conversations follow an edited policy: recomputed in the background, in batches."""
        super().save_model(request, obj, form, change)
        from django.db import transaction

        from routing.tasks import recompute_sla

        transaction.on_commit(lambda: recompute_sla.delay(None))

    list_filter = ["severity", "team", "channel", "is_active"]
    list_display = [
        "name",
        "severity",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "business_hours_only",
        "is_active",
    ]


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "always_open"]


@admin.register(TeamPolicy)
class TeamPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "assignment", "business_hours"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active", "stop_processing"]
    list_editable = ["position", "is_active"]


@admin.register(SLAAlert)
class SLAAlertAdmin(admin.ModelAdmin):
    list_display = ["conversation", "target", "kind", "due_at", "raised_at", "late"]
    list_filter = ["kind", "target", "late"]
    raw_id_fields = ["conversation"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "conversation", "actor", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient", "actor"]
    raw_id_fields = ["recipient", "conversation", "actor"]
    readonly_fields = ["event_id", "created_at", "mailed_at"]
