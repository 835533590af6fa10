"""{% load reports %}{% satisfaction conversation %}: the survey state on a conversation page."""

from django import template

register = template.Library()


@register.inclusion_tag("reports/_satisfaction.html")
def satisfaction(conversation):
    from reports.models import SatisfactionSurvey

    survey = SatisfactionSurvey.objects.filter(conversation_id=conversation.pk).first()
    return {"survey": survey}
