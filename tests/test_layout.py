"""The house rules of docs/architecture.md that no linter checks by itself: imports form circles
only through a Celery task module and the service it runs, every module of the inbox core is
under the import contract, and no module outgrows one screenful of ideas (500 lines)."""

import tomllib
from pathlib import Path

import grimp
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["config", "core", "accounts", "inbox", "tagging", "routing", "integrations"]
PACKAGES += ["reports", "workspace", "loadgen"]
LONG_ALLOWED = {"inbox/models.py", "inbox/intake/adapters/email.py"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES)


def circles(graph, *, through_tasks: bool) -> list[list[str]]:
    """Strongly connected groups of modules (migrations left out). Without `through_tasks`, an
    import of a `*.tasks` module (a service enqueueing its task) is not followed."""
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges = {
        m: [
            i
            for i in graph.find_modules_directly_imported_by(m)
            if i in graph.modules
            and ".migrations" not in i
            and (through_tasks or not i.endswith(".tasks"))
        ]
        for m in modules
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(module):  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_imports_circle_only_through_a_task_and_its_service(graph):
    assert circles(graph, through_tasks=False) == []
    # The check can see a circle: the task/service pairs themselves are ones.
    assert ["inbox.events", "inbox.tasks"] in circles(graph, through_tasks=True)


def test_every_module_of_the_inbox_core_is_under_the_contract(graph):
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["type"] == "forbidden"]
    wings = {"inbox.intake", "inbox.outbound", "inbox.chat"}
    entry_points = {"inbox.apps", "inbox.management"}  # they wire the wings in, by design
    core = {
        module
        for module in graph.find_children("inbox")
        if module not in wings and module not in entry_points
    }
    assert core <= set(contract["source_modules"])
    assert set(contract["forbidden_modules"]) == wings


def test_no_module_outgrows_500_lines():
    long = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "tests/", "build/")) or "/migrations/" in relative:
            continue
        lines = len(path.read_text().splitlines())
        if lines > 500 and relative not in LONG_ALLOWED:
            long.append(f"{relative}: {lines}")
    assert long == []


def test_every_periodic_task_names_a_registered_task():
    from config.celery import app

    app.loader.import_default_modules()
    registered = set(app.tasks)
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in registered
    # Queued work and beat entries of the old names survive the move of their modules.
    for old_name in (
        "inbox.tasks.process_inbound_event",
        "inbox.tasks.drain_inbound_events",
        "inbox.tasks.deliver_message",
        "inbox.tasks.poll_imap_channels",
        "inbox.tasks.requeue_stalled",
        "inbox.tasks.dispatch_events",
    ):
        assert old_name in registered
