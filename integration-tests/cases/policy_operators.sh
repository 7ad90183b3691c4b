#!/usr/bin/env bash
# Every operator family evaluated in the kernel shows a match and a non-match: numbers
# (Equal, NotEqual, GT, LT, Mask, InMap, NotInMap, InRange, NotInRange) on lseek's offset,
# strings (Equal, NotEqual, Prefix, NotPrefix, Postfix, NotPostfix) on openat's path, and
# socket addresses (Family, SAddr, NotSAddr, SPort, NotSPort, DPortPriv) on connect.
source "$(dirname "$0")/../lib.sh"

start_agent
start_events "$CASE_DIR/events.json"
SYSC="$TRIGGERS/sysc"
only_sysc="      matchBinaries:
      - operator: In
        values: [\"$SYSC\"]"

num() { # NAME OPERATOR VALUES
	add_policy "$(policy "$1" "  kprobes:
  - call: sys_lseek
    syscall: true
    args:
    - index: 0
      type: int
    - index: 1
      type: int64
    selectors:
    - matchArgs:
      - index: 1
        operator: $2
        values: $3
$only_sysc")"
}
num num-eq Equal '["11", "12"]'
num num-neq NotEqual '["11"]'
num num-gt GT '["100"]'
num num-lt LT '["100"]'
num num-mask Mask '["0x8"]'
num num-inmap InMap '["12", "200:202"]'
num num-notinmap NotInMap '["12"]'
num num-inrange InRange '["10:20"]'
num num-notinrange NotInRange '["10:20"]'

str() { # NAME OPERATOR VALUES
	add_policy "$(policy "$1" "  kprobes:
  - call: sys_openat
    syscall: true
    args:
    - index: 1
      type: string
    selectors:
    - matchArgs:
      - index: 1
        operator: $2
        values: $3
$only_sysc")"
}
long="/nonexistent/$(printf 'L%.0s' $(seq 300))"
str str-eq Equal "[\"/nonexistent/a.txt\", \"$long\"]"
str str-neq NotEqual '["/nonexistent/a.txt"]'
str str-prefix Prefix '["/nonexistent/dir/"]'
str str-notprefix NotPrefix '["/nonexistent/dir/"]'
str str-postfix Postfix '[".conf"]'
str str-notpostfix NotPostfix '[".conf"]'

sock() { # NAME OPERATOR VALUES
	add_policy "$(policy "$1" "  kprobes:
  - call: sys_connect
    syscall: true
    args:
    - index: 1
      type: sockaddr
    selectors:
    - matchArgs:
      - index: 1
        operator: $2
        values: $3
$only_sysc")"
}
sock sa-family Family '["AF_INET6"]'
sock sa-saddr SAddr '["127.0.0.0/8"]'
sock sa-notsaddr NotSAddr '["127.0.0.1"]'
sock sa-sport SPort '["80:90"]'
sock sa-notsport NotSPort '["81"]'
add_policy "$(policy sa-sportpriv "  kprobes:
  - call: sys_connect
    syscall: true
    args:
    - index: 1
      type: sockaddr
    selectors:
    - matchArgs:
      - index: 1
        operator: SPortPriv
$only_sysc")"

"$SYSC" lseek:11 lseek:12 lseek:100 lseek:200 lseek:1000 lseek:-5 \
	open:/nonexistent/a.txt open:/nonexistent/dir/b.conf open:/nonexistent/c.conf \
	open:/nonexistent/dir/d.txt "open:$long" \
	connect:127.0.0.1:81 connect:127.0.0.2:5555 "connect:[::1]:82" || fail "sysc failed"

expect() { # POLICY EXPR EXPECTED-VALUES...
	local want got
	want=$(printf '%s\n' "${@:3}" | sort)
	for _ in $(seq 50); do
		got=$(policy_values "$CASE_DIR/events.json" "$1" "$2")
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "$1 matched [$(echo $got)], expected [$(echo $want)]"
}
off='ev["args"][1]["long_arg"]'
expect num-eq "$off" 11 12
expect num-neq "$off" 12 100 200 1000 -5
expect num-gt "$off" 200 1000
expect num-lt "$off" 11 12 -5
expect num-mask "$off" 11 12 200 1000 -5
expect num-inmap "$off" 12 200
expect num-notinmap "$off" 11 100 200 1000 -5
expect num-inrange "$off" 11 12
expect num-notinrange "$off" 100 200 1000 -5
# the loader's own opens (ld.so.cache, libc) are not part of the probe
path='ev["args"][0]["string_arg"] if ev["args"][0]["string_arg"].startswith("/nonexistent") else None'
expect str-eq "$path" /nonexistent/a.txt "$long"
expect str-neq "$path" /nonexistent/dir/b.conf /nonexistent/c.conf /nonexistent/dir/d.txt "$long"
expect str-prefix "$path" /nonexistent/dir/b.conf /nonexistent/dir/d.txt
expect str-notprefix "$path" /nonexistent/a.txt /nonexistent/c.conf "$long"
expect str-postfix "$path" /nonexistent/dir/b.conf /nonexistent/c.conf
expect str-notpostfix "$path" /nonexistent/a.txt /nonexistent/dir/d.txt "$long"
sa='ev["args"][0]["sockaddr_arg"]["addr"] + ":" + str(ev["args"][0]["sockaddr_arg"].get("port", 0))'
expect sa-family "$sa" ::1:82
expect sa-saddr "$sa" 127.0.0.1:81 127.0.0.2:5555
expect sa-notsaddr "$sa" 127.0.0.2:5555 ::1:82
expect sa-sport "$sa" 127.0.0.1:81 ::1:82
expect sa-notsport "$sa" 127.0.0.2:5555 ::1:82
expect sa-sportpriv "$sa" 127.0.0.1:81 ::1:82
