#!/bin/sh
# Starts or stops the local Cairn cluster of modules/local. Called by the module's
# terraform_data provisioners with everything in the environment:
#
#   start: CAIRN_BIN WORK_DIR NODE_COUNT DRIVES_PER_NODE ADDRESSES (one per node,
#          space-separated) POOL SERVER_ARGS READY_TIMEOUT CAIRN_ROOT_USER
#          CAIRN_ROOT_PASSWORD
#   stop:  WORK_DIR NODE_COUNT
#
# Layout under WORK_DIR: data/nodeI/dJ (drives), logs/nodeI.log, run/nodeI.pid
# (PID) and run/nodeI.address. stop signals only PIDs whose command line is still
# `cairn server --address <the recorded address>`, then removes data/ and run/.
set -eu

log() { echo "cairn-local: $*" >&2; }

# is_ours PID ADDRESS: the process is alive and is the node we started.
is_ours() {
	args=$(ps -o args= -p "$1" 2>/dev/null) || return 1
	case "$args" in
	*" server --address $2 "*) return 0 ;;
	esac
	return 1
}

stop_nodes() {
	run="$WORK_DIR/run"
	[ -d "$run" ] || return 0
	pids=""
	for pidfile in "$run"/node*.pid; do
		[ -f "$pidfile" ] || continue
		pid=$(cat "$pidfile")
		addr=$(cat "${pidfile%.pid}.address" 2>/dev/null || echo "?")
		if is_ours "$pid" "$addr"; then
			log "stopping $(basename "${pidfile%.pid}") (pid $pid, $addr)"
			kill -TERM "$pid" 2>/dev/null || true
			pids="$pids $pid:$addr"
		fi
		rm -f "$pidfile" "${pidfile%.pid}.address"
	done
	# Graceful for up to 15 s, then SIGKILL.
	i=0
	while [ -n "$pids" ] && [ $i -lt 150 ]; do
		left=""
		for pa in $pids; do
			if is_ours "${pa%%:*}" "${pa#*:}"; then left="$left $pa"; fi
		done
		pids=$left
		[ -n "$pids" ] || break
		sleep 0.1
		i=$((i + 1))
	done
	for pa in $pids; do
		log "pid ${pa%%:*} did not stop in 15 s; killing it"
		kill -KILL "${pa%%:*}" 2>/dev/null || true
	done
}

ready() {
	url="$1/cairn/health/ready"
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null
	else
		wget -q -O /dev/null -T 2 "$url" 2>/dev/null
	fi
}

start() {
	mkdir -p "$WORK_DIR/data" "$WORK_DIR/logs" "$WORK_DIR/run"
	# Nodes of an earlier, failed start: stop them first.
	stop_nodes

	i=1
	for addr in $ADDRESSES; do
		j=1
		while [ $j -le "$DRIVES_PER_NODE" ]; do
			mkdir -p "$WORK_DIR/data/node$i/d$j"
			j=$((j + 1))
		done
		i=$((i + 1))
	done

	# Last node first: the node owning the first endpoint formats the cluster, the
	# others wait for it (README, Clusters).
	i=$NODE_COUNT
	for addr in $(echo "$ADDRESSES" | tr ' ' '\n' | sed -n '1!G;h;$p'); do
		logf="$WORK_DIR/logs/node$i.log"
		echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) cairn server --address $addr $SERVER_ARGS $POOL" >>"$logf"
		# shellcheck disable=SC2086 # SERVER_ARGS is a word list
		nohup "$CAIRN_BIN" server --address "$addr" $SERVER_ARGS "$POOL" </dev/null >>"$logf" 2>&1 &
		echo $! >"$WORK_DIR/run/node$i.pid"
		echo "$addr" >"$WORK_DIR/run/node$i.address"
		log "node $i: pid $! on http://$addr (log $logf)"
		i=$((i - 1))
	done

	deadline=$(($(date +%s) + READY_TIMEOUT))
	i=1
	for addr in $ADDRESSES; do
		until ready "http://$addr"; do
			# A node that exits (port taken, bad drive, …) fails the start at once.
			k=1
			for a in $ADDRESSES; do
				if ! is_ours "$(cat "$WORK_DIR/run/node$k.pid")" "$a"; then
					fail "node $k ($a) exited before the cluster was ready" "$k"
				fi
				k=$((k + 1))
			done
			if [ "$(date +%s)" -ge $deadline ]; then
				fail "node $i ($addr) not ready after ${READY_TIMEOUT}s" "$i"
			fi
			sleep 0.2
		done
		log "node $i ready: http://$addr"
		i=$((i + 1))
	done
}

# fail MESSAGE NODE: report with the node's log tail, stop every node, remove the
# data and exit 1. Terraform marks the resource tainted and does not run the
# destroy-time provisioner of a tainted resource, so nothing else would clean up.
fail() {
	log "$1; last lines of $WORK_DIR/logs/node$2.log:"
	tail -n 20 "$WORK_DIR/logs/node$2.log" >&2 || true
	stop_nodes
	rm -rf "$WORK_DIR/data" "$WORK_DIR/run"
	exit 1
}

stop() {
	stop_nodes
	rm -rf "$WORK_DIR/data" "$WORK_DIR/run"
	log "stopped; removed $WORK_DIR/data (logs kept in $WORK_DIR/logs)"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop (see the header for the environment)" >&2
	exit 2
	;;
esac
