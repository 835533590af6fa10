from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.services import create_api_token


class Command(BaseCommand):
    help = "Create an API token for a user (prints it once). Same usage as Django REST framework's."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "-r",
            "--reset",
            action="store_true",
            help="Revoke the user's earlier command-line tokens first.",
        )
        parser.add_argument("--name", default="command line")

    def handle(self, *args, username, reset, name, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"Cannot create the Token: user {username} does not exist") from exc
        if reset:
            ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
        _, key = create_api_token(user=user, name=name)
        self.stdout.write(f"Generated token {key} for user {username}")
