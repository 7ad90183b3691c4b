#!/usr/bin/env bash
# Actions: rateLimit bounds the number of events; NoPost suppresses the event and keeps the
# other actions; Signal delivers argSig; GetUrl and DnsLookup run in the agent; Post with
# kernelStackTrace and userStackTrace carries symbolized stacks.
source "$(dirname "$0")/../lib.sh"

start_agent
start_events "$CASE_DIR/events.json"
SYSC="$TRIGGERS/sysc"
only_sysc="      matchBinaries:
      - operator: In
        values: [\"$SYSC\"]"

lseek_policy() { # NAME RANGE ACTIONS
	add_policy "$(policy "$1" "  kprobes:
  - call: sys_lseek
    syscall: true
    args:
    - index: 1
      type: int64
    selectors:
    - matchArgs:
      - {index: 1, operator: InRange, values: [\"$2\"]}
$only_sysc
      matchActions:
$3")"
}
count() { # POLICY
	json_query "$CASE_DIR/events.json" "len([e for e in events if e.get('process_kprobe', {}).get('policy_name') == '$1'])"
}

# rateLimit: 50 identical calls within a minute post once
lseek_policy rate 100:199 "      - action: Post
        rateLimit: 1m"
steps=()
for i in $(seq 50); do steps+=(lseek:150); done
"$SYSC" "${steps[@]}" lseek:151
sleep 1
n=$(count rate)
[ "$n" -eq 2 ] || fail "rateLimit let $n events through, expected 2 (one per distinct argument)"
wait_counter rate post 2 || fail "post counter"

# NoPost + Signal: no event, but the signal is delivered (SIGUSR1 = 10)
lseek_policy quiet-signal 200:299 "      - action: NoPost
      - action: Signal
        argSig: 10"
"$SYSC" lseek:250
rc=$?
[ $rc -eq $((128 + 10)) ] || fail "Signal argSig 10: sysc exited $rc"
sleep 0.5
[ "$(count quiet-signal)" -eq 0 ] || fail "NoPost still posted"
wait_counter quiet-signal signal 1 || fail "signal counter"
wait_counter quiet-signal nopost 1 || fail "nopost counter"

# GetUrl and DnsLookup, against a local HTTP server
port=$(free_port)
mkdir -p "$CASE_DIR/www"
echo canary >"$CASE_DIR/www/canary"
(cd "$CASE_DIR/www" && exec python3 -m http.server "$port" --bind 127.0.0.1) >"$CASE_DIR/http.log" 2>&1 &
CASE_PIDS+=("$!")
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" || fail "no http server"
lseek_policy url 300:399 "      - action: GetUrl
        argUrl: http://127.0.0.1:$port/canary
      - action: DnsLookup
        argFqdn: localhost"
"$SYSC" lseek:300
wait_for 10 grep -q "GET /canary" "$CASE_DIR/http.log" || fail "GetUrl did not reach the server"
wait_for 10 sh -c "'$TETRA' --server-address $AGENT_ADDR status | grep -Eq 'actions.dns_lookup_ok +[1-9]'" ||
	fail "DnsLookup not counted: $(tetra status | grep actions)"
json_query "$CASE_DIR/events.json" "any(e.get('process_kprobe', {}).get('action') == 'KPROBE_ACTION_GETURL' for e in events)" ||
	fail "no event with the GetUrl action"

# stack traces: symbols from kallsyms and from the binaries' ELF symbol tables
lseek_policy stacks 400:499 "      - action: Post
        kernelStackTrace: true
        userStackTrace: true"
# user addresses are symbolized from the process's mappings: it must still be there
"$SYSC" lseek:400 sleep:3000 &
CASE_PIDS+=("$!")
wait_for 10 json_query "$CASE_DIR/events.json" "any(e.get('process_kprobe', {}).get('policy_name') == 'stacks' for e in events)" ||
	fail "no stack event"
python3 - "$CASE_DIR/events.json" <<'PY' || fail "stacks: $(grep '"stacks"' "$CASE_DIR/events.json" | head -1 | cut -c1-3000)"
import json, sys
evs = [json.loads(l).get("process_kprobe") for l in open(sys.argv[1])]
ev = [e for e in evs if e and e.get("policy_name") == "stacks"][0]
k, u = ev.get("kernel_stack_trace", []), ev.get("user_stack_trace", [])
assert k and u, (k, u)
assert any("syscall" in s.get("symbol", "") for s in k), k
assert any(s.get("module", "").endswith(("sysc", "libc.so.6")) and s.get("symbol") for s in u), u
PY
