FROM python:3.11-slim
# STATIC_ROOT: static files live in the image, outside the /data volume; STATIC_MANIFEST: served
# under hashed names from the manifest collectstatic writes below.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SWITCHBOARD_DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles STATIC_MANIFEST=true
WORKDIR /app
# The whole tree, minus what .dockerignore leaves out: a new package needs no line here
# (tests/config/test_image.py checks that every package reaches the image).
COPY . .
# Static files compressed, with hashed names and a manifest, baked into the image. The settings
# need a key and a data folder to load: throwaway ones, so no key is baked into the image.
RUN pip install --no-cache-dir . \
    && SECRET_KEY=collectstatic-only SWITCHBOARD_DATA_DIR=/tmp/build \
       python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build
RUN useradd --create-home switchboard && mkdir -p /data && chown switchboard /data
USER switchboard
EXPOSE 8000
# One web process: without REDIS_URL (embedded mode) a second one is refused (config/embedded.py).
# With REDIS_URL set, run more with --workers N or WEB_CONCURRENCY=N (docker-compose.yml).
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "on"]
