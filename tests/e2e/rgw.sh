# SPDX-License-Identifier: GPL-2.0-or-later
#
# rgw.sh - a real Ceph RGW (S3) on loopback for the tests (sourced after
# lib.sh). See ../shared/notes/ceph-rgw.md (facts checked on this machine).
#
#   rgw_start            mon + OSD (memstore) + radosgw on free loopback ports, in a
#                        short temporary folder; a user with known keys; exports
#                        AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
#                        AWS_REGION. Stops what it started when the shell exits.
#   rgw_bucket NAME      create a bucket
#   rgw_kill_gateway     SIGKILL radosgw (the cluster keeps the data), wait until it is gone
#   rgw_start_gateway    start radosgw again, wait until it answers
#   rgw_stop             stop exactly the processes rgw_start started
#   s3curl METHOD PATH [curl args]   a signed request with curl(1), for checks that do
#                        not go through lifeboat
#
# The daemons run in the foreground (-f), started from the test shell, so
# their PIDs are known: each is recorded in $RGW_DIR/pids as it starts (a
# file, not a variable: test bodies run in subshells, and a gateway restarted
# in one must still be stopped at the end), the gateway's also in
# $RGW_DIR/gw.pid. Nothing else is ever killed.

RGW_KEY=lifeboattestkey
RGW_SECRET=lifeboattestsecret0123456789abcdefghijkl
RGW_DIR=""

# a TCP port nothing listens on (a race with another process is possible but
# unlikely in the range; rgw_start fails clearly if a daemon cannot bind)
rgw_free_port() {
	while :; do
		p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 20000 + 30000 ))
		if ! ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return
		fi
	done
}

# rgw_wait_for SECONDS DESCRIPTION CMD...: run CMD every 0.1 s until it succeeds
rgw_wait_for() {
	n=$(( $1 * 10 ))
	what=$2
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		if [ $n -le 0 ]; then
			say "rgw: timed out waiting for $what"
			return 1
		fi
		sleep 0.1
	done
}

# rgw_alive PID: the process exists and is not a zombie
rgw_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] || return 1
	[ "$st" != Z ] && [ "$st" != X ]
}

rgw_ceph() {
	timeout 30 ceph -c "$RGW_DIR/ceph.conf" "$@"
}

rgw_osd_up() {
	rgw_ceph osd dump 2>/dev/null | grep -q '^osd\.0 up'
}

rgw_answers() {
	curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/" | grep -q '^200$'
}

# rgw_spawn NAME CMD...: start CMD in the background, record its PID
rgw_spawn() {
	name=$1
	shift
	"$@" >>"$RGW_DIR/log/$name.out" 2>&1 &
	echo $! >>"$RGW_DIR/pids"
	[ "$name" = rgw ] && echo $! >"$RGW_DIR/gw.pid"
	return 0
}

rgw_port_free() {
	! ss -Htln "sport = :$RGW_PORT" | grep -q .
}

rgw_start_gateway() {
	rgw_spawn rgw radosgw -c "$RGW_DIR/ceph.conf" -n client.rgw.a -f
	rgw_wait_for 60 "radosgw to answer on port $RGW_PORT" rgw_answers
}

rgw_kill_gateway() {
	pid=$(cat "$RGW_DIR/gw.pid")
	kill -9 "$pid" 2>/dev/null
	rgw_wait_for 10 "radosgw ($pid) to exit" sh -c "! [ -d /proc/$pid ] ||
		grep -q '^State:.*[ZX]' /proc/$pid/status" &&
	rgw_wait_for 10 "port $RGW_PORT to be free" rgw_port_free
}

# rgw_stop: SIGTERM to each recorded process, newest first (gateways, OSD,
# monitor), SIGKILL to one still there after 5 s
rgw_stop() {
	[ -n "$RGW_DIR" ] && [ -f "$RGW_DIR/pids" ] || return 0
	for pid in $(tac "$RGW_DIR/pids"); do
		rgw_alive "$pid" || continue
		kill "$pid" 2>/dev/null
		n=50
		while rgw_alive "$pid" && [ $n -gt 0 ]; do
			sleep 0.1
			n=$((n - 1))
		done
		rgw_alive "$pid" && kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -f "$RGW_DIR/pids"
	if [ -z "${LB_TEST_KEEP:-}" ]; then
		rm -rf "$RGW_DIR"
	fi
}

rgw_start() {
	for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph ss curl jq; do
		if ! command -v $tool >/dev/null 2>&1; then
			say "rgw: $tool is missing: run scripts/deps.sh s3 (as root)"
			return 1
		fi
	done
	RGW_DIR=$(mktemp -d /tmp/lbrgw.XXXXXX)
	trap 'rgw_stop' EXIT
	mkdir -p "$RGW_DIR/mon" "$RGW_DIR/osd/ceph-0" "$RGW_DIR/run" "$RGW_DIR/log" "$RGW_DIR/rgw"
	RGW_MON_PORT=$(rgw_free_port)
	RGW_PORT=$(rgw_free_port)
	fsid=$(cat /proc/sys/kernel/random/uuid)
	cat >"$RGW_DIR/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$RGW_MON_PORT
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
ms mon cluster mode = crc secure
ms mon service mode = crc secure
ms client mode = crc secure
ms cluster mode = crc secure
ms service mode = crc secure
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
rgw rados pool pg num min = 8
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
log file = $RGW_DIR/log/\$name.log
mon data = $RGW_DIR/mon/\$cluster-\$id
osd data = $RGW_DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296
mon osd full ratio = 0.99
mon osd nearfull ratio = 0.98
osd failsafe full ratio = 0.995
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = localhost
rgw data = $RGW_DIR/rgw
EOF
	monmaptool --create --fsid "$fsid" --add a "v2:127.0.0.1:$RGW_MON_PORT" \
		"$RGW_DIR/monmap" >"$RGW_DIR/log/setup.out" 2>&1 &&
	ceph-mon -c "$RGW_DIR/ceph.conf" --mkfs -i a --monmap "$RGW_DIR/monmap" \
		>>"$RGW_DIR/log/setup.out" 2>&1 || { say "rgw: ceph-mon --mkfs failed"; return 1; }
	rgw_spawn mon ceph-mon -c "$RGW_DIR/ceph.conf" -i a -f
	osd_uuid=$(cat /proc/sys/kernel/random/uuid)
	id=$(rgw_ceph osd new "$osd_uuid" 2>>"$RGW_DIR/log/setup.out") && [ "$id" = 0 ] ||
		{ say "rgw: 'ceph osd new' failed"; return 1; }
	ceph-osd -c "$RGW_DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" \
		>>"$RGW_DIR/log/setup.out" 2>&1 || { say "rgw: ceph-osd --mkfs failed"; return 1; }
	rgw_spawn osd ceph-osd -c "$RGW_DIR/ceph.conf" -i 0 -f
	rgw_wait_for 60 "osd.0 to be up" rgw_osd_up || return 1
	rgw_start_gateway || return 1
	radosgw-admin -c "$RGW_DIR/ceph.conf" -n client.rgw.a user create --uid test \
		--display-name test --access-key "$RGW_KEY" --secret-key "$RGW_SECRET" \
		>>"$RGW_DIR/log/setup.out" 2>&1 || { say "rgw: radosgw-admin user create failed"; return 1; }
	export AWS_ENDPOINT_URL="http://127.0.0.1:$RGW_PORT"
	export AWS_ACCESS_KEY_ID="$RGW_KEY"
	export AWS_SECRET_ACCESS_KEY="$RGW_SECRET"
	export AWS_REGION=us-east-1
	unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3 LIFEBOAT_S3_ADDRESSING
}

# s3curl METHOD PATH [CURL-ARGS...]: a SigV4-signed request (curl signs it; the
# payload hash header is that of an empty body); prints the body, fails on HTTP >= 400
s3curl() {
	m=$1
	p=$2
	shift 2
	curl -sS --fail-with-body -X "$m" --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
		"$@" "$AWS_ENDPOINT_URL$p"
}

rgw_bucket() {
	s3curl PUT "/$1" >/dev/null
}

# s3_list BUCKET PREFIX: "KEY SIZE LASTMODIFIED" for each object under PREFIX
# (every page; keys are taken as they come, without XML entities: ours are hex)
s3_list() {
	tok=""
	while :; do
		q="list-type=2&prefix=$(printf '%s' "$2" | jq -sRr @uri)"
		[ -n "$tok" ] && q="continuation-token=$(printf '%s' "$tok" | jq -sRr @uri)&$q"
		page=$(s3curl GET "/$1?$q") || return 1
		printf '%s\n' "$page" | sed 's/<Contents>/\n/g' | sed -n \
			's/^<Key>\([^<]*\)<\/Key><LastModified>\([^<]*\)<.*<Size>\([0-9]*\)<\/Size>.*/\1 \3 \2/p'
		case $page in *"<IsTruncated>true</IsTruncated>"*) ;; *) return 0 ;; esac
		tok=$(printf '%s' "$page" | sed -n 's/.*<NextContinuationToken>\([^<]*\)<.*/\1/p')
		[ -n "$tok" ] || return 1
	done
}

# s3_get BUCKET KEY FILE / s3_put BUCKET KEY FILE (overwrites) / s3_rm BUCKET KEY
s3_get() {
	s3curl GET "/$1/$2" -o "$3"
}
s3_put() {
	curl -sS --fail-with-body -X PUT --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H "x-amz-content-sha256: $(sha256sum "$3" | cut -d' ' -f1)" \
		--data-binary "@$3" "$AWS_ENDPOINT_URL/$1/$2" >/dev/null
}
s3_rm() {
	s3curl DELETE "/$1/$2" >/dev/null
}
# s3_copy BUCKET SRCKEY DSTKEY: a server-side copy
s3_copy() {
	s3curl PUT "/$1/$3" -H "x-amz-copy-source: /$1/$2" >/dev/null
}
