from django.contrib import admin

from routing.models import SLAPolicy


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
