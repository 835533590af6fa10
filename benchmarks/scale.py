"""The steps that need a big inbox: the list API and the inbox page at 100,000 and 1,000,000
conversations (made by `manage.py generate_load`), bulk reassignment, and the live feed."""

import asyncio
import json
import re
import subprocess
import sys
import time

import httpx
import psycopg

from benchmarks.load import api_request
from benchmarks.stack import ROOT, Stack

USER = "alice"  # an agent of `support`: the list is scoped to her teams and her own
VIEWS = {
    "mine": "assignee=me",
    "unassigned": "unassigned=true",
    "team": "team=support",
    "tag=feature-request": "tag=feature-request",
    "sla_breached": "sla_breached=true",
    "full-text q": "q=invoice",
}
# The search panel of the list step: words of every frequency in generate_load's texts (a rare
# order number, 0.1%; a middling word, 0.5%; a common one, 54%; two words that go together,
# 1.7%; none), each in the views an agent searches from.
SEARCH_WORDS = {
    "rare": "1168",
    "middling": "mobile",
    "common": "invoice",
    "two words": "dark+mode",
    "no match": "zebra",
}
SEARCH_VIEWS = {
    "mine": "assignee=me&",
    "all": "",
    "team": "team=support&",
    "unassigned": "unassigned=true&",
}


def list_api_paths() -> dict[str, str]:
    """The list step's API paths by name: the six views, then the search panel."""
    paths = {name: f"/api/v1/conversations/?{query}" for name, query in VIEWS.items()}
    for kind, word in SEARCH_WORDS.items():
        for view, filters in SEARCH_VIEWS.items():
            paths[f"q {kind} ({word}), {view}"] = f"/api/v1/conversations/?{filters}q={word}"
    return paths


# The page brings its sidebar counts right after it (htmx, on load): timed as a request of its own.
SIDEBAR = {"sidebar counts": "/inbox/sidebar/"}


# `--sizes 100000` (python -m benchmarks) narrows the list and page steps to some sizes.
ONLY_SIZES: list[int] = []


def sizes(quick: bool) -> list[int]:
    if ONLY_SIZES:
        return ONLY_SIZES
    return [1_000, 2_000] if quick else [100_000, 1_000_000]


def clear_conversations(stack: Stack) -> None:
    """Start the big-inbox steps from an empty inbox (earlier steps left their own rows)."""
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE inbox_conversation, inbox_contact, inbox_contactidentity, "
            "inbox_inboundevent, inbox_event CASCADE"
        )


def generate_load(stack: Stack, run: str, total: int) -> dict:
    """`manage.py generate_load` in its own process, to `total` conversations of `run`: what it
    reports (new conversations, its seconds and rate) and the wall time with its start."""
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "manage.py", "generate_load", "--run", run,
         "--conversations", str(total), "--no-progress"],
        cwd=ROOT, env=stack.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - began
    rate = re.search(r"\(([\d,]+) new in ([\d.]+) s, ([\d,]+)/s", out.stdout)
    return {
        "generated": int(rate.group(1).replace(",", "")) if rate else None,
        "seconds": float(rate.group(2)) if rate else None,
        "per_s": int(rate.group(3).replace(",", "")) if rate else None,
        "wall_s": round(wall, 2),
    }


def populate(stack: Stack, total: int) -> dict:
    """Grow the benchmark's run to `total` conversations (the run continues where it was)."""
    made = generate_load(stack, "bench", total)
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        count = conn.execute("SELECT count(*) FROM inbox_conversation").fetchone()[0]
    return {
        "conversations": count,
        "generated": made["generated"],
        "generate_s": round(made["wall_s"], 1),
        "generated_per_s": made["per_s"],
    }


def login(client: httpx.Client, base_url: str, username: str) -> None:
    page = client.get("/login/").text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login/",
        data={"username": username, "password": "demo", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base_url}/login/"},
    )
    if "sessionid" not in client.cookies:
        raise RuntimeError(f"could not log in as {username}: {response.status_code}")


def percentiles(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "p50_ms": round(times[len(times) // 2], 1),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
    }


def queries_per_request(stack: Stack, paths: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.queries", "--user", USER, *paths],
        cwd=ROOT, env=stack.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def time_paths(stack: Stack, paths: dict, repeats: int, counted: dict) -> dict:
    """Sequential requests from one client in this process (not the server's), logged in."""
    out = {}
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        login(client, stack.base_url, USER)
        for name, path in paths.items():
            client.get(path)  # warm
            times = []
            cpu_before = stack.cpu()["web"]
            for _ in range(repeats):
                began = time.perf_counter()
                response = client.get(path)
                times.append(1000 * (time.perf_counter() - began))
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
            out[name] = percentiles(times)
            # The web process's own CPU per request: unlike the wall-clock figures, it does not
            # move with what else the box runs (clock ticks of 10 ms: an average over `repeats`).
            cpu_ms = 1000 * (stack.cpu()["web"] - cpu_before) / repeats
            out[name]["web_cpu_ms"] = round(cpu_ms, 1)
            if path.startswith("/api/"):  # how many rows the first page showed
                out[name]["rows"] = len(response.json()["results"])
    for name, path in paths.items():
        out[name]["queries"] = counted[path]["queries"]
        out[name]["path"] = path
    return out


def bench_list_and_page(stack: Stack, quick: bool, *, api: bool, page: bool) -> dict:
    clear_conversations(stack)
    repeats = 2 if quick else 30
    results: dict = {"list": {}, "page": {}, "data": {}}
    for size in sizes(quick):
        results["data"][str(size)] = populate(stack, size)
        api_paths = list_api_paths() if api else {}
        page_paths = {**{n: f"/inbox/?{q}" for n, q in VIEWS.items()}, **SIDEBAR} if page else {}
        counted = queries_per_request(stack, [*api_paths.values(), *page_paths.values()])
        if api:
            results["list"][str(size)] = time_paths(stack, api_paths, repeats, counted)
        if page:
            results["page"][str(size)] = time_paths(stack, page_paths, repeats, counted)
    return results


def bench_bulk(stack: Stack, quick: bool) -> dict:
    """Reassign N open conversations of `support` to bob through the API, as the lead does."""
    count = 100 if quick else 10_000
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM inbox_conversation").fetchone()[0]
        if have < count:
            clear_conversations(stack)
            populate(stack, count * 3)
        support, bob = conn.execute(
            "SELECT (SELECT id FROM accounts_team WHERE slug = 'support'), "
            "(SELECT id FROM accounts_user WHERE username = 'bob')"
        ).fetchone()
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM inbox_conversation WHERE team_id = %s "
                "AND assignee_id IS DISTINCT FROM %s ORDER BY id DESC LIMIT %s",
                [support, bob, count],
            )
        ]
    with httpx.Client(base_url=stack.base_url, timeout=120) as client:
        login(client, stack.base_url, "lead")
        began = time.perf_counter()
        response = client.post(
            "/api/v1/conversations/bulk/",
            json={"ids": ids, "action": "assign", "team": "support", "assignee": "bob",
                  "reason": "benchmark"},
            headers={"X-CSRFToken": client.cookies["csrftoken"], "Referer": stack.base_url},
        )  # fmt: skip
        took = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"bulk reassign answered {response.status_code}: {response.text[:300]}")
    body = response.json()
    return {
        "conversations": len(ids),
        "updated": len(body.get("updated", [])),
        "seconds": round(took, 2),
    }


async def _live(stack: Stack, count: int) -> dict:
    import websockets

    with httpx.Client(base_url=stack.base_url, timeout=30) as sync_client:
        login(sync_client, stack.base_url, "admin")  # sees every channel's conversations
        session = sync_client.cookies["sessionid"]
    received: asyncio.Queue = asyncio.Queue()
    url = stack.base_url.replace("http://", "ws://") + "/ws/agent/"
    latencies, missed = [], 0
    async with websockets.connect(
        url,
        additional_headers={"Cookie": f"sessionid={session}", "Origin": stack.base_url},
    ) as ws:

        async def reader():
            async for raw in ws:
                received.put_nowait((time.perf_counter(), json.loads(raw)))

        task = asyncio.create_task(reader())
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
            for n in range(count):
                while not received.empty():  # whatever the previous message still sent
                    received.get_nowait()
                body, headers = api_request("demo-api-secret", 900_000 + n)
                response = await client.post("/webhooks/api/api/", content=body, headers=headers)
                acked = time.perf_counter()
                if response.status_code >= 300:
                    raise RuntimeError(f"webhook answered {response.status_code}")
                while True:
                    try:
                        at, event = await asyncio.wait_for(received.get(), timeout=10)
                    except TimeoutError:
                        missed += 1
                        break
                    if (event.get("event") or {}).get("type") == "message.created":
                        latencies.append(max(at - acked, 0.0) * 1000)
                        break
        task.cancel()
    return {"messages": count, "missed": missed, **(percentiles(latencies) if latencies else {})}


def bench_live(stack: Stack, quick: bool) -> dict:
    return asyncio.run(_live(stack, 10 if quick else 200))
