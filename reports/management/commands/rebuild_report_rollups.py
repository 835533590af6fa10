from django.core.management.base import BaseCommand
from tqdm import tqdm


class Command(BaseCommand):
    help = "Recompute every report fact and daily rollup from the inbox (safe to repeat)."

    def add_arguments(self, parser):
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args, no_progress=False, **options):
        from reports.rollups import rebuild

        bars = []

        def progress(total, unit):
            if bars:
                bars[-1].close()
            bars.append(tqdm(total=total, unit=f" {unit}", desc=unit, file=self.stderr._out))
            return bars[-1]

        result = rebuild(progress=None if no_progress else progress)
        for bar in bars:
            bar.close()
        self.stdout.write(
            f"Rebuilt report rollups: {result['conversations']} conversations, "
            f"{result['days']} days."
        )
