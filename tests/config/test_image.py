"""The container image holds every package of the repository.

The old Dockerfile listed packages one `COPY` at a time and forgot `reports/`, so the image could
not start. These tests read the Dockerfile, .dockerignore and pyproject.toml as text (no Docker
needed) and name every top-level package that would miss the image: not copied, excluded from the
build context, or not installed by setuptools. Packages are found on disk, so a new one is
demanded as soon as it exists.
"""

import fnmatch
import json
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = {"tests", "benchmarks"}
# What the Dockerfile's own steps read: `pip install .` (pyproject, its readme), collectstatic.
BUILD_INPUTS = ["pyproject.toml", "README.md", "manage.py", "templates", "static"]


def top_level_packages(root: Path = ROOT) -> list[str]:
    return sorted(
        d.name
        for d in root.iterdir()
        if d.is_dir() and (d / "__init__.py").is_file() and d.name not in NOT_SHIPPED
    )


def shipped_files(root: Path, name: str) -> list[str]:
    """Paths (relative, `/`-separated) of the files under `name` the image needs."""
    path = root / name
    if path.is_file():
        return [name]
    return sorted(
        p.relative_to(root).as_posix()
        for p in path.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


# --- Dockerfile --------------------------------------------------------------------------------


def copy_sources(dockerfile: str) -> list[str]:
    """The build-context sources of every COPY/ADD (not `--from=` another stage)."""
    text = re.sub(r"\\\n", " ", dockerfile)
    sources = []
    for line in text.splitlines():
        match = re.match(r"\s*(COPY|ADD)\s+(.*)", line, re.IGNORECASE)
        if not match:
            continue
        rest = match.group(2).strip()
        args = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        flags = [a for a in args if a.startswith("--")]
        if any(f.startswith("--from") for f in flags):
            continue
        paths = [a for a in args if not a.startswith("--")]
        sources += paths[:-1]  # the last one is the destination
    return sources


def copied(sources: list[str], path: str) -> bool:
    for source in sources:
        source = source.removeprefix("./").rstrip("/") or "."
        if source == ".":
            return True
        head = path.split("/")[0]
        if source == path or fnmatch.fnmatchcase(head, source) or path.startswith(source + "/"):
            return True
    return False


# --- .dockerignore (Docker's rules: last matching line wins, `!` re-includes, a match on a
# directory takes everything under it) ----------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def ignore_rules(dockerignore: str) -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in dockerignore.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        pattern = re.sub(r"/+", "/", pattern).removeprefix("./")
        rules.append((negated, _pattern_regex(pattern)))
    return rules


def ignored(rules, path: str) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negated
    return excluded


# --- pyproject.toml ----------------------------------------------------------------------------


def installed_by_setuptools(pyproject: dict, package: str) -> bool:
    find = pyproject.get("tool", {}).get("setuptools", {}).get("packages", {}).get("find", {})
    include = find.get("include", ["*"])
    exclude = find.get("exclude", [])
    return any(fnmatch.fnmatchcase(package, p) for p in include) and not any(
        fnmatch.fnmatchcase(package, p) for p in exclude
    )


def missing_from_image(root: Path, dockerfile: str, dockerignore: str, pyproject: dict) -> dict:
    """{package or build input: why the image would lack it}; empty when nothing is missing."""
    sources = copy_sources(dockerfile)
    rules = ignore_rules(dockerignore)
    problems = {}
    for name in [*top_level_packages(root), *BUILD_INPUTS]:
        files = shipped_files(root, name)
        if not copied(sources, name):
            problems[name] = "not copied by the Dockerfile"
        elif dropped := [f for f in files if ignored(rules, f)]:
            problems[name] = f"excluded by .dockerignore: {', '.join(dropped[:3])}"
        elif name not in BUILD_INPUTS and not installed_by_setuptools(pyproject, name):
            problems[name] = "not in [tool.setuptools.packages.find] include"
    return problems


def read(name: str) -> str:
    path = ROOT / name
    return path.read_text() if path.exists() else ""


def test_every_package_reaches_the_image():
    problems = missing_from_image(
        ROOT, read("Dockerfile"), read(".dockerignore"), tomllib.loads(read("pyproject.toml"))
    )
    assert problems == {}


def test_packages_are_found_on_disk():
    packages = top_level_packages()
    assert {"config", "accounts", "inbox", "reports"} <= set(packages)
    assert not NOT_SHIPPED & set(packages)


def test_the_dockerfile_copies_the_whole_tree():
    assert "." in [
        s.removeprefix("./").rstrip("/") or "." for s in copy_sources(read("Dockerfile"))
    ]


def test_tests_and_local_state_stay_out_of_the_build_context():
    rules = ignore_rules(read(".dockerignore"))
    for path in ["tests/conftest.py", "var/test/db.sqlite3", ".venv/bin/python", ".git/HEAD"]:
        assert ignored(rules, path), path
    assert ignored(rules, "inbox/__pycache__/models.cpython-311.pyc")
    assert ignored(rules, "benchmarks/results/run.json")


# --- the checker itself, on the mistakes it exists to catch -----------------------------------

# The Dockerfile as it was until the image broke: one COPY per package, and no reports/.
OLD_DOCKERFILE = """\
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SWITCHBOARD_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY accounts ./accounts
COPY inbox ./inbox
COPY tagging ./tagging
COPY routing ./routing
COPY integrations ./integrations
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install --no-cache-dir . && python manage.py collectstatic --noinput -v0
"""


PACKAGES = ["config", "accounts", "inbox", "reports"]


@pytest.fixture
def tree(tmp_path):
    for package in [*PACKAGES, *NOT_SHIPPED]:
        (tmp_path / package / "migrations").mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "migrations" / "__init__.py").write_text("")
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "app.css").write_text("")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "base.html").write_text("")
    for name in ["pyproject.toml", "README.md", "manage.py"]:
        (tmp_path / name).write_text("")
    return tmp_path


def complete(*packages):
    return {"tool": {"setuptools": {"packages": {"find": {"include": list(packages)}}}}}


def test_the_old_dockerfile_would_have_failed():
    problems = missing_from_image(
        ROOT, OLD_DOCKERFILE, read(".dockerignore"), tomllib.loads(read("pyproject.toml"))
    )
    assert problems["reports"] == "not copied by the Dockerfile"
    assert "inbox" not in problems


@pytest.mark.parametrize(
    ("dockerfile", "dockerignore", "include", "missing"),
    [
        ("COPY . .", "tests/\nvar/", ["config*", "accounts*"], {"inbox", "reports"}),
        ("COPY . /app", "reports", ["*"], {"reports"}),
        ("COPY ./ ./", "**/migrations", ["*"], set(PACKAGES)),
        ("COPY . .", "*\n!config\n!accounts\n!inbox", ["*"], {"reports", *BUILD_INPUTS}),
        ("COPY . .", "*\n!*", ["*"], set()),
        ("COPY --from=build /src /app", "", ["*"], {*PACKAGES, *BUILD_INPUTS}),
        (f"COPY {json.dumps([*PACKAGES, *BUILD_INPUTS, './'])}", "", ["*"], set()),
    ],
)
def test_the_checker_names_what_would_be_missing(tree, dockerfile, dockerignore, include, missing):
    pyproject = complete(*include)
    assert set(missing_from_image(tree, dockerfile, dockerignore, pyproject)) == missing


def test_a_new_package_is_demanded_as_soon_as_it_exists(tree):
    listed = OLD_DOCKERFILE + "COPY reports ./reports\n"
    pyproject = complete("config*", "accounts*", "inbox*", "reports*")
    assert missing_from_image(tree, listed, "", pyproject) == {}
    (tree / "workspace").mkdir()
    (tree / "workspace" / "__init__.py").write_text("")
    assert missing_from_image(tree, listed, "", pyproject) == {
        "workspace": "not copied by the Dockerfile"
    }
    assert missing_from_image(tree, "COPY . .", "", pyproject) == {
        "workspace": "not in [tool.setuptools.packages.find] include"
    }


# --- what the image and the compose file run ---------------------------------------------------


def dockerfile_instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    lines = [line for line in dockerfile.splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    return [
        (m.group(1).upper(), m.group(2).strip())
        for m in (re.match(r"\s*([A-Za-z]+)\s+(.*)", line) for line in text.splitlines())
        if m
    ]


def image_env(dockerfile: str) -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile_instructions(dockerfile):
        if instruction == "ENV":
            env.update(part.split("=", 1) for part in shlex.split(args))
    return env


def web_workers(command: list[str], env: dict) -> int:
    """How many processes uvicorn starts for this command (its own rules: --workers, else
    $WEB_CONCURRENCY, else 1)."""
    for i, arg in enumerate(command):
        if arg == "--workers":
            return int(command[i + 1])
        if arg.startswith("--workers="):
            return int(arg.split("=", 1)[1])
    return int(env.get("WEB_CONCURRENCY") or 1)


def test_the_image_starts_one_web_process():
    dockerfile = read("Dockerfile")
    [cmd] = [json.loads(a) for i, a in dockerfile_instructions(dockerfile) if i == "CMD"]
    env = image_env(dockerfile)
    assert cmd[:2] == ["uvicorn", "config.asgi:application"]
    assert "REDIS_URL" not in env  # embedded mode unless the operator sets it
    assert web_workers(cmd, env) == 1


def test_the_image_bakes_compressed_static_files_with_a_manifest_outside_the_data_volume():
    dockerfile = read("Dockerfile")
    env = image_env(dockerfile)
    assert env["STATIC_MANIFEST"] == "true"
    assert not env["STATIC_ROOT"].startswith(env["SWITCHBOARD_DATA_DIR"])
    [build] = [a for i, a in dockerfile_instructions(dockerfile) if "collectstatic" in a]
    # The settings' key and data folder at build time are throwaway: no key lands in the image.
    assert "SECRET_KEY=" in build and "SWITCHBOARD_DATA_DIR=" in build


def compose() -> dict:
    import yaml

    return yaml.safe_load(read("docker-compose.yml"))


def interpolate(value: str, env: dict) -> str:
    """Compose's variable substitution: ${X}, ${X:-default}, ${X:?error}, $X; $$ is a `$`."""

    def substitute(match: re.Match) -> str:
        name, op, arg = (
            match.group("name") or match.group("bare"),
            match.group("op"),
            match.group("arg"),
        )
        if op == ":-" and not env.get(name):
            return arg
        if op == ":?" and not env.get(name):
            raise KeyError(arg)
        return env.get(name, "")

    pattern = r"\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>\w+)"
    return "$".join(re.sub(pattern, substitute, part) for part in value.split("$$"))


def service_env(service: dict, env: dict) -> dict:
    return {k: interpolate(str(v), env) for k, v in service.get("environment", {}).items()}


def test_compose_runs_several_web_processes_only_in_distributed_mode():
    host = {"SECRET_KEY": "x" * 50}
    for name, service in compose()["services"].items():
        command = service.get("command") or []
        if "uvicorn" in command:
            env = service_env(service, host)
            assert env.get("REDIS_URL") or web_workers(command, env) == 1, name


def run_migrate_service(tmp_path, **host_env) -> list[str]:
    """The compose `migrate` command, run by a real shell with the environment compose would give
    it; a stand-in `python` records each manage.py command."""
    service = compose()["services"]["migrate"]
    env = service_env(service, {"SECRET_KEY": "x" * 50, **host_env})
    command = [interpolate(part, {}) for part in service["command"]]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "ran"
    (bin_dir / "python").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    (bin_dir / "python").chmod(0o755)
    env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    subprocess.run(command, env=env, check=True, cwd=tmp_path)
    return log.read_text().splitlines()


@pytest.mark.parametrize("seed_demo", [None, "0", ""])
def test_compose_loads_no_demo_data_unless_asked(tmp_path, seed_demo):
    host_env = {} if seed_demo is None else {"SEED_DEMO": seed_demo}
    assert run_migrate_service(tmp_path, **host_env) == ["manage.py migrate --noinput"]


def test_seed_demo_1_loads_the_demo(tmp_path):
    assert run_migrate_service(tmp_path, SEED_DEMO="1") == [
        "manage.py migrate --noinput",
        "manage.py seed_demo",
    ]
