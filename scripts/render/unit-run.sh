#!/bin/sh
# unit-run.sh start|stop|restart|status UNIT_FILE
#
# A small stand-in for systemd on hosts without it (containers, CI): runs the
# ExecStart= line of a unit rendered by scripts/render with the unit's
# EnvironmentFile= and User=, in its own session, restarted 5 s after it exits
# (Restart=always). The PID of the session leader is UNIT_FILE.pid, the output
# goes to UNIT_FILE.log. stop sends SIGTERM to the whole session, SIGKILL after
# 30 s (TimeoutStopSec). Only what scripts/render writes is understood: ExecStart
# words in double quotes with \\ \" %% $$ escapes, env lines KEY="value".
set -eu

cmd=${1:-}
unit=${2:-}
[ -n "$cmd" ] && [ -f "$unit" ] || { echo "usage: $0 start|stop|restart|status UNIT_FILE" >&2; exit 2; }
pidfile="$unit.pid"
logfile="$unit.log"

running() {
	[ -f "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	kill -0 "$pid" 2>/dev/null || return 1
	# A zombie or a reused PID is not ours.
	[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]
}

# words: the environment (KEY=value, one a line) then the command (one word a line).
words() {
	awk '
	function unquote(s,   out, i, c) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\\" && i < length(s)) { i++; c = substr(s, i, 1) }
			out = out c
		}
		return out
	}
	FNR == NR {
		if ($0 ~ /^EnvironmentFile=/) { f = substr($0, 17); sub(/^-/, "", f); envfile = f }
		if ($0 ~ /^ExecStart=/) exec = substr($0, 11)
		next
	}
	END {
		if (envfile != "") {
			while ((getline line < envfile) > 0) {
				if (line ~ /^[ \t]*(#|$)/) continue
				k = line; sub(/=.*/, "", k)
				v = substr(line, length(k) + 2)
				if (v ~ /^".*"$/) v = unquote(substr(v, 2, length(v) - 2))
				print k "=" v
			}
		}
		# systemd words: "…" with \ escapes; %% and $$ doubled.
		n = length(exec); w = ""; inw = 0; q = 0
		for (i = 1; i <= n; i++) {
			c = substr(exec, i, 1)
			if (q) {
				if (c == "\\" && i < n) { i++; w = w substr(exec, i, 1); continue }
				if (c == "\"") { q = 0; continue }
			} else {
				if (c == " " || c == "\t") { if (inw) { print w; w = ""; inw = 0 }; continue }
				if (c == "\"") { q = 1; inw = 1; continue }
			}
			if ((c == "%" || c == "$") && substr(exec, i + 1, 1) == c) i++
			w = w c; inw = 1
		}
		if (inw) print w
	}' "$unit" "$unit"
}

start() {
	if running; then
		echo "unit-run: $unit already running (pid $(cat "$pidfile"))" >&2
		return 0
	fi
	user=$(sed -n 's/^User=//p' "$unit" | tail -n 1)
	set --
	while IFS= read -r w; do set -- "$@" "$w"; done <<WORDS
$(words)
WORDS
	as=""
	if [ -n "$user" ] && [ "$user" != "$(id -un)" ]; then as="runuser -u $user --"; fi
	echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) unit-run start $unit" >>"$logfile"
	# shellcheck disable=SC2086 # $as is a word list
	setsid sh -c 'while :; do '"$as"' env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"; echo "unit-run: exited with $?; restarting in 5 s"; sleep 5; done' unit-run "$@" </dev/null >>"$logfile" 2>&1 &
	echo $! >"$pidfile"
	echo "unit-run: started $unit (pid $!, log $logfile)" >&2
}

stop() {
	running || { rm -f "$pidfile"; return 0; }
	pid=$(cat "$pidfile")
	kill -TERM "-$pid" 2>/dev/null || true
	i=0
	while kill -0 "-$pid" 2>/dev/null; do
		if [ $i -ge 300 ]; then
			echo "unit-run: $unit did not stop in 30 s; killing it" >&2
			kill -KILL "-$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1; i=$((i + 1))
	done
	rm -f "$pidfile"
	echo "unit-run: stopped $unit" >&2
}

case "$cmd" in
start) start ;;
stop) stop ;;
restart) stop; start ;;
status) if running; then echo "running (pid $(cat "$pidfile"))"; else echo "stopped"; exit 3; fi ;;
*) echo "usage: $0 start|stop|restart|status UNIT_FILE" >&2; exit 2 ;;
esac
