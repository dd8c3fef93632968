#!/bin/sh
# Starts or rolls the Cairn service on every host of modules/onprem (the
# terraform_data.rollout provisioner). Environment:
#
#   NODES          one line per host, in pool order, tab-separated:
#                  ssh host, node address (host:port), status, start and restart commands
#   SSH_USER SSH_PORT SSH_KEY KNOWN_HOSTS (empty: accept-new into ~/.ssh/known_hosts)
#   SUDO           "sudo -n " for a non-root SSH user, else empty
#   READY_TIMEOUT  seconds a node may take to answer /cairn/health/ready
#
# No node running: a fresh cluster. Every host is started, then all are waited
# for together (the node of the first endpoint formats, the others wait for it).
# Otherwise: one host at a time is restarted (or started) and waited for until it
# is ready before the next, so a configuration or binary change never takes down
# more than one node.
set -eu

log() { echo "cairn-rollout: $*" >&2; }

ssh_opts="-o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR -p $SSH_PORT -i $SSH_KEY"
if [ -n "${KNOWN_HOSTS:-}" ]; then
	ssh_opts="$ssh_opts -o UserKnownHostsFile=$KNOWN_HOSTS -o StrictHostKeyChecking=accept-new"
else
	ssh_opts="$ssh_opts -o StrictHostKeyChecking=accept-new"
fi

# on HOST CMD: run CMD as root on HOST.
on() {
	q=$(printf '%s' "$2" | sed "s/'/'\\\\''/g")
	# shellcheck disable=SC2086 # ssh_opts is a word list
	ssh $ssh_opts "$SSH_USER@$1" "${SUDO:-}sh -c '$q'" </dev/null
}

ready() { # HOST ADDRESS: the node answers /cairn/health/ready (asked on the host itself)
	on "$1" "curl -fsS -o /dev/null --max-time 3 http://$2/cairn/health/ready 2>/dev/null || wget -q -O /dev/null -T 3 http://$2/cairn/health/ready" >/dev/null 2>&1
}

wait_ready() { # HOST ADDRESS
	deadline=$(($(date +%s) + READY_TIMEOUT))
	until ready "$1" "$2"; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			log "$2 is not ready after ${READY_TIMEOUT}s"
			return 1
		fi
		sleep 1
	done
	log "$2 ready"
}

tab=$(printf '\t')
running=0
while IFS="$tab" read -r host addr status start restart; do
	if on "$host" "$status" >/dev/null 2>&1; then running=$((running + 1)); fi
done <<EOF_NODES
$NODES
EOF_NODES

if [ "$running" -eq 0 ]; then
	log "no node running: starting every host"
	while IFS="$tab" read -r host addr status start restart; do
		on "$host" "$start"
	done <<EOF_NODES
$NODES
EOF_NODES
	while IFS="$tab" read -r host addr status start restart; do
		wait_ready "$host" "$addr"
	done <<EOF_NODES
$NODES
EOF_NODES
	exit 0
fi

log "$running node(s) running: rolling restart, one host at a time"
while IFS="$tab" read -r host addr status start restart; do
	if on "$host" "$status" >/dev/null 2>&1; then
		log "restarting $addr"
		on "$host" "$restart"
	else
		log "starting $addr"
		on "$host" "$start"
	fi
	wait_ready "$host" "$addr"
done <<EOF_NODES
$NODES
EOF_NODES
