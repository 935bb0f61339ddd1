#!/usr/bin/env bash
# Starts the local stores the tests and the demo need, when they are not running yet:
# PostgreSQL, MariaDB and Redis (Debian packages; Redis and Chromium are installed when missing) and FerretDB
# (built from the Go module proxy by scripts/ferretdb.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "services.sh: $name did not become ready" >&2
  return 1
}

apt_install() { # package...
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

# mysql_fdw for the hub engine's tests and benchmarks (Debian package; postgres_fdw ships with PostgreSQL).
pg_major="$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n1)"
if [ -n "$pg_major" ] && ! dpkg -s "postgresql-$pg_major-mysql-fdw" >/dev/null 2>&1; then
  echo "services.sh: installing postgresql-$pg_major-mysql-fdw" >&2
  apt_install "postgresql-$pg_major-mysql-fdw"
fi

# openssl makes the certificates of the TLS tests (test/support/test-ca.ts).
if ! command -v openssl >/dev/null; then
  echo "services.sh: installing openssl" >&2
  apt_install openssl
fi

# Chromium drives the console's browser tests (test/browser/, playwright-core with Debian's build).
if [ ! -x /usr/bin/chromium ]; then
  echo "services.sh: installing chromium" >&2
  apt_install chromium
fi

missing() { # what, how to install
  echo "services.sh: $1 is not installed and nothing listens on its port; install it ($2) or point the URLs at a running one" >&2
  exit 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
  command -v pg_ctlcluster >/dev/null && [ -n "$pg_major" ] || missing PostgreSQL "apt-get install postgresql"
  echo "services.sh: starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$pg_major" main start
  wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432
fi

if ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  [ -x /usr/sbin/mariadbd ] || missing MariaDB "apt-get install mariadb-server"
  echo "services.sh: starting MariaDB" >&2
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB mysqladmin -h 127.0.0.1 -u root ping
fi

redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
if ! redis_up; then
  if ! command -v redis-server >/dev/null; then
    echo "services.sh: installing redis-server" >&2
    apt_install redis-server
  fi
  echo "services.sh: starting Redis" >&2
  mkdir -p /tmp/vg-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/vg-redis --logfile /tmp/vg-redis/redis.log
  wait_for Redis redis_up
fi

"$here/ferretdb.sh" start
