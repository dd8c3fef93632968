#!/bin/bash
# Lists a bucket on a four-node loopback cluster (4 drives per node, one 12+4 set)
# and reports the listing rate and the four servers' CPU per object listed.
#
#   scripts/listbench/cluster.sh CAIRN_BINARY DATA_DIR [raw|sdk] [fill]
#
# DATA_DIR holds the nodes' drives (n1/d1 … n4/d$DRIVES, DRIVES=4 by default) and
# logs; "fill" first puts $N (default 100000) empty objects. Extra server flags: $EXTRA (e.g.
# "--scanner-rate 1"). Needs listbench built: go build -o /tmp/listbench ./scripts/listbench
set -euo pipefail
BIN=$(realpath "$1"); DIR=$(realpath -m "$2"); CLIENT=${3:-raw}; FILL=${4:-}
N=${N:-100000}; LISTBENCH=${LISTBENCH:-/tmp/listbench}
export AWS_ACCESS_KEY_ID=benchadmin AWS_SECRET_ACCESS_KEY=benchsecret123
D=${DRIVES:-4} # drives per node
drives="d{1...$D}"; [ "$D" = 1 ] && drives=d1
POOL="http://127.0.0.1:9641$DIR/n1/$drives,http://127.0.0.1:9642$DIR/n2/$drives,http://127.0.0.1:9643$DIR/n3/$drives,http://127.0.0.1:9644$DIR/n4/$drives"
for i in 1 2 3 4; do for j in $(seq "$D"); do mkdir -p "$DIR/n$i/d$j"; done; done
pids=()
for i in 1 2 3 4; do
  CAIRN_ROOT_USER=$AWS_ACCESS_KEY_ID CAIRN_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY \
    "$BIN" server ${EXTRA:-} --address 127.0.0.1:964$i "$POOL" > "$DIR/n$i.log" 2>&1 &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait' EXIT
sleep 20 # all nodes up, the start's background work done
cpu() { local t=0; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
if [ "$FILL" = fill ]; then
  "$LISTBENCH" -endpoint http://127.0.0.1:9641 -n "$N" -concurrency 256 -passes 0
fi
c0=$(cpu)
out=$("$LISTBENCH" -endpoint http://127.0.0.1:9641 -fill=false -n "$N" -passes 3 -client "$CLIENT" | grep pass)
c1=$(cpu)
echo "$out"
listed=$(echo "$out" | awk '{n += $4} END {print n}')
echo "cluster CPU: $((c1 - c0)) ticks (1/100 s) for $listed objects = $(((c1 - c0) * 10000 / listed)) µs per object; load $(cut -d' ' -f1 /proc/loadavg)"
