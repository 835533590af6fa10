from django.db import migrations

# (name, tag slug, keywords, severity rank or None)
DEFAULT_RULES = [
    ("Sales: pricing, quotes, demos", "sales-lead",
     ["pricing", "price", "prices", "quote", "quotation", "demo", "trial", "discount", "enterprise plan",
      "how much", "purchase", "buy", "licence", "license", "seats"], None),
    ("Feature requests", "feature-request",
     ["would be great", "would be nice", "please add", "feature request", "feature", "could you add",
      "can you add", "wish", "it would help", "support for", "roadmap"], None),
    ("Incidents: outages", "incident",
     ["outage", "is down", "are down", "went down", "down for", "not working for", "nobody can",
      "no one can", "whole team", "all users", "everyone", "service unavailable", "502", "503"], 3),
    ("Technical issues: errors, bugs, crashes", "technical-issue",
     ["error", "errors", "bug", "crash", "crashes", "crashing", "exception", "500", "broken", "fails",
      "failed", "stack trace", "doesn't work", "does not work"], None),
    ("User-generated content", "ugc",
     ["posted a photo", "posted a video", "shared a photo", "tagged you", "my post", "my video",
      "unboxing", "review on", "my feed", "my story", "photo of your product"], None),
]


def create_rules(apps, schema_editor):
    Rule = apps.get_model("tagging", "ClassificationRule")
    Tag = apps.get_model("tagging", "Tag")
    for position, (name, slug, keywords, severity) in enumerate(DEFAULT_RULES, start=1):
        if Rule.objects.filter(name=name).exists():
            continue
        rule = Rule.objects.create(name=name, position=position * 10, mode="apply", keywords=keywords,
                                   severity=severity)
        rule.tags.set(Tag.objects.filter(slug=slug))


class Migration(migrations.Migration):
    dependencies = [("tagging", "0003_triage")]
    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
