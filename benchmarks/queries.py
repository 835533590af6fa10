"""SQL queries per request, counted honestly: the same request through Django's test client, in
this separate process, against the benchmark's database, with CaptureQueriesContext. The served
processes never count anything (no debug mode, no header).

python -m benchmarks.queries --user alice PATH [PATH ...]  -> one JSON line {path: {status, queries}}
"""

import argparse
import json
import os
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", required=True)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=args.user))
    out = {}
    for path in args.paths:
        client.get(path)  # warm: what a first request loads once per process is not per request
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        out[path] = {"status": response.status_code, "queries": len(captured.captured_queries)}
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
