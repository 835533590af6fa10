from django.contrib import admin

from routing.models import BusinessHours, RoutingRule, SLAPolicy, TeamPolicy


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
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
