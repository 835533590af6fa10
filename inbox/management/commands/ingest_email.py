import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inbox.intake.doors.email import ingest_email
from inbox.models import Channel


class Command(BaseCommand):
    help = (
        "Ingest raw RFC 822 files into an email channel ('-' reads stdin). Prints one line per "
        "file, in order: 'ok <conversation>', 'duplicate <conversation>' or 'quarantined <reason>'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, help="Slug of an email channel.")
        parser.add_argument("files", nargs="+", help="Files of raw mail; '-' for stdin.")

    def handle(self, *args, channel, files, **options):
        found = Channel.objects.filter(slug=channel, kind=Channel.Kind.EMAIL).first()
        if found is None:
            raise CommandError(f"No email channel {channel!r}.")
        for name in files:
            try:
                raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {name}: {exc.strerror}") from exc
            result = ingest_email(channel=found, raw=raw, source="stdin" if name == "-" else "file")
            self.stdout.write(result.line())
