#!/bin/sh
# shellcheck shell=dash
# Network arguments on kernel-function hooks: socket and a kernel sockaddr
# (security_socket_connect), sock (tcp_connect, IPv4 and IPv6) with the DAddr,
# NotDAddr, DPort, Family and State operators, skb and net_device (loopback_xmit) with
# DPort, SAddr, NotSPortPriv, Protocol and Equal on the device's name.
# Connections to other ports or addresses make no event; a connection to port 9997
# gets its process killed.
# vmtest-timeout: 180
# shellcheck source-path=SCRIPTDIR/..
. ./lib.sh

[ -x "$TETRAGON" ] || skip "tetragon is not built"
cat >"$TMPDIR/net.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "args-net"
spec:
  kprobes:
  - call: "security_socket_connect"
    syscall: false
    args:
    - index: 0
      type: "socket"
    - index: 1
      type: "sockaddr"
    selectors:
    - matchArgs:
      - index: 1
        operator: "SPort"
        values:
        - "9999"
      - index: 0
        operator: "Family"
        values:
        - "AF_INET"
  - call: "tcp_connect"
    syscall: false
    args:
    - index: 0
      type: "sock"
    selectors:
    - matchArgs:
      - index: 0
        operator: "DPort"
        values:
        - "9997"
      matchActions:
      - action: Sigkill
    - matchArgs:
      - index: 0
        operator: "DPort"
        values:
        - "9999"
      - index: 0
        operator: "DAddr"
        values:
        - "127.0.0.1"
        - "::1"
      - index: 0
        operator: "State"
        values:
        - "TCP_SYN_SENT"
      - index: 0
        operator: "NotDAddr"
        values:
        - "10.0.0.0/8"
        - "fd00::/8"
      - index: 0
        operator: "Family"
        values:
        - "AF_INET"
        - "AF_INET6"
  - call: "loopback_xmit"
    syscall: false
    args:
    - index: 0
      type: "skb"
    - index: 1
      type: "net_device"
    selectors:
    - matchArgs:
      - index: 0
        operator: "DPort"
        values:
        - "9999"
      - index: 0
        operator: "SAddr"
        values:
        - "127.0.0.0/8"
      - index: 0
        operator: "NotSPortPriv"
      - index: 0
        operator: "Protocol"
        values:
        - "IPPROTO_TCP"
      - index: 1
        operator: "Equal"
        values:
        - "lo"
EOF

start_agent --tracing-policy "$TMPDIR/net.yaml" || fail "the agent did not start"
tetra getevents -o json >"$TMPDIR/events.json" 2>&1 &
events=$!
subscribed() { tetra status 2>/dev/null | grep -Eq 'grpc.subscribers +[1-9]'; }
wait_until 30 subscribed || fail "tetra getevents did not subscribe"

event() {
	grep "\"function_name\":\"$1\"" "$TMPDIR/events.json" | grep -E -- "$2" | head -1
}

# nothing listens: each connect is refused, after a SYN and a RST over lo
./triggers/sysc connect:127.0.0.1:9999 connect:[::1]:9999 connect:127.0.0.1:9998 \
	connect:127.0.0.2:9999 || fail "sysc connect failed"
./triggers/sysc connect:127.0.0.1:9997
echo $? >"$TMPDIR/kill.rc"
wait_for_line "$TMPDIR/events.json" '"dport":9997' 60 || {
	grep -v '"process_ex' "$TMPDIR/events.json"
	tail -n 30 "$AGENT_LOG"
	fail "no event for the Sigkill selector"
}
# the last trigger's event is in: the earlier ones are too (let its line end)
sleep 0.5

line=$(event security_socket_connect '"port":9999')
log "connect: $line"
assert_contains "$line" '{"sock_arg":{"family":"AF_INET","type":"SOCK_STREAM","protocol":"IPPROTO_TCP",' \
	"socket argument"
assert_contains "$line" '"state":"TCP_CLOSE"' "socket argument: state"
assert_contains "$line" '{"sockaddr_arg":{"family":"AF_INET","addr":"127.0.0.1","port":9999}}' \
	"sockaddr argument (kernel memory)"

line=$(event tcp_connect '"daddr":"127.0.0.1","sport":[0-9]+,"dport":9999')
log "tcp_connect: $line"
assert_contains "$line" '"sock_arg":{"family":"AF_INET","type":"SOCK_STREAM","protocol":"IPPROTO_TCP",' \
	"sock argument"
assert_contains "$line" '"saddr":"127.0.0.1"' "sock argument: saddr"
assert_contains "$line" '"state":"TCP_SYN_SENT"' "sock argument: state"
line=$(event tcp_connect '"daddr":"::1"')
log "tcp_connect IPv6: $line"
assert_contains "$line" '"family":"AF_INET6"' "IPv6 sock argument"
assert_contains "$line" '"saddr":"::1"' "IPv6 sock argument: saddr"
assert_eq "$(event tcp_connect '"dport":9998')" "" "DPort let port 9998 through"
assert_eq "$(event tcp_connect '"daddr":"127.0.0.2"')" "" "DAddr let 127.0.0.2 through"

line=$(event loopback_xmit '"dport":9999')
log "loopback_xmit: $line"
assert_contains "$line" '"skb_arg":{' "skb argument"
assert_contains "$line" '"saddr":"127.0.0.1","daddr":"127.0.0.1"' "skb argument: addresses"
assert_contains "$line" '"proto":6,"protocol":"IPPROTO_TCP","family":"AF_INET"' \
	"skb argument: protocol"
assert_contains "$line" '{"net_dev_arg":{"name":"lo"}}' "net_device argument"
assert_eq "$(event loopback_xmit '"dport":9998')" "" "DPort let a packet to 9998 through"

line=$(event tcp_connect '"dport":9997')
assert_contains "$line" '"action":"KPROBE_ACTION_SIGKILL"' "Sigkill action"
assert_eq "$(cat "$TMPDIR/kill.rc")" 137 "status of the killed sysc"
kill "$events" 2>/dev/null
