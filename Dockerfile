# syntax=docker/dockerfile:1
# Production image of the Physical Activity Resource Hub.
#
#   docker compose up -d --build        # with PostgreSQL and Redis (compose.yaml, docs/operations.md)
#   docker build -t activity-hub .      # the image alone
#
# Two stages: the builder has compilers and pip; the runtime image has only the virtualenv,
# the code, the compiled translations and the collected static files, and runs as a user
# that cannot change any of them. Migrations are not run here: compose.yaml has a one-shot
# `migrate` service (elsewhere: `python manage.py migrate` once per release, before the
# new web servers start).

ARG PYTHON_IMAGE=python:3.13-slim

# --- builder ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# Compilers only for a dependency without a wheel for this platform; they stay in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv

WORKDIR /app
# Dependencies first, so this layer is rebuilt only when pyproject.toml changes. `pip install .`
# installs the runtime dependencies only, never the [dev] extra (tests, linters, locust).
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# Translations and static files are built into the image, so every container of one release
# serves identical hashed file names. Settings need a secret to load: this one exists only
# for these two commands and is not kept in any layer's environment.
RUN export DJANGO_DEBUG=false \
        DJANGO_SECRET_KEY=build-time-only-not-used-at-runtime \
        DJANGO_ALLOWED_HOSTS=localhost \
    && python manage.py compile_translations \
    && python manage.py collectstatic --noinput -v0 \
    && python -m compileall -q hub resources manage.py gunicorn.conf.py

# --- runtime ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_DEBUG=false \
    DJANGO_MEDIA_ROOT=/data/media \
    GUNICORN_BIND=0.0.0.0:8000

# A system user without a shell or home. Numeric ids, so orchestrators can check
# "runAsNonRoot". Only the media folder is writable by it (a volume in compose.yaml).
RUN groupadd --system --gid 10001 hub \
    && useradd --system --uid 10001 --gid hub --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin hub \
    && mkdir -p /data/media \
    && chown hub:hub /data/media

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
WORKDIR /app

USER 10001:10001

EXPOSE 8000

# Liveness only (/healthz touches neither database nor cache). The Host header must be one
# the hub accepts, so the first entry of DJANGO_ALLOWED_HOSTS is sent.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; hosts = [h.strip().lstrip('.') for h in os.environ.get('DJANGO_ALLOWED_HOSTS', '').split(',') if h.strip() not in ('', '*')]; u.urlopen(u.Request('http://127.0.0.1:8000/healthz', headers={'Host': (hosts or ['localhost'])[0]}), timeout=4)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "hub.wsgi"]
