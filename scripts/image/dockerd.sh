#!/usr/bin/env bash
# Starts and stops Debian's Docker engine (package docker.io: dockerd 20.10 with its own
# containerd, overlay2) for the image test, on machines without systemd (CI containers, these
# VMs). Only a daemon this script started is ever stopped by it.
#
#   scripts/image/dockerd.sh start    start dockerd unless an engine already answers; wait until it does
#   scripts/image/dockerd.sh stop     stop the dockerd this script started (SIGTERM, then SIGKILL after 30 s)
#   scripts/image/dockerd.sh status   exit 0 when an engine answers
#
# The daemon uses Docker's defaults (socket /var/run/docker.sock, data in /var/lib/docker), so
# images built earlier on the same machine are still there. Its log: /var/log/portcullis-dockerd.log.
# Installs docker.io with apt-get when dockerd is missing (root).
set -euo pipefail

readonly PIDFILE=/run/portcullis-dockerd.pid
readonly LOG=/var/log/portcullis-dockerd.log
DOCKER=${DOCKER:-docker}

log() { printf '[dockerd] %s\n' "$*" >&2; }
answers() { "${DOCKER}" version >/dev/null 2>&1; }

start() {
  if answers; then
    log "an engine already answers; not starting one"
    return 0
  fi
  [[ ${EUID} -eq 0 ]] || { log "needs root to start dockerd"; exit 1; }
  if ! command -v dockerd >/dev/null; then
    log "installing docker.io (Debian's Docker engine)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io) >&2
  fi
  log "starting dockerd (log ${LOG})"
  # setsid: not in the caller's process group, so a Ctrl-C of a test run does not kill it.
  setsid dockerd --pidfile "${PIDFILE}" >>"${LOG}" 2>&1 </dev/null &
  local i
  for i in $(seq 1 60); do
    answers && { log "dockerd answers ($("${DOCKER}" version --format '{{.Server.Version}}'))"; return 0; }
    if ! kill -0 $! 2>/dev/null; then
      log "dockerd exited; last lines of ${LOG}:"
      tail -20 "${LOG}" >&2
      exit 1
    fi
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; last lines of ${LOG}:"
  tail -20 "${LOG}" >&2
  exit 1
}

stop() {
  [[ -f ${PIDFILE} ]] || { log "no dockerd started by this script"; return 0; }
  local pid
  pid=$(cat "${PIDFILE}")
  # Only our dockerd: the pid file's process must be dockerd.
  if [[ "$(cat "/proc/${pid}/comm" 2>/dev/null || true)" != dockerd ]]; then
    log "pid ${pid} from ${PIDFILE} is not dockerd any more"
    rm -f "${PIDFILE}"
    return 0
  fi
  log "stopping dockerd (pid ${pid})"
  kill -TERM "${pid}"
  local i
  for i in $(seq 1 60); do
    kill -0 "${pid}" 2>/dev/null || { rm -f "${PIDFILE}"; log "stopped"; return 0; }
    sleep 0.5
  done
  log "dockerd still running after 30 s; SIGKILL"
  kill -KILL "${pid}" 2>/dev/null || true
  rm -f "${PIDFILE}"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
