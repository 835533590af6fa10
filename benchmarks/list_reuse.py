"""The list API step on a database that is already populated (`manage.py generate_load`): no
reset, no truncation, so a change can be timed against the same 1,000,000 conversations again.

python -m benchmarks.list_reuse --database bench_me --redis-url redis://127.0.0.1:6379/3 [--repeats 60]
"""

import argparse
import json
import sys

from benchmarks.scale import list_api_paths, queries_per_request, time_paths
from benchmarks.stack import Stack


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    paths = list_api_paths()
    stack = Stack(database=args.database, redis_url=args.redis_url)
    stack.start()
    try:
        counted = queries_per_request(stack, list(paths.values()))
        results = time_paths(stack, paths, args.repeats, counted)
    finally:
        stack.stop()
    sys.stdout.write(json.dumps(results) + "\n")  # one line: the last of the output


if __name__ == "__main__":
    main()
