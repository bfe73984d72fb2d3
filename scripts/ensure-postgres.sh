#!/usr/bin/env bash
# Start the local PostgreSQL cluster when one is installed but stopped. Where no server is
# installed, the PostgreSQL tests skip and say why.
set -u
if command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for v in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start 2>/dev/null || true
  done
  for _ in $(seq 1 20); do
    pg_isready -h 127.0.0.1 -p 5432 -q && exit 0
    sleep 0.5
  done
fi
echo "ensure-postgres: no PostgreSQL server on 127.0.0.1:5432; PostgreSQL tests will skip" >&2
exit 0
