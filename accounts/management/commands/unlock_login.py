from django.core.management.base import BaseCommand, CommandError

from accounts.lockout import unlock_login


class Command(BaseCommand):
    help = "Lift the login lockout of an account (its failed logins in the current window)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not unlock_login(username):
            raise CommandError("The cache is unreachable; nothing was cleared.")
        self.stdout.write(f"Login failures of {username} cleared.")
