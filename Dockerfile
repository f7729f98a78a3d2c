# pressbot as a container: a non-root user, data (SQLite, outbox) in the /data volume.
#   docker build -t pressbot .
#   docker run -v pressbot-data:/data -p 8080:8080 -e MASTODON_TOKEN=… pressbot
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY channels ./channels
COPY templates ./templates
COPY config ./config
COPY examples ./examples
RUN pip install --no-compile . && useradd --system --home /data --uid 10001 pressbot \
    && mkdir -p /data && chown pressbot /data

USER pressbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# The bundled demo config unless /data/config/pressbot.toml or PRESSBOT_CONFIG says otherwise;
# listen on all interfaces inside the container.
ENV PRESSBOT_WEB__LISTEN=0.0.0.0:8080
STOPSIGNAL SIGTERM
CMD ["pressbot", "run"]
