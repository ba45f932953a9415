# attendance_bot in a container (README: "Docker"). Build: `docker build -t attendance-bot .`
# Debian's Python 3.11 on debian:bookworm-slim; the requirements in a virtual environment built in a
# stage of its own, so the image has no pip cache, compiler or build-time certificate.

FROM debian:bookworm-slim AS base
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 ca-certificates tini \
    && rm -rf /var/lib/apt/lists/*

FROM base AS build
# Extra CA certificates (PEM text) for a build behind a TLS-inspecting proxy; only this stage trusts them.
ARG EXTRA_CA_CERTS=""
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN if [ -n "$EXTRA_CA_CERTS" ]; then \
        printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/build-extra.crt \
        && update-ca-certificates; \
    fi
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The requirements first, in a layer of their own: a change to the code alone rebuilds from the next step.
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/attendance-bot && /opt/attendance-bot/bin/pip install -r /tmp/requirements.txt
# The package itself (`pip install .`): its attendance-bot command is manage.py.
COPY pyproject.toml setup.cfg README.md /src/
COPY attendance_bot /src/attendance_bot
RUN /opt/attendance-bot/bin/pip install --no-deps /src

FROM base
ARG UID=10001
# The bot's own user (no login, no home beyond its data) and its data folder, a volume: the SQLite
# database, the demo's and the backups. The command runs in /app, whose data/ folder is /data.
RUN groupadd --system --gid "$UID" attendance \
    && useradd --system --uid "$UID" --gid attendance --home-dir /data --shell /usr/sbin/nologin attendance \
    && mkdir -m 0700 /data && chown attendance:attendance /data \
    && mkdir /app && ln -s /data /app/data
COPY --from=build /opt/attendance-bot /opt/attendance-bot
ENV PATH=/opt/attendance-bot/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib
WORKDIR /app
USER attendance
VOLUME /data
# The projector page and /healthz (WEB_PORT); publish it on 127.0.0.1 only, with WEB_BIND=0.0.0.0 inside.
EXPOSE 8765
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('WEB_PORT') or '8765'), timeout=4)"
# tini is PID 1: it passes SIGTERM on to the bot (which stops within 5 s) and reaps the report's processes.
ENTRYPOINT ["tini", "--", "attendance-bot"]
CMD ["run"]
