#!/usr/bin/env bash
# certward quickstart: build and run a complete local certward on one Debian 12
# machine, listening on 127.0.0.1 only.
#
#   deploy/quickstart.sh [start] [--dir DIR] [--port N]
#   deploy/quickstart.sh stop    [--dir DIR]
#   deploy/quickstart.sh status  [--dir DIR]
#
# start (the default) installs the missing Debian packages, builds certward
# (and the web interface when frontend/package.json exists), then runs, from
# DIR (default /var/lib/certward-quickstart):
#   - a private MariaDB server on a unix socket in DIR (no TCP),
#   - "certward serve" on a FastCGI unix socket in DIR,
#   - nginx on http://127.0.0.1:PORT (default 8080) serving the web interface
#     and passing /api/, /acme/, /scep, /.well-known/est/, /ocsp, /cdp/, /ca/
#     to certward,
#   - "certward cron all" every minute (a background loop, or /etc/cron.d when
#     a cron daemon runs and this script runs as root).
# The first run creates the database, the secrets and an "admin" account and
# prints the admin password once. Later runs reuse DIR.
#
# As root, certward and MariaDB run as the system user "certward" (created if
# missing) and the nginx workers as www-data with group certward. As another
# user, everything runs as that user (the Debian packages must then already be
# installed, or sudo must be available).
#
# Plain http on loopback: this is for trying certward out, not for
# production. See docs/admin-guide.md for a production setup.

set -euo pipefail
umask 077

PROG=quickstart
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DIR=/var/lib/certward-quickstart
PORT=
CMD=start
SVC_USER=certward
DB_NAME=certward

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

usage() {
    cat <<EOF
usage: deploy/quickstart.sh [start] [--dir DIR] [--port N]
       deploy/quickstart.sh stop   [--dir DIR]
       deploy/quickstart.sh status [--dir DIR]

  start    install missing packages, build, and run certward with MariaDB and
           nginx on http://127.0.0.1:PORT (the default command)
  stop     stop every process started from DIR
  status   show which of them run, and the health of the API

  --dir DIR   data directory (default /var/lib/certward-quickstart)
  --port N    nginx port on 127.0.0.1 (default 8080, or the port of the
              previous run in DIR)
EOF
}

# ---- arguments -------------------------------------------------------------

while [ $# -gt 0 ]; do
    case $1 in
    start | stop | status) CMD=$1 ;;
    --dir) [ $# -ge 2 ] || die "--dir needs a directory"; DIR=$2; shift ;;
    --dir=*) DIR=${1#--dir=} ;;
    --port) [ $# -ge 2 ] || die "--port needs a number"; PORT=$2; shift ;;
    --port=*) PORT=${1#--port=} ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
    shift
done

case $DIR in
/*) ;;
*) DIR=$PWD/$DIR ;;
esac
DIR=${DIR%/}
[[ $DIR =~ ^/[A-Za-z0-9._/+-]+$ ]] ||
    die "--dir must be a path of letters, digits and ._/+- only: $DIR"
# unix socket paths are limited to 107 bytes
[ ${#DIR} -le 80 ] || die "--dir is too long (at most 80 characters): $DIR"
if [ -n "$PORT" ]; then
    if ! [[ $PORT =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
        die "--port must be a number from 1 to 65535"
    fi
fi

# ---- layout ----------------------------------------------------------------

BIN=$DIR/bin/certward           # a copy of the built binary
CONF=$DIR/etc/certward.conf
DB_SOCK=$DIR/mysql/mysqld.sock
FCGI_SOCK=$DIR/run/fcgi.sock
WWW=$DIR/www
LOG=$DIR/log
PIDS=$DIR/pids
STATE=$DIR/quickstart.env       # PORT of the last successful start
CRON_D=/etc/cron.d/certward-quickstart-$(printf '%s' "$DIR" | md5sum | cut -c1-8)

if [ "$(id -u)" -eq 0 ]; then
    ROOT=1
else
    ROOT=0
fi

# Commands run as the service user (as root), or as ourselves.
SVC=()
if [ "$ROOT" -eq 1 ]; then
    SVC=(setpriv "--reuid=$SVC_USER" "--regid=$SVC_USER" --init-groups --)
fi
as_svc() { "${SVC[@]}" "$@"; }

# ---- process bookkeeping ---------------------------------------------------
# DIR/pids holds one line per process: NAME PID STARTTIME. STARTTIME (from
# /proc/PID/stat) guards against a recycled PID after a reboot.

# Print "STATE STARTTIME" of a process, or fail if there is none.
proc_info() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # shellcheck disable=SC2086 # split the fields of /proc/PID/stat
    set -- $s
    printf '%s %s\n' "$1" "${20}"
}

# True if PID runs (not a zombie) and started at STARTTIME.
proc_is() {
    local info
    info=$(proc_info "$1") || return 1
    [ "${info%% *}" != Z ] && [ "${info#* }" = "$2" ]
}

# True if PID runs and is not a zombie (PID 1 may reap slowly).
alive() {
    local info
    info=$(proc_info "$1") || return 1
    [ "${info%% *}" != Z ]
}

STARTED=()      # "NAME PID" of the processes this run started

record_pid() {  # NAME PID
    local info
    info=$(proc_info "$2") || die "$1 (pid $2) exited right after start; see $LOG/"
    printf '%s %s %s\n' "$1" "$2" "${info#* }" >>"$PIDS"
    STARTED+=("$1 $2")
}

# PID of a recorded process that still runs, or fail.
running_pid() {  # NAME
    local name pid st
    [ -f "$PIDS" ] || return 1
    while read -r name pid st; do
        if [ "$name" = "$1" ] && proc_is "$pid" "$st"; then
            printf '%s\n' "$pid"
            return 0
        fi
    done <"$PIDS"
    return 1
}

# Send SIGTERM and wait up to SECONDS, then SIGKILL the process group.
stop_pid() {  # NAME PID SECONDS
    local name=$1 pid=$2 t=$(($3 * 10))
    kill -TERM "$pid" 2>/dev/null || return 0
    while alive "$pid" && [ "$t" -gt 0 ]; do
        sleep 0.1
        t=$((t - 1))
    done
    if alive "$pid"; then
        warn "$name (pid $pid) did not stop in $3 s; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped $name (pid $pid)"
}

drop_pid_line() {  # PID
    [ -f "$PIDS" ] || return 0
    local tmp
    tmp=$(mktemp "$DIR/.pids.XXXXXX")
    awk -v p="$1" '$2 != p' "$PIDS" >"$tmp" || true
    mv -f "$tmp" "$PIDS"
}

stop_timeout() {
    case $1 in
    certward) echo 45 ;;  # > drain_timeout in the generated configuration
    mariadb) echo 120 ;;
    *) echo 15 ;;
    esac
}

stop_all() {
    local name pid st
    if [ -f "$CRON_D" ] && grep -qF "$CONF" "$CRON_D" 2>/dev/null; then
        rm -f "$CRON_D"
        say "removed $CRON_D"
    fi
    [ -f "$PIDS" ] || return 0
    for name in cron nginx certward mariadb; do
        while read -r n pid st; do
            [ "$n" = "$name" ] || continue
            if proc_is "$pid" "$st"; then
                stop_pid "$name" "$pid" "$(stop_timeout "$name")"
            fi
        done <"$PIDS"
    done
    rm -f "$PIDS"
}

# ---- stop and status -------------------------------------------------------

lock_dir() {
    exec 9>"$DIR/.lock"
    flock -n 9 || die "another quickstart.sh is working on $DIR"
}

if [ "$CMD" = stop ]; then
    if [ ! -d "$DIR" ]; then
        say "nothing to stop: $DIR does not exist"
        exit 0
    fi
    lock_dir
    stop_all
    say "stopped everything started from $DIR"
    exit 0
fi

if [ "$CMD" = status ]; then
    [ -d "$DIR" ] || die "$DIR does not exist (start it with: deploy/quickstart.sh --dir $DIR)"
    rc=0
    for name in mariadb certward nginx cron; do
        if pid=$(running_pid "$name"); then
            printf '  %-9s running (pid %s)\n' "$name" "$pid"
        elif [ "$name" = cron ] && [ -f "$CRON_D" ]; then
            printf '  %-9s %s\n' "$name" "$CRON_D"
        else
            printf '  %-9s stopped\n' "$name"
            rc=3
        fi
    done
    if [ -f "$STATE" ]; then
        PORT=$(sed -n 's/^PORT=//p' "$STATE")
        url=http://127.0.0.1:$PORT
        printf '  %-9s %s\n' url "$url/"
        if health=$(curl -fsS --max-time 5 "$url/api/health" 2>&1); then
            printf '  %-9s %s\n' health "$health"
        else
            printf '  %-9s %s\n' health "unreachable ($health)"
            rc=3
        fi
    fi
    exit "$rc"
fi

# ---- start -----------------------------------------------------------------

OK=0
on_exit() {
    local rc=$? entry name pid i
    [ "$OK" -eq 1 ] && return 0
    if [ ${#STARTED[@]} -gt 0 ]; then
        say "start failed; stopping what this run started"
        for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
            entry=${STARTED[i]}
            name=${entry%% *}
            pid=${entry#* }
            stop_pid "$name" "$pid" "$(stop_timeout "$name")"
            drop_pid_line "$pid"
        done
    fi
    if [ -n "${CRON_D_WRITTEN:-}" ]; then
        rm -f "$CRON_D"
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM HUP

# Show the tail of a log file after a failed step.
show_log() {
    if [ -s "$1" ]; then
        printf -- '--- last lines of %s:\n' "$1" >&2
        tail -n "${2:-25}" "$1" >&2
        printf -- '---\n' >&2
    fi
}

# Run a step with its output in a log file; on failure show the log.
step() {  # LOGFILE CMD...
    local logf=$1
    shift
    if ! "$@" >>"$logf" 2>&1; then
        show_log "$logf" 40
        die "failed: $* (full log: $logf)"
    fi
}

# -- the data directory

if [ -e "$DIR" ] && [ ! -f "$DIR/.quickstart" ]; then
    if [ ! -d "$DIR" ] || [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
        die "$DIR exists, is not empty and is not a quickstart directory; choose another --dir"
    fi
fi
mkdir -p "$DIR"
chmod 0750 "$DIR"
: >>"$DIR/.quickstart"
lock_dir

# Already running? Then there is nothing to do.
all=1
for name in mariadb certward nginx; do
    running_pid "$name" >/dev/null || all=0
done
if [ "$all" -eq 1 ]; then
    OK=1
    PORT=$(sed -n 's/^PORT=//p' "$STATE" 2>/dev/null || true)
    say "certward is already running from $DIR"
    say "URL: http://127.0.0.1:${PORT:-?}/ (stop it first to change anything)"
    say "the admin account was created on the first run; its password is not shown again"
    exit 0
fi
if [ -f "$PIDS" ]; then
    say "stopping what is left of a previous run"
    stop_all
fi
if [ -f "$DIR/.admin-created" ]; then
    say "reusing the existing $DIR: no new admin account is created (its password was shown on the first run)"
fi

if [ -z "$PORT" ]; then
    if [ -f "$STATE" ]; then
        PORT=$(sed -n 's/^PORT=//p' "$STATE")
    fi
    PORT=${PORT:-8080}
fi
DB_USER=certward
if [ "$ROOT" -eq 0 ] && [ "$(id -un)" = certward ]; then
    # the MariaDB account of the OS user (unix_socket auth) is "certward"
    DB_USER=certward_app
fi

# -- Debian packages

PKGS=(build-essential autoconf automake libtool pkg-config
    libssl-dev libjansson-dev libsodium-dev libcurl4-openssl-dev
    libmariadb-dev libfcgi-dev libjwt-dev libargon2-dev
    mariadb-server mariadb-client nginx openssl curl ca-certificates
    util-linux procps iproute2)
if [ -f "$REPO/frontend/package.json" ] && ! command -v npm >/dev/null; then
    PKGS+=(nodejs npm)
fi
missing=()
for p in "${PKGS[@]}"; do
    if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    SUDO=()
    if [ "$ROOT" -eq 0 ]; then
        command -v sudo >/dev/null ||
            die "missing packages (${missing[*]}); run as root or install them first"
        SUDO=(sudo)
    fi
    mkdir -p "$LOG"
    step "$LOG/apt.log" "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    step "$LOG/apt.log" "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
fi
PATH=$PATH:/usr/sbin:/sbin
for cmd in mariadb-install-db mariadbd mariadb mariadb-admin nginx openssl curl setpriv ss; do
    command -v "$cmd" >/dev/null || die "$cmd not found"
done

port_busy() {
    ss -Htln "sport = :$1" | grep -q .
}
if port_busy "$PORT"; then
    die "port $PORT is in use; choose another with --port"
fi

# -- the service user (root only)

if [ "$ROOT" -eq 1 ]; then
    if ! getent passwd "$SVC_USER" >/dev/null; then
        say "creating the system user $SVC_USER"
        if getent group "$SVC_USER" >/dev/null; then
            useradd --system --gid "$SVC_USER" --home-dir /nonexistent \
                --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
        else
            useradd --system --user-group --home-dir /nonexistent \
                --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
        fi
    fi
    getent passwd www-data >/dev/null || die "the user www-data (nginx workers) does not exist"
fi

# -- directories

mkdir -p "$DIR"/{bin,etc,mysql,run,log,nginx/tmp,www}
chmod 0755 "$DIR/bin" "$DIR/nginx"
chmod 0700 "$DIR/etc" "$DIR/mysql"
chmod 0750 "$DIR/run" "$DIR/log" "$DIR/www"
if [ "$ROOT" -eq 1 ]; then
    chown "$SVC_USER:$SVC_USER" "$DIR" "$DIR/etc" "$DIR/mysql" "$DIR/run" "$DIR/log"
    chown "root:$SVC_USER" "$DIR/www"
    as_svc test -x "$DIR" ||
        die "user $SVC_USER cannot reach $DIR (a parent directory is closed); choose another --dir"
fi
# Logs written by the processes themselves belong to the service user.
for f in mariadb.log certward.log cron.log; do
    : >>"$LOG/$f"
    if [ "$ROOT" -eq 1 ]; then
        chown "$SVC_USER:$SVC_USER" "$LOG/$f"
    fi
done

# -- build

say "building certward (log: $LOG/build.log)"
umask 022   # build products in the source tree get the usual modes
cd "$REPO"
if [ ! -x configure ]; then
    step "$LOG/build.log" autoreconf -fi
fi
if [ ! -f Makefile ]; then
    step "$LOG/build.log" ./configure
fi
step "$LOG/build.log" make -j"$(nproc)"
[ -x "$REPO/certward" ] || die "the build did not produce $REPO/certward"
install -m 0755 "$REPO/certward" "$BIN"

# -- the web interface

if [ -f "$REPO/frontend/package.json" ]; then
    if [ ! -f "$REPO/frontend/dist/index.html" ] ||
        [ -n "$(find "$REPO/frontend" -path "$REPO/frontend/node_modules" -prune -o \
            -path "$REPO/frontend/dist" -prune -o -type f -newer "$REPO/frontend/dist/index.html" -print -quit)" ]; then
        say "building the web interface (log: $LOG/frontend.log)"
        cd "$REPO/frontend"
        if [ -f package-lock.json ]; then
            step "$LOG/frontend.log" npm ci --no-audit --no-fund
        else
            step "$LOG/frontend.log" npm install --no-audit --no-fund
        fi
        step "$LOG/frontend.log" npm run build
        cd "$REPO"
    fi
    [ -f "$REPO/frontend/dist/index.html" ] || die "the web interface build produced no frontend/dist/index.html"
    umask 077
    find "$WWW" -mindepth 1 -delete
    cp -R "$REPO/frontend/dist/." "$WWW/"
elif [ -f "$REPO/frontend/dist/index.html" ]; then
    # a web interface built elsewhere
    find "$WWW" -mindepth 1 -delete
    cp -R "$REPO/frontend/dist/." "$WWW/"
else
    find "$WWW" -mindepth 1 -delete
    cat >"$WWW/index.html" <<'EOF'
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>certward</title></head>
<body>
<h1>certward</h1>
<p>certward is running. The web interface is not built: this source tree has
no <code>frontend/package.json</code>.</p>
<p>API health: <a href="/api/health">/api/health</a>.
ACME directory: <a href="/acme/directory">/acme/directory</a>.</p>
</body>
</html>
EOF
fi
umask 077
chmod -R u=rwX,g=rX,o= "$WWW"
if [ "$ROOT" -eq 1 ]; then
    chown -R "root:$SVC_USER" "$WWW"
fi

# -- secrets and configuration (first run)

new_secret() {  # FILE: 32 random bytes as 64 hex characters, mode 0600
    [ -s "$1" ] && return 0
    openssl rand -hex 32 >"$1.tmp"
    chmod 0600 "$1.tmp"
    mv -f "$1.tmp" "$1"
}
new_secret "$DIR/etc/jwt.secret"
new_secret "$DIR/etc/master.key"
new_secret "$DIR/etc/db.password"

write_conf() {
    cat >"$CONF.tmp" <<EOF
# certward configuration written by deploy/quickstart.sh for $DIR.
# See certward.conf(5) and deploy/certward.conf.example.

[database]
socket = $DB_SOCK
name = $DB_NAME
user = $DB_USER
password_file = $DIR/etc/db.password

[server]
listen = $FCGI_SOCK
socket_mode = 0660
workers = 2
threads = 8
drain_timeout = 10
public_url = http://127.0.0.1:$PORT

[security]
jwt_secret_file = $DIR/etc/jwt.secret
master_key_file = $DIR/etc/master.key
# plain http on 127.0.0.1: the session cookie cannot be Secure
cookie_secure = false

[log]
level = info
EOF
    chmod 0600 "$CONF.tmp"
    mv -f "$CONF.tmp" "$CONF"
}
if [ ! -f "$CONF" ]; then
    write_conf
elif ! grep -qx "public_url = http://127.0.0.1:$PORT" "$CONF"; then
    sed -i "s|^public_url = .*|public_url = http://127.0.0.1:$PORT|" "$CONF"
fi
if [ "$ROOT" -eq 1 ]; then
    chown "$SVC_USER:$SVC_USER" "$DIR"/etc/* "$CONF"
fi

step "$LOG/certward.log" as_svc "$BIN" -c "$CONF" check-config

# -- MariaDB

if [ ! -d "$DIR/mysql/data/mysql" ]; then
    say "initializing the MariaDB data directory (log: $LOG/mariadb.log)"
    rm -rf "$DIR/mysql/data"
    if [ "$ROOT" -eq 1 ]; then
        DB_ADMIN=root
    else
        DB_ADMIN=$(id -un)
    fi
    step "$LOG/mariadb.log" as_svc mariadb-install-db --no-defaults \
        --datadir="$DIR/mysql/data" --auth-root-authentication-method=socket \
        --auth-root-socket-user="$DB_ADMIN" --skip-test-db --skip-name-resolve
fi
mkdir -p "$DIR/mysql/tmp"
if [ "$ROOT" -eq 1 ]; then
    chown "$SVC_USER:$SVC_USER" "$DIR/mysql/tmp"
fi


# Start CMD in its own session with its output in LOGFILE; record its pid.
spawn() {  # NAME LOGFILE CMD...
    local name=$1 logf=$2
    shift 2
    setsid "$@" </dev/null >>"$logf" 2>&1 9>&- &
    record_pid "$name" $!
}

# Wait until CHECK succeeds, for at most SECONDS, while NAME's pid is alive.
wait_for() {  # NAME PID SECONDS LOGFILE CHECK...
    local name=$1 pid=$2 t=$(($3 * 10)) logf=$4
    shift 4
    until "$@" >/dev/null 2>&1; do
        if ! alive "$pid"; then
            show_log "$logf"
            die "$name exited during start-up (log: $logf)"
        fi
        if [ "$t" -le 0 ]; then
            show_log "$logf"
            die "$name did not become ready in $3 s (log: $logf)"
        fi
        sleep 0.1
        t=$((t - 1))
    done
}

say "starting MariaDB (socket $DB_SOCK, no TCP)"
rm -f "$DB_SOCK"
spawn mariadb "$LOG/mariadb.log" "${SVC[@]}" mariadbd --no-defaults \
    --datadir="$DIR/mysql/data" --tmpdir="$DIR/mysql/tmp" \
    --socket="$DB_SOCK" --skip-networking --pid-file="$DIR/mysql/mysqld.pid" \
    --log-error="$LOG/mariadb.log" --skip-name-resolve --skip-log-bin \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
MARIADB_PID=${STARTED[-1]#* }
wait_for MariaDB "$MARIADB_PID" 60 "$LOG/mariadb.log" \
    mariadb-admin --no-defaults --socket="$DB_SOCK" ping

if [ ! -f "$DIR/.db-ready" ]; then
    say "creating the database $DB_NAME and its user $DB_USER"
    if [ "$ROOT" -eq 1 ]; then
        DB_ADMIN=root
    else
        DB_ADMIN=$(id -un)
    fi
    DB_PASS=$(cat "$DIR/etc/db.password")
    # The password is hex: no quoting issue. It goes through stdin, never argv.
    if ! mariadb --no-defaults --socket="$DB_SOCK" --user="$DB_ADMIN" >>"$LOG/mariadb.log" 2>&1 <<EOF
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
EOF
    then
        show_log "$LOG/mariadb.log"
        die "could not create the database (log: $LOG/mariadb.log)"
    fi
    unset DB_PASS
    : >"$DIR/.db-ready"
fi

# -- schema and the admin account

say "applying database migrations"
step "$LOG/certward.log" as_svc "$BIN" -c "$CONF" migrate

ADMIN_PW=
ADMIN_OUT=
if [ ! -f "$DIR/.admin-created" ]; then
    say "creating the admin account"
    # certward generates the password and prints it once; it is kept out of
    # the log files.
    if ! ADMIN_OUT=$(as_svc "$BIN" -c "$CONF" user add --username admin \
        --role admin 2>>"$LOG/certward.log"); then
        show_log "$LOG/certward.log"
        die "could not create the admin account (log: $LOG/certward.log)"
    fi
    ADMIN_PW=$(printf '%s\n' "$ADMIN_OUT" | sed -n 's/^password: //p')
    : >"$DIR/.admin-created"
fi

# -- certward serve

say "starting certward serve (socket $FCGI_SOCK)"
rm -f "$FCGI_SOCK"
spawn certward "$LOG/certward.log" "${SVC[@]}" "$BIN" -c "$CONF" serve
CERTWARD_PID=${STARTED[-1]#* }
wait_for certward "$CERTWARD_PID" 30 "$LOG/certward.log" test -S "$FCGI_SOCK"

# -- nginx

if port_busy "$PORT"; then
    die "port $PORT is in use; choose another with --port"
fi
NGINX_USER=
if [ "$ROOT" -eq 1 ]; then
    # workers: user www-data, group certward (to reach the socket and files)
    NGINX_USER="user www-data $SVC_USER;"
fi
FCGI="fastcgi_pass unix:$FCGI_SOCK;"
cat >"$DIR/nginx/nginx.conf" <<EOF
# Written by deploy/quickstart.sh; rewritten on every start.
daemon off;
worker_processes 2;
pid $DIR/nginx/nginx.pid;
error_log $LOG/nginx-error.log;
$NGINX_USER

events {
    worker_connections 512;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $LOG/nginx-access.log;
    client_body_temp_path $DIR/nginx/tmp/client_body;
    fastcgi_temp_path $DIR/nginx/tmp/fastcgi;
    proxy_temp_path $DIR/nginx/tmp/proxy;
    uwsgi_temp_path $DIR/nginx/tmp/uwsgi;
    scgi_temp_path $DIR/nginx/tmp/scgi;
    server_tokens off;

    server {
        listen 127.0.0.1:$PORT;
        server_name localhost;
        root $WWW;
        index index.html;
        merge_slashes off;
        client_max_body_size 1m;

        include /etc/nginx/fastcgi_params;

        # the web interface (certward sets its own headers on its answers)
        location / {
            add_header X-Content-Type-Options "nosniff" always;
            add_header X-Frame-Options "DENY" always;
            add_header Referrer-Policy "same-origin" always;
            try_files \$uri /index.html;

            # index.html is revalidated on every load (a new build is seen
            # at once); the bundled assets carry a content hash in their
            # names and are cached for a year
            location = /index.html {
                expires -1;
            }
            location /assets/ {
                try_files \$uri =404;
                expires 1y;
            }
        }
        location /api/ { $FCGI }
        location /acme/ { $FCGI }
        location /scep { $FCGI }
        location /.well-known/est/ { $FCGI }
        location /ocsp { $FCGI }
        location /cdp/ { $FCGI }
        location /ca/ { $FCGI }
    }
}
EOF
chmod 0644 "$DIR/nginx/nginx.conf"
NGINX=(nginx -p "$DIR/nginx/" -c "$DIR/nginx/nginx.conf" -e "$LOG/nginx-error.log")
step "$LOG/nginx-error.log" "${NGINX[@]}" -t -q
say "starting nginx on http://127.0.0.1:$PORT/"
spawn nginx "$LOG/nginx-error.log" "${NGINX[@]}"
NGINX_PID=${STARTED[-1]#* }
URL=http://127.0.0.1:$PORT
wait_for nginx "$NGINX_PID" 10 "$LOG/nginx-error.log" \
    curl -sS --max-time 2 -o /dev/null "$URL/"
health_ok() {
    HEALTH=$(curl -sS --max-time 2 "$URL/api/health") &&
        [[ $HEALTH == *'"status"'*'"ok"'* ]]
}
HEALTH=
t=300
until health_ok; do
    if [ "$t" -le 0 ] || ! alive "$CERTWARD_PID"; then
        show_log "$LOG/nginx-error.log" 10
        show_log "$LOG/certward.log"
        die "certward does not answer $URL/api/health with status ok: ${HEALTH:-no answer}"
    fi
    sleep 0.1
    t=$((t - 1))
done

# -- periodic tasks

if [ "$ROOT" -eq 1 ] && command -v pgrep >/dev/null && pgrep -x 'cron|crond' >/dev/null; then
    cat >"$CRON_D.tmp" <<EOF
# Written by deploy/quickstart.sh for $DIR; removed by "quickstart.sh stop".
* * * * * $SVC_USER $BIN -c $CONF cron all >>$LOG/cron.log 2>&1
EOF
    chmod 0644 "$CRON_D.tmp"
    mv -f "$CRON_D.tmp" "$CRON_D"
    CRON_D_WRITTEN=1
    say "periodic tasks: $CRON_D (every minute)"
else
    # A loop in the background: "cron all" now and then every 60 s. On
    # SIGTERM it stops the running child and exits.
    # shellcheck disable=SC2016 # expanded by the inner shell
    spawn cron "$LOG/cron.log" "${SVC[@]}" bash -c '
        trap '\''[ -n "$c" ] && kill "$c" 2>/dev/null; exit 0'\'' TERM INT
        c=
        while :; do
            "$0" -c "$1" cron all & c=$!; wait "$c"
            sleep 60 & c=$!; wait "$c"
        done' "$BIN" "$CONF"
    say "periodic tasks: a background loop running \"certward cron all\" every 60 s"
fi

# -- done

printf 'PORT=%s\n' "$PORT" >"$STATE"
OK=1
echo
say "certward is running from $DIR"
echo "  URL:       $URL/"
echo "  health:    $HEALTH"
if [ -n "$ADMIN_PW" ]; then
    echo "  Username:  admin"
    echo "  Password:  $ADMIN_PW"
    echo "  (shown only this once and not stored; certward asks for a new"
    echo "   password at the first login)"
elif [ -n "$ADMIN_OUT" ]; then
    printf '%s\n' "$ADMIN_OUT" | sed 's/^/  /'
else
    echo "  Username:  admin (created on the first run; its password is not shown again)"
fi
echo "  logs:      $LOG/"
echo "  status:    deploy/quickstart.sh status --dir $DIR"
echo "  stop:      deploy/quickstart.sh stop --dir $DIR"
