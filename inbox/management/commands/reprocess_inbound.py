from django.core.management.base import BaseCommand

from inbox.intake.processing import process_inbound_event
from inbox.models import InboundEvent


class Command(BaseCommand):
    help = (
        "Process stored inbound events again (by default every failed one); prints one line each."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "ids", nargs="*", type=int, help="Event ids (default: all with --status)."
        )
        parser.add_argument("--status", default="failed", choices=["failed", "received"])

    def handle(self, *args, ids, status, **options):
        events = InboundEvent.objects.order_by("id")
        events = events.filter(pk__in=ids) if ids else events.filter(status=status)
        counts = {}
        for event_id in events.values_list("pk", flat=True).iterator():
            event = process_inbound_event(event_id=event_id)
            counts[event.status] = counts.get(event.status, 0) + 1
            line = f"{event.pk} {event.status}"
            self.stdout.write(f"{line} {event.error}" if event.status == "failed" else line)
        self.stdout.write(
            ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to do"
        )
