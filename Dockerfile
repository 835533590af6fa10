FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SWITCHBOARD_DATA_DIR=/data
WORKDIR /app
# The whole tree, minus what .dockerignore leaves out: a new package needs no line here
# (tests/config/test_image.py checks that every package reaches the image).
COPY . .
RUN pip install --no-cache-dir . && python manage.py collectstatic --noinput -v0
RUN useradd --create-home switchboard && mkdir -p /data && chown switchboard /data
USER switchboard
EXPOSE 8000
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
