# Production image: web (gunicorn), Celery worker and beat all run from this one image.
# docker-compose.yml wires it to PostgreSQL and Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    MEDIA_ROOT=/app/media

WORKDIR /app

# Dependencies first, so that code changes do not reinstall them. Every wheel is pinned by hash.
COPY requirements/base.txt requirements/base.txt
RUN python -m pip install --upgrade pip \
    && python -m pip install --require-hashes -r requirements/base.txt

COPY . .

# Static files are collected at build time (whitenoise serves them); no database is needed.
RUN DJANGO_SETTINGS_MODULE=config.settings.base SECRET_KEY=collectstatic-only \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home app \
    && mkdir -p /app/media \
    && chown -R app:app /app/media

USER app

EXPOSE 8000

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--no-control-socket"]
