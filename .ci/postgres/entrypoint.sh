#!/bin/sh
# CI only: postgres:16-alpine's start, in short. The first start makes the cluster (password
# authentication over TCP, UTF-8 as the official image has it) and the database; every start then
# runs the server in the foreground.
# POSTGRES_LISTEN_ADDRESSES (default *) is where it listens: 127.0.0.1 on the host's network.
set -eu
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    password=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$password"
    initdb --username="$POSTGRES_USER" --pwfile="$password" --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$password"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    pg_ctl --wait --silent --options="-c listen_addresses=''" start
    if [ "$POSTGRES_DB" != postgres ]; then
        createdb --username="$POSTGRES_USER" "$POSTGRES_DB"
    fi
    pg_ctl --wait --silent --mode=fast stop
fi
exec postgres -c listen_addresses="${POSTGRES_LISTEN_ADDRESSES:-*}"
