from django.core.management.base import BaseCommand, CommandError

from tagging.learning import train_tag_suggester
from tagging.suggester import NotEnoughTagging


class Command(BaseCommand):
    help = (
        "Retrain the learned tag suggester now on the tags agents gave conversations, and "
        "store it as a new version."
    )

    def handle(self, *args, **options):
        try:
            result = train_tag_suggester()
        except NotEnoughTagging as exc:
            raise CommandError(f"not trained: {exc}") from exc
        skipped = (
            f"; too few examples for {', '.join(result.skipped_tags)}"
            if result.skipped_tags
            else ""
        )
        self.stdout.write(
            f"trained on {result.examples} examples, {len(result.tags)} tags "
            f"in {result.seconds:.1f} s{skipped}; stored as {result.name}"
        )
