# The care-journey service image: API (`journey serve`), outbox relay (`journey relay`)
# and projector (`journey project`) share it; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libpq for psycopg (PostgreSQL event store)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . /app
RUN pip install . \
 && useradd --system --uid 10001 journey
USER journey

EXPOSE 8000
CMD ["journey", "serve", "--host", "0.0.0.0"]
