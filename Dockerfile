# syntax=docker/dockerfile:1
# Fluxion in a container: built in a Rust image, run as UID 1000 from a slim
# Debian image with espeak-ng (the offline voice). Meant for a read-only root
# filesystem (`docker run --read-only`, compose.yaml, deploy/k8s): everything
# Fluxion writes goes to the /data volume (SQLite database, daily backups,
# phrase cache) and /tmp; speech models are read from the /models volume.
# With DATABASE_URL=postgres://… the database lives in PostgreSQL instead.

FROM rust:1-bookworm AS build
# whisper.cpp (local speech-to-text) needs cmake and a C++ compiler.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p fluxion --features fluxion/silero \
    && install -m 0755 target/release/fluxion /usr/local/bin/fluxion

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng ca-certificates curl libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 1000 fluxion \
    && useradd --uid 1000 --gid 1000 --home-dir /data --no-create-home --shell /usr/sbin/nologin fluxion \
    && mkdir -p /data /models \
    && chown 1000:1000 /data /models \
    && chmod 0700 /data
COPY --from=build /usr/local/bin/fluxion /usr/local/bin/fluxion
ENV FLUXION_HOST=0.0.0.0 \
    FLUXION_PORT=3002 \
    FLUXION_DB=/data/fluxion.db \
    BACKUP_DIR=/data/backups \
    FLUXION_CACHE_DIR=/data/cache \
    FLUXION_MODELS_DIR=/models \
    HOME=/data
VOLUME ["/data", "/models"]
USER 1000:1000
WORKDIR /data
EXPOSE 3002
# SIGTERM drains: new calls are refused, calls in progress finish (SHUTDOWN_DRAIN_MS).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3002/health"]
ENTRYPOINT ["fluxion"]
CMD ["serve"]
