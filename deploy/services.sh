#!/bin/sh
# Without systemd (a container, a chroot, a machine whose PID 1 is something else): run what the
# units run. For each unit it reads User, Group, WorkingDirectory, EnvironmentFile and
# ExecStart from the .service file and starts that command the same way, detached, with its
# output in /var/log/fanwen/UNIT.log and its pid in /run/fanwen/UNIT.pid. No restarts: check
# with `status` (or put the same lines under your own supervisor).
#
#   deploy/services.sh start|stop|status [UNIT...]     (default: fanwen-web fanwen-worker)
#
# FANWEN_UNIT_DIR: where the .service files are (default /etc/systemd/system).
set -eu

UNIT_DIR=${FANWEN_UNIT_DIR:-/etc/systemd/system}
LOG_DIR=${FANWEN_SERVICE_LOG_DIR:-/var/log/fanwen}
RUN_DIR=${FANWEN_SERVICE_RUN_DIR:-/run/fanwen}

value() {  # value UNIT KEY: the last KEY= line of the unit
    sed -n "s/^$2=//p" "$UNIT_DIR/$1.service" | tail -n 1
}

running() {  # running UNIT: its pid, if that process is alive
    pid=$(cat "$RUN_DIR/$1.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
    unit=$1
    [ -f "$UNIT_DIR/$unit.service" ] || { echo "$unit: no $UNIT_DIR/$unit.service" >&2; return 1; }
    if pid=$(running "$unit"); then
        echo "$unit: already running (pid $pid)"
        return 0
    fi
    user=$(value "$unit" User)
    group=$(value "$unit" Group)
    workdir=$(value "$unit" WorkingDirectory)
    envfile=$(value "$unit" EnvironmentFile | sed 's/^-//')
    command=$(value "$unit" ExecStart)
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    (
        set -a
        . "$envfile"
        set +a
        cd "$workdir"
        # As systemd sets them for User= (gunicorn keeps its control socket under HOME).
        HOME=$(getent passwd "$user" | cut -d: -f6)
        USER=$user
        LOGNAME=$user
        export HOME USER LOGNAME
        # setsid: its own session, no terminal; setpriv: the unit's user, without a parent
        # process in between (the pid written below is the service itself).
        # shellcheck disable=SC2086  # ExecStart is split into words, as systemd does
        exec setsid setpriv --reuid="$user" --regid="${group:-$user}" --init-groups $command
    ) >>"$LOG_DIR/$unit.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/$unit.pid"
    sleep 1
    if pid=$(running "$unit"); then
        echo "$unit: started (pid $pid): $command"
    else
        echo "$unit: exited at once; see $LOG_DIR/$unit.log" >&2
        tail -n 20 "$LOG_DIR/$unit.log" >&2
        return 1
    fi
}

stop() {
    unit=$1
    if ! pid=$(running "$unit"); then
        echo "$unit: not running"
        rm -f "$RUN_DIR/$unit.pid"
        return 0
    fi
    # The unit's KillSignal and TimeoutStopSec: gunicorn finishes its requests in flight, the
    # worker its current job.
    signal=$(value "$unit" KillSignal)
    timeout=$(value "$unit" TimeoutStopSec)
    kill -s "${signal#SIG}" "$pid"
    waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge "${timeout:-30}" ]; then
            echo "$unit: still running after ${waited}s, killing" >&2
            kill -s KILL "$pid"
            break
        fi
        sleep 1
        waited=$((waited + 1))
    done
    rm -f "$RUN_DIR/$unit.pid"
    echo "$unit: stopped (pid $pid)"
}

status() {
    if pid=$(running "$1"); then
        echo "$1: running (pid $pid)"
    else
        echo "$1: stopped"
        return 3
    fi
}

action=${1:-}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- fanwen-web fanwen-worker
case $action in
start | stop)
    for unit in "$@"; do "$action" "$unit"; done
    ;;
status)
    code=0
    for unit in "$@"; do status "$unit" || code=3; done
    exit "$code"
    ;;
*)
    echo "usage: $0 start|stop|status [UNIT...]" >&2
    exit 2
    ;;
esac
