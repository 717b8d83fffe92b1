#!/usr/bin/env bash
# Runs a small WIKIT-like workload on a throwaway PostgreSQL 15 cluster with pgAudit and leaves
# the server's csvlog in DIR/postgresql.csv. Used by the integration test (when PostgreSQL is
# installed) and to make the committed fixture tests/pgaudit/postgresql.csv.
#   tests/pgaudit/workload.sh DIR        (as root: the cluster runs as the `postgres` user)
#   WEEKS=30 tests/pgaudit/workload.sh DIR
# With WEEKS, the server runs under libfaketime (Debian's `faketime`) and, before the workload,
# logs WEEKS weeks from Tuesday 2021-09-07: a weekly COPY to the work-permit platforms on
# Tuesdays about 06:00 UTC (a few minutes of jitter, one week in five skipped) and the declared
# nightly statistics COPY; the workload itself then runs on 2022-04-01.
# With POOLED=1, the people (agents, supervisor, counsellor) reach the database as an
# application's pool account, `app_pool`, which names each one first with
# `select set_config('app.end_user', …)`; the service accounts still connect as themselves.
# The cluster listens on a Unix socket in DIR only, and is stopped at the end.
set -euo pipefail
dir=$(realpath "$1")
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
as_postgres "'$bin/initdb' -D '$dir/data' -A trust -U postgres >/dev/null"
cat >> "$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pgaudit'
logging_collector = on
log_destination = 'csvlog'
log_directory = 'log'
log_filename = 'postgresql'
listen_addresses = ''
unix_socket_directories = '$dir'
pgaudit.log = 'read, write, ddl'
pgaudit.log_relation = on
pgaudit.log_parameter = on
log_timezone = 'Europe/Paris'
CONF
weeks=${WEEKS:-0}
faketime_lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
clock=""
if [ "$weeks" -gt 0 ]; then
  [ -n "$faketime_lib" ] && [ -f "$faketime_lib" ] || { echo "WEEKS needs libfaketime (apt-get install faketime)" >&2; exit 3; }
  echo "@2021-09-01 00:00:00" > "$dir/clock"
  chmod 644 "$dir/clock"
  clock="LD_PRELOAD=$faketime_lib FAKETIME_TIMESTAMP_FILE='$dir/clock' FAKETIME_NO_CACHE=1"
fi
set_clock() { echo "@$1" > "$dir/clock"; }
as_postgres "$clock '$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w start >/dev/null"
trap 'as_postgres "\"$bin/pg_ctl\" -D \"$dir/data\" -w stop >/dev/null"' EXIT
sql() { # user, statements
  local user=$1 statements=$2
  if [ "${POOLED:-0}" = 1 ] && [[ $user != postgres && $user != svc_* ]]; then
    statements="select set_config('app.end_user', '$user', false); $statements"
    user=app_pool
  fi
  as_postgres "psql -h '$dir' -U $user -d postgres -v ON_ERROR_STOP=1 -q -X" <<< "$statements" >/dev/null
}
# The schema, not audited: set up before the period under audit.
sql postgres "
set pgaudit.log = 'none';
create extension pgaudit;
create role ag01 login; create role ag02 login; create role ag09 login; create role rud01 login;
create role cl01 login; create role app_pool login; create role svc_moe_export login; create role svc_stats login; create role svc_migration login;
create table suites (id serial primary key, agent_id text, nom_salarie text, nationalite text, siret text, decision text);
create table activite (agent_id text, unite text, controles int, mois date);
create table jeunes (id serial primary key, conseiller text, nom text, formation text);
grant select, insert on all tables in schema public to public;
grant usage on all sequences in schema public to public;
alter table jeunes owner to svc_migration;
insert into activite values ('ag01','UD75',12,'2021-09-01'), ('ag02','UD75',7,'2021-09-01'), ('ag03','UD92',9,'2021-09-01');
"
# Months of schedules, when asked for.
for ((week = 0; week < weeks; week++)); do
  for night in 0 1 2 3 4 5 6; do
    set_clock "$(date -u -d "2021-09-07 02:00:00 UTC +$((week * 7 + night)) days" '+%Y-%m-%d %H:%M:%S')"
    sql svc_stats "copy (select unite, sum(controles) from activite group by unite) to stdout;"
  done
  if [ $((week % 5)) -ne 3 ]; then
    set_clock "$(date -u -d "2021-09-07 06:00:00 UTC +$((week * 7)) days +$(((week * 7) % 11)) minutes" '+%Y-%m-%d %H:%M:%S')"
    sql svc_moe_export "copy (select nom_salarie, nationalite, decision from suites) to stdout;"
  fi
done
[ "$weeks" -gt 0 ] && set_clock "2022-04-01 10:00:00"
# Agents: inspection work, and their own figures (lawful).
sql ag01 "insert into suites (agent_id, nom_salarie, nationalite, siret, decision) values ('ag01', 'Dupont', 'FR', '12345678900011', 'PV');"
sql ag01 "select nom_salarie, siret, decision from suites where agent_id = 'ag01';"
sql ag01 "select controles from activite where agent_id = 'ag01';"
sql ag02 "select s.nom_salarie, s.decision from suites s where s.id = 1;"
# A supervisor watching one agent, and ranking agents (individual monitoring).
sql rud01 "select mois, controles from activite where agent_id = 'ag02';"
sql rud01 "select agent_id, sum(controles) from activite group by agent_id order by sum(controles) desc;"
# Aggregated statistics by unit (lawful).
sql rud01 "select unite, sum(controles) from activite group by unite;"
# An extraction to the work-permit platforms (undeclared recipient) and the declared statistics feed.
sql svc_moe_export "copy (select nom_salarie, nationalite, decision from suites) to stdout;"
sql svc_stats "copy (select unite, sum(controles) from activite group by unite) to stdout;"
# A migration adds an ID-document column to the youth files; a counsellor fills and reads it.
sql cl01 "select nom, formation from jeunes;"
sql svc_migration "alter table jeunes add column id_document text;"
sql cl01 "insert into jeunes (conseiller, nom, formation, id_document) values ('cl01', 'Martin', 'CAP', 'X1234567');"
sql cl01 "select * from jeunes where conseiller = 'cl01';"
# A revoked account still at work.
sql ag09 "select nom_salarie, nationalite from suites;"
# The log names the cluster's directory (its socket) once: written as DIR, so that the log does
# not depend on where it was made.
as_postgres "cat '$dir/data/log/postgresql.csv'" | sed "s|$dir|DIR|g" > "$dir/postgresql.csv"
