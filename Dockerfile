FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GATEWAY_HTTP_HOST=0.0.0.0 \
    GATEWAY_SMTP_HOST=0.0.0.0 \
    GATEWAY_DATABASE_URL=sqlite+aiosqlite:////data/parley.db \
    GATEWAY_BLOB_DIR=/data/blobs

RUN useradd --system --create-home --uid 10001 parley \
    && mkdir /data && chown parley /data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY gateway ./gateway
COPY channels ./channels
COPY migrations ./migrations
RUN pip install .

USER parley
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000 2525

HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"GATEWAY_HTTP_PORT\", \"8000\")}/healthz', timeout=2)"

ENTRYPOINT ["gateway"]
CMD ["serve"]
