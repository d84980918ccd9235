#!/usr/bin/env bash
# PostgreSQL for the tests marked `postgres` (tests/test_postgres.py).
# Idempotent: installs the server if missing, starts the default cluster, and
# creates the role and database the tests default to:
#   postgresql+psycopg://recommender:recommender@127.0.0.1:5432/recommender_test
# The URL is also written to .ci/postgres.url (read by the tests when
# RECOMMENDER_TEST_PG is unset). With CI=true the tests fail, not skip, when
# the server is unreachable.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

version=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  pg_ctlcluster "$version" main start
fi

for _ in $(seq 1 30); do
  if su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432"; then break; fi
  sleep 1
done

psql_postgres() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtAX -d postgres $*"; }
if [ "$(psql_postgres "-c \"SELECT 1 FROM pg_roles WHERE rolname = 'recommender'\"")" != "1" ]; then
  psql_postgres "-c \"CREATE ROLE recommender LOGIN PASSWORD 'recommender' CREATEDB\""
fi
if [ "$(psql_postgres "-c \"SELECT 1 FROM pg_database WHERE datname = 'recommender_test'\"")" != "1" ]; then
  psql_postgres "-c \"CREATE DATABASE recommender_test OWNER recommender\""
fi

echo "postgresql+psycopg://recommender:recommender@127.0.0.1:5432/recommender_test" > .ci/postgres.url
