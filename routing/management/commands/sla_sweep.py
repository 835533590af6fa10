from django.core.management.base import BaseCommand

from routing.sla_sweep import sweep


class Command(BaseCommand):
    help = "Run one SLA sweep now (the same code the periodic task runs)."

    def handle(self, *args, **options):
        result = sweep()
        self.stdout.write(
            f"warnings: {result.warnings}, breaches: {result.breaches}, reminders: {result.reminders} "
            f"({result.conversations} conversations checked)"
        )
