# pressbot as a container: a non-root user, data (SQLite, outbox) in the /data volume.
#   docker build -t pressbot .
#   docker run --rm -it -v pressbot-data:/data pressbot pressbot users add alice --role admin
#   docker run -d --name pressbot -v pressbot-data:/data -p 127.0.0.1:8080:8080 \
#       -e MASTODON_TOKEN=… pressbot
# deploy/compose.yaml runs two replicas against PostgreSQL.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# the runtime dependencies pinned as tested (deploy/constraints.py writes the file)
COPY constraints.txt ./
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY channels ./channels
COPY templates ./templates
COPY config ./config
COPY examples ./examples
RUN pip install --no-compile --constraint constraints.txt . \
    && useradd --system --home /data --uid 10001 pressbot \
    && mkdir -p /data && chown pressbot /data

USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# The bundled demo config unless /data/config/pressbot.toml or PRESSBOT_CONFIG says otherwise;
# listen on all interfaces inside the container.
ENV PRESSBOT_WEB__LISTEN=0.0.0.0:8080
# alive while /healthz says ok or degraded (see bot/healthcheck.py); the first start may
# create or upgrade the schema, hence the start period
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]
STOPSIGNAL SIGTERM
CMD ["pressbot", "run"]
