# One image for both Render services: the web runs docker/web-entrypoint.sh, the worker
# docker/worker-entrypoint.sh (see render.yaml).
#
# PYTHON_IMAGE picks the base; its Python minor must match requires-python (3.11), the
# one the tests run on.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv from the hashed lock, wheels only -------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY requirements/base.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile --only-binary=:all: --require-hashes \
        -r /tmp/requirements.txt

# --- runtime: the virtualenv, the code, a non-root user; no compilers ----------------------
FROM ${PYTHON_IMAGE} AS runtime
# MALLOC_MMAP_THRESHOLD_: freed password-hashing memory goes back to the system at once
# (docker/web-entrypoint.sh says why).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=10000 \
    MALLOC_MMAP_THRESHOLD_=131072
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY . /app
# collectstatic needs settings in production mode; these placeholders are not secrets and
# exist only for this command: the services get their real values from Render.
RUN DJANGO_ENV=production \
    SECRET_KEY=collectstatic-build-placeholder-not-a-secret \
    DATABASE_URL=postgresql://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var/mail && chown -R app:app /app/var
USER 10001:10001
EXPOSE 10000
CMD ["docker/web-entrypoint.sh"]
