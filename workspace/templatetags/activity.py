"""{% load activity %}: the side panel's activity rows as sentences. A library of its own, not in
ui.py: workspace.activity_text writes its times with ui's `stamp`, and ui importing it back
would make a circle of imports."""

from django import template

from workspace import activity_text

register = template.Library()


@register.simple_tag
def activity_rows(activities) -> list:
    """The activity rows with their sentences (workspace.activity_text): one query per kind of
    name the rows mention (tags, teams, people), whatever their number."""
    return activity_text.activity_rows(activities)
