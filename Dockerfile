# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

# Front-end libraries (Chart.js, htmx) come from the npm registry, pinned by the lock file.
COPY package.json package-lock.json* ./
RUN if [ -f package.json ]; then npm ci --omit=dev --no-audit --no-fund; fi

COPY . .
# collectstatic needs settings but no database or broker; the throw-away key is not kept in the image.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput

RUN useradd --create-home --uid 10001 kneerehab && mkdir -p /app/media && chown -R kneerehab /app
USER kneerehab

EXPOSE 8000
# Web, worker and beat refuse to start without a real SECRET_KEY (DEBUG is off): pass one at run time,
# e.g. `docker run -e SECRET_KEY=… -e ALLOWED_HOSTS=…`; docker-compose.yml requires it.
CMD ["gunicorn", "kneerehab.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
