#!/bin/sh
# Installs one Cairn node (run as root on the node; idempotent). Used by
# modules/onprem (over SSH, after uploading the files to CAIRN_STAGE) and by the
# cloud-init of modules/aws, azure and gcp. Everything comes from the environment:
#
#   CAIRN_BINARY         where the binary goes (/usr/local/bin/cairn)
#   CAIRN_BINARY_URL     download it from here (cloud-init), checked against
#   CAIRN_BINARY_SHA256  this SHA-256 when set
#   CAIRN_STAGE          a directory holding files to install: cairn (binary),
#                        cairn.env, cairn.service, unit-run.sh (each optional)
#   CAIRN_USER           system user of the server; created when missing
#   CAIRN_CONFIG_DIR     cairn.env goes here (mode 0600, root)
#   CAIRN_UNIT_FILE      the systemd unit's path
#   CAIRN_LIB_DIR        install.sh and unit-run.sh go here
#   CAIRN_DRIVES         drive directories (space-separated), created and owned by CAIRN_USER
#   CAIRN_DISKS          DEVICE=DIR pairs (space-separated): DEVICE is formatted
#                        (XFS) when it holds no filesystem and mounted on DIR
#                        (fstab by UUID, nofail); waits up to 5 min for it
#   CAIRN_START          systemd: daemon-reload, enable and restart cairn now;
#                        none (default): the caller starts it
set -eu

log() { echo "cairn-install: $*" >&2; }
die() { log "$*"; exit 1; }

: "${CAIRN_BINARY:=/usr/local/bin/cairn}"
: "${CAIRN_USER:=cairn}"
: "${CAIRN_CONFIG_DIR:=/etc/cairn}"
: "${CAIRN_UNIT_FILE:=/etc/systemd/system/cairn.service}"
: "${CAIRN_LIB_DIR:=/usr/local/lib/cairn}"
: "${CAIRN_DRIVES:=}"
: "${CAIRN_DISKS:=}"
: "${CAIRN_STAGE:=}"
: "${CAIRN_START:=none}"

# The user, a system account without a login shell.
if ! id -u "$CAIRN_USER" >/dev/null 2>&1; then
	log "creating system user $CAIRN_USER"
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$CAIRN_USER"
fi
group=$(id -gn "$CAIRN_USER")

# install_file SRC DST MODE: copy when the content differs (atomic rename).
install_file() {
	mkdir -p "$(dirname "$2")"
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		chmod "$3" "$2"
		return 0
	fi
	cp "$1" "$2.new.$$"
	chmod "$3" "$2.new.$$"
	mv -f "$2.new.$$" "$2"
	log "installed $2"
}

# The binary.
if [ -n "$CAIRN_STAGE" ] && [ -f "$CAIRN_STAGE/cairn" ]; then
	install_file "$CAIRN_STAGE/cairn" "$CAIRN_BINARY" 0755
elif [ -n "${CAIRN_BINARY_URL:-}" ]; then
	tmp=$(mktemp)
	for i in 1 2 3 4 5; do
		if command -v curl >/dev/null 2>&1; then
			curl -fsSL --retry 3 -o "$tmp" "$CAIRN_BINARY_URL" && break
		else
			wget -q -O "$tmp" "$CAIRN_BINARY_URL" && break
		fi
		log "download of $CAIRN_BINARY_URL failed (try $i)"; sleep 5
	done
	if [ -n "${CAIRN_BINARY_SHA256:-}" ]; then
		echo "$CAIRN_BINARY_SHA256  $tmp" | sha256sum -c - >/dev/null || die "SHA-256 of $CAIRN_BINARY_URL is not $CAIRN_BINARY_SHA256"
	fi
	install_file "$tmp" "$CAIRN_BINARY" 0755
	rm -f "$tmp"
fi
[ -x "$CAIRN_BINARY" ] || die "no cairn binary at $CAIRN_BINARY (set CAIRN_STAGE or CAIRN_BINARY_URL)"

# Configuration and unit.
mkdir -p "$CAIRN_CONFIG_DIR" "$CAIRN_LIB_DIR"
chmod 0755 "$CAIRN_CONFIG_DIR"
if [ -n "$CAIRN_STAGE" ]; then
	[ ! -f "$CAIRN_STAGE/cairn.env" ] || install_file "$CAIRN_STAGE/cairn.env" "$CAIRN_CONFIG_DIR/cairn.env" 0600
	[ ! -f "$CAIRN_STAGE/cairn.service" ] || install_file "$CAIRN_STAGE/cairn.service" "$CAIRN_UNIT_FILE" 0644
	[ ! -f "$CAIRN_STAGE/unit-run.sh" ] || install_file "$CAIRN_STAGE/unit-run.sh" "$CAIRN_LIB_DIR/unit-run.sh" 0755
	[ ! -f "$CAIRN_STAGE/install.sh" ] || install_file "$CAIRN_STAGE/install.sh" "$CAIRN_LIB_DIR/install.sh" 0755
fi

# Disks: format when blank, mount by UUID.
for pair in $CAIRN_DISKS; do
	dev=${pair%%=*}
	dir=${pair#*=}
	i=0
	while [ ! -b "$dev" ]; do
		[ $i -lt 300 ] || die "disk $dev did not appear in 5 minutes"
		sleep 1; i=$((i + 1))
	done
	if ! blkid "$dev" >/dev/null 2>&1; then
		log "formatting $dev (xfs)"
		mkfs.xfs -q "$dev"
	fi
	uuid=$(blkid -s UUID -o value "$dev")
	mkdir -p "$dir"
	if ! grep -q "UUID=$uuid " /etc/fstab; then
		echo "UUID=$uuid $dir xfs defaults,noatime,nofail 0 2" >>/etc/fstab
	fi
	mountpoint -q "$dir" || mount "$dir"
done

# Drive directories.
for d in $CAIRN_DRIVES; do
	mkdir -p "$d"
	chown "$CAIRN_USER:$group" "$d"
	chmod 0750 "$d"
done

case "$CAIRN_START" in
systemd)
	systemctl daemon-reload
	systemctl enable cairn.service >/dev/null 2>&1
	systemctl restart cairn.service
	log "cairn.service (re)started"
	;;
none) ;;
*) die "CAIRN_START must be systemd or none" ;;
esac
