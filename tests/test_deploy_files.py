"""The deployment files say what docs/operations.md promises, checked by reading them.

CI has no Docker, so the Dockerfile, compose.yaml and .dockerignore are parsed here and held
to their promises (multi-stage, non-root, static files and translations built into the image,
health checks, no secret written down). gunicorn.conf.py is imported and its values checked.
When `docker` or `hadolint` is on the machine, they lint the files too. The S3 media setting
is checked by loading the settings in a fresh interpreter, as tests/test_settings.py does.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from .test_settings import PRODUCTION, import_settings

ROOT = Path(settings.BASE_DIR)
# What the image needs from the build context (Dockerfile: `COPY . .`).
IMAGE_NEEDS = [
    "pyproject.toml",
    "README.md",
    "manage.py",
    "gunicorn.conf.py",
    "hub/settings.py",
    "resources/models.py",
    "templates/base.html",
    "static/css",
    "locale/de/LC_MESSAGES/django.po",
]


# --- Dockerfile ---------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    pairs = []
    for line in logical.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "FROM":
            result.append([])
        if result:
            result[-1].append((instruction, arguments))
    return result


def test_the_image_is_built_in_two_stages_from_python_3_13_slim():
    built = stages()
    assert len(built) >= 2
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.13-slim", (ROOT / "Dockerfile").read_text())
    assert all(stage[0][1].startswith("${PYTHON_IMAGE}") for stage in built)
    # Compilers only in the builder.
    builder, runtime = built[0], built[-1]
    assert any("build-essential" in args for op, args in builder if op == "RUN")
    assert not any("build-essential" in args for op, args in runtime if op == "RUN")


def test_only_runtime_dependencies_are_installed():
    runs = " ".join(args for op, args in stages()[0] if op == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs)
    assert "[dev]" not in runs


def test_static_files_and_translations_are_built_into_the_image():
    builder_runs = " ".join(args for op, args in stages()[0] if op == "RUN")
    assert "manage.py collectstatic --noinput" in builder_runs
    assert "manage.py compile_translations" in builder_runs
    # The build-time secret is set for that command only, never as ENV/ARG of an image.
    for op, args in dockerfile_instructions():
        if op in {"ENV", "ARG"}:
            assert "SECRET_KEY" not in args
    runtime_copies = [args for op, args in stages()[-1] if op == "COPY"]
    assert any(args.startswith("--from=builder /app") for args in runtime_copies)


def test_the_server_runs_as_a_user_other_than_root():
    runtime = stages()[-1]
    users = [args for op, args in runtime if op == "USER"]
    assert users, "no USER in the runtime stage"
    assert users[-1].split(":")[0] not in {"root", "0"}
    cmd_at = max(i for i, (op, _) in enumerate(runtime) if op == "CMD")
    user_at = max(i for i, (op, _) in enumerate(runtime) if op == "USER")
    assert user_at < cmd_at


def test_the_image_runs_gunicorn_with_our_config_and_checks_its_health():
    runtime = dict(stages()[-1])
    assert json.loads(runtime["CMD"]) == ["gunicorn", "-c", "gunicorn.conf.py", "hub.wsgi"]
    assert runtime["EXPOSE"] == "8000"
    assert "/healthz" in runtime["HEALTHCHECK"]
    assert "GUNICORN_BIND=0.0.0.0:8000" in " ".join(
        args for op, args in stages()[-1] if op == "ENV"
    )


def test_the_build_context_leaves_out_secrets_and_local_data_but_not_the_code():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        verdict = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            bare = pattern.removeprefix("!").rstrip("/").removeprefix("**/")
            parts = Path(path).parts
            prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
            if any(fnmatch.fnmatch(p, bare) for p in prefixes) or fnmatch.fnmatch(parts[-1], bare):
                verdict = not negate
        return verdict

    for path in [".env", ".env.production", ".git/config", "db.sqlite3", "media/x.png"]:
        assert ignored(path), path
    for path in [".venv/bin/python", "node_modules/axe-core", "tests/test_models.py"]:
        assert ignored(path), path
    for path in IMAGE_NEEDS:
        assert (ROOT / path).exists(), path
        assert not ignored(path), f"{path} is needed in the image but .dockerignore drops it"


# --- compose.yaml -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML (installed with djlint) reads compose.yaml")
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_postgres_redis_a_migrate_job_and_the_web_server(compose: dict):
    services = compose["services"]
    assert set(services) >= {"db", "redis", "migrate", "web"}
    assert re.fullmatch(r"postgres:1[56](\..*)?", services["db"]["image"])
    assert re.fullmatch(r"redis:7(\..*)?", services["redis"]["image"])
    assert services["migrate"]["command"][-3:] == ["manage.py", "migrate", "--noinput"]
    assert services["web"]["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "hub.wsgi"]


def test_the_databases_have_health_checks_and_volumes(compose: dict):
    services = compose["services"]
    for name in ("db", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"
        volume = services[name]["volumes"][0].split(":")[0]
        assert volume in compose["volumes"], f"{name} keeps its data in a named volume"


def test_web_starts_after_healthy_databases_and_a_finished_migration(compose: dict):
    depends = compose["services"]["web"]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["migrate"]["restart"] == "no"


def test_the_app_runs_as_non_root_with_production_settings_from_the_environment(compose: dict):
    for name in ("web", "migrate"):
        service = compose["services"][name]
        assert service["user"].split(":")[0] not in {"root", "0"}
        env = service["environment"]
        assert env["DJANGO_DEBUG"] == "false"
        assert env["CACHE_URL"].startswith("redis://redis:6379/")
        assert env["DATABASE_URL"].startswith("postgres://hub:${POSTGRES_PASSWORD:?")
        assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
        assert env["DJANGO_ALLOWED_HOSTS"].startswith("${DJANGO_ALLOWED_HOSTS:?")
        assert any(v.endswith(":/data/media") for v in service["volumes"]), "shared media"


def test_compose_writes_down_no_secret(compose: dict):
    text = (ROOT / "compose.yaml").read_text()
    for match in re.finditer(r"^\s*([A-Z_]*(?:PASSWORD|SECRET|KEY)[A-Z_]*):\s*(.+)$", text, re.M):
        assert match.group(2).startswith("${"), match.group(0)
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    # Published on the loopback interface only: a TLS proxy goes in front.
    assert all(p.startswith("127.0.0.1:") for p in compose["services"]["web"]["ports"])


# --- Tools, when this machine has them ----------------------------------------------------


def test_docker_compose_accepts_the_file():
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run(  # noqa: S603 (a fixed command)
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        ).returncode
    ):
        pytest.skip("no docker compose here (CI has none): compose.yaml is checked by reading")
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "x",
        "DJANGO_ALLOWED_HOSTS": "x",
        "POSTGRES_PASSWORD": "x",
    }
    result = subprocess.run(  # noqa: S603 (a fixed command)
        [docker, "compose", "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_hadolint_accepts_the_dockerfile():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed here: the Dockerfile is checked by reading")
    result = subprocess.run(  # noqa: S603 (a fixed command)
        [hadolint, str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout


# --- gunicorn.conf.py ---------------------------------------------------------------------


def gunicorn_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in list(os.environ):
        if name.startswith("GUNICORN_") or name in {
            "HUB_LOG_FORMAT",
            "DJANGO_DEBUG",
            "CACHE_URL",
            "REDIS_URL",
            "HUB_PAGE_CACHE_SECONDS",
        }:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_defaults_suit_a_small_server(monkeypatch: pytest.MonkeyPatch):
    config = gunicorn_config(monkeypatch, CACHE_URL="redis://cache:6379/0")
    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["workers"] == 2 * len(os.sched_getaffinity(0)) + 1
    assert config["threads"] == 1
    assert config["timeout"] == 30
    assert config["max_requests"] > 0 and config["max_requests_jitter"] > 0
    # The hub logs requests itself (without query strings or addresses).
    assert config["accesslog"] is None
    assert config["logconfig_dict"]["loggers"]["gunicorn.access"]["handlers"] == []
    # Trusts X-Forwarded-* only from localhost unless told otherwise.
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"


def test_gunicorn_is_tuned_through_the_environment(monkeypatch: pytest.MonkeyPatch):
    config = gunicorn_config(
        monkeypatch,
        GUNICORN_BIND="0.0.0.0:9000",
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="60",
        GUNICORN_FORWARDED_ALLOW_IPS="10.0.0.5",
        HUB_LOG_FORMAT="text",
        CACHE_URL="redis://cache:6379/0",
    )
    assert config["bind"] == ["0.0.0.0:9000"]
    assert (config["workers"], config["threads"], config["timeout"]) == (3, 4, 60)
    assert config["forwarded_allow_ips"] == "10.0.0.5"
    assert "logconfig_dict" not in config  # readable text logs: gunicorn's own format


def test_gunicorn_without_a_shared_cache_runs_one_process_with_threads(
    monkeypatch: pytest.MonkeyPatch,
):
    """Cached pages live in the cache: per-process memory must not be split over workers."""
    config = gunicorn_config(monkeypatch)
    assert (config["workers"], config["threads"]) == (1, 2 * len(os.sched_getaffinity(0)) + 1)
    with pytest.raises(SystemExit, match="needs a shared cache"):
        gunicorn_config(monkeypatch, GUNICORN_WORKERS="3")
    # Without the page cache, nothing is shared through the cache that matters.
    config = gunicorn_config(monkeypatch, GUNICORN_WORKERS="3", HUB_PAGE_CACHE_SECONDS="0")
    assert config["workers"] == 3


def test_gunicorn_refuses_a_worker_count_that_is_not_a_number(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(SystemExit, match="GUNICORN_WORKERS must be a whole number"):
        gunicorn_config(monkeypatch, GUNICORN_WORKERS="many")


def test_gunicorn_accepts_the_config_and_loads_the_app():
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config", "hub.wsgi"],
        cwd=ROOT,
        env={**os.environ, **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


LOG_THROUGH_GUNICORN_CONFIG = """
import logging, logging.config, runpy
config = runpy.run_path("gunicorn.conf.py")
logging.config.dictConfig(config["logconfig_dict"])
logging.getLogger("gunicorn.error").warning("Worker timeout (pid: 42)")
logging.getLogger("gunicorn.access").info("GET /en/resources/?q=my+diagnosis 200")
"""


def test_gunicorn_messages_are_json_lines_and_access_lines_are_dropped():
    """Gunicorn's own messages in the hub's JSON; no access line (it would log queries)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "HUB_LOG"))}
    result = subprocess.run(  # noqa: S603 (fixed code)
        [sys.executable, "-c", LOG_THROUGH_GUNICORN_CONFIG],
        cwd=ROOT,
        env={**env, "DJANGO_DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["logger"], e["level"], e["message"]) for e in lines] == [
        ("gunicorn.error", "WARNING", "Worker timeout (pid: 42)")
    ]
    assert "diagnosis" not in result.stdout + result.stderr


# --- S3 media -----------------------------------------------------------------------------

STORAGES_AND_CSP = (
    "import json, hub.settings as s; "
    "print(json.dumps({'storages': s.STORAGES, 'img': s.SECURE_CSP['img-src']}, default=str))"
)


def storage_settings(**env: str | None) -> dict:
    clean = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DJANGO_"))
    }
    for key, value in {**PRODUCTION, **env}.items():
        if value is not None:
            clean[key] = value
    result = subprocess.run(  # noqa: S603 (our own settings, fixed code)
        [sys.executable, "-c", STORAGES_AND_CSP],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_media_stay_on_the_local_disk_unless_a_bucket_is_set():
    loaded = storage_settings()
    assert loaded["storages"]["default"]["BACKEND"] == (
        "django.core.files.storage.FileSystemStorage"
    )
    assert loaded["img"] == ["'self'", "data:"]


def test_a_bucket_moves_media_to_s3_and_static_files_stay_with_whitenoise():
    loaded = storage_settings(
        AWS_STORAGE_BUCKET_NAME="hub-media",
        AWS_S3_ENDPOINT_URL="https://s3.fr-par.scw.cloud",
        AWS_S3_REGION_NAME="fr-par",
    )
    default = loaded["storages"]["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    options = default["OPTIONS"]
    assert options["bucket_name"] == "hub-media"
    assert options["endpoint_url"] == "https://s3.fr-par.scw.cloud"
    assert options["region_name"] == "fr-par"
    assert options["default_acl"] is None
    assert options["querystring_auth"] is False
    assert options["file_overwrite"] is False
    assert "access_key" not in options and "secret_key" not in options
    assert loaded["storages"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    # Pages may show images from the bucket (Content-Security-Policy img-src).
    assert "https://s3.fr-par.scw.cloud" in loaded["img"]
    assert "https://hub-media.s3.fr-par.scw.cloud" in loaded["img"]


def test_a_custom_domain_is_the_only_extra_image_origin():
    loaded = storage_settings(
        DJANGO_MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="hub-media",
        AWS_S3_CUSTOM_DOMAIN="media.hub.example.org",
        AWS_QUERYSTRING_AUTH="true",
    )
    options = loaded["storages"]["default"]["OPTIONS"]
    assert options["custom_domain"] == "media.hub.example.org"
    assert options["querystring_auth"] is True
    assert loaded["img"] == ["'self'", "data:", "https://media.hub.example.org"]


def test_the_storage_class_is_built_from_these_options():
    """The options are ones django-storages accepts (a typo would only fail on upload)."""
    from django.core.files.storage import storages

    config = storage_settings(AWS_STORAGE_BUCKET_NAME="hub-media")["storages"]["default"]
    storage = storages.create_storage(config)
    assert storage.bucket_name == "hub-media"
    # Unsigned: the same address in every cached page, for as long as the page is kept.
    assert storage.url("resources/2026/a.webp") == (
        "https://hub-media.s3.amazonaws.com/resources/2026/a.webp"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_MEDIA_STORAGE": "s3"}, "needs AWS_STORAGE_BUCKET_NAME"),
        ({"DJANGO_MEDIA_STORAGE": "ftp"}, "DJANGO_MEDIA_STORAGE must be local or s3"),
        ({"AWS_STORAGE_BUCKET_NAME": "b", "AWS_QUERYSTRING_AUTH": "perhaps"}, "AWS_QUERYSTRING"),
        ({"AWS_STORAGE_BUCKET_NAME": "b", "AWS_S3_ENDPOINT_URL": "s3.example.org"}, "https://"),
    ],
)
def test_a_wrong_media_setting_stops_the_start_with_its_name(env, message):
    result = import_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


# --- .env.example -------------------------------------------------------------------------


def test_env_example_lists_every_variable_the_hub_reads():
    read = set()
    for path in [ROOT / "hub" / "settings.py", ROOT / "gunicorn.conf.py"]:
        text = path.read_text()
        read |= set(re.findall(r"env_(?:str|bool|int|list)\(\s*\"([A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"os\.environ(?:\.get)?[\[(]\"([A-Z0-9_]+)\"", text))
        read |= set(re.findall(r"_int\(\"([A-Z0-9_]+)\"", text))
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert read - listed == set(), "add these to .env.example"
    compose_vars = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    assert compose_vars - listed == set(), "compose.yaml reads these: add them to .env.example"
