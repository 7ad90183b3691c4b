// SPDX-License-Identifier: Apache-2.0
/*
 * manager_sim: many light agents in one process, each with its own TCP connection and
 * fleet.Fleet/Connect stream, speaking the real protocol to a tetragon-manager.
 *
 *   manager_sim ingest ADDR AGENTS SECONDS     send events as fast as acks allow; print
 *                                              the events/s the manager acknowledged
 *   manager_sim policy ADDR AGENTS ROUNDS      add a policy and toggle its mode ROUNDS times;
 *                                              print how long until every agent reported
 *   manager_sim idle ADDR AGENTS SECONDS       hold the streams open (for RSS)
 *
 * A simulated agent answers every DesiredState at once with a status report that says
 * what it asked for (ENABLED or DISABLED, in the desired mode), so the policy numbers are
 * the manager's part of the path plus the network, BPF load time excluded.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include "fleet/fleet.pb-c.h"
#include "lib/rpc.h"
#include "lib/util.h"
#include "tetragon/sensors.pb-c.h"

#define WINDOW_BATCHES 8
#define EVENTS_PER_BATCH 1000
#define VARIANTS 64

struct sim;

struct agent {
	struct sim *s;
	int idx;
	char name[32];
	grpc_channel *ch;
	struct rpc_client_call *call;
	bool welcomed;
	uint64_t next_seq;
	uint64_t acked;
	unsigned inflight;
	uint64_t acked_events;
	uint64_t reported_gen;
	uint64_t reported_ns;
	uint64_t last_time;
	grpc_slice events[VARIANTS];
};

struct sim {
	uv_loop_t *loop;
	struct rpc_cq *cq;
	const char *addr;
	struct agent *agents;
	int n;
	bool send_events;
	unsigned welcomed;
	unsigned closed;
	uv_timer_t heartbeat;
	uv_async_t wake; /* the driver thread asks the loop to stop */
	bool stopping;

	/* the policy driver waits for every agent to report a generation */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t want_gen;
	unsigned reported;
	uint64_t last_report_ns;
};

static grpc_slice make_event(const char *node, int variant)
{
	Tetragon__GetEventsResponse ev = TETRAGON__GET_EVENTS_RESPONSE__INIT;
	Tetragon__ProcessExec ex = TETRAGON__PROCESS_EXEC__INIT;
	Tetragon__Process p = TETRAGON__PROCESS__INIT, parent = TETRAGON__PROCESS__INIT;
	Google__Protobuf__UInt32Value pid = GOOGLE__PROTOBUF__UINT32_VALUE__INIT, ppid = pid,
				      uid = pid;
	Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT, st = t;
	char exec_id[64], pexec_id[64], bin[64], args[128];
	uint64_t now = now_realtime_ns();

	pid.value = 10000 + (uint32_t)variant;
	ppid.value = 1000;
	snprintf(exec_id, sizeof(exec_id), "%s:%" PRIu64 ":%u", node, now, pid.value);
	snprintf(pexec_id, sizeof(pexec_id), "%s:1000:1000", node);
	snprintf(bin, sizeof(bin), "/usr/bin/tool-%d", variant % 16);
	snprintf(args, sizeof(args), "--flag value-%d /var/lib/something/file-%d.conf", variant,
		 variant);
	p.exec_id = exec_id;
	p.pid = &pid;
	p.uid = &uid;
	p.cwd = "/home/user/work";
	p.binary = bin;
	p.arguments = args;
	p.flags = "execve clone";
	st.seconds = (int64_t)(now / 1000000000ull);
	p.start_time = &st;
	p.parent_exec_id = pexec_id;
	parent.exec_id = pexec_id;
	parent.pid = &ppid;
	parent.binary = "/usr/bin/bash";
	parent.cwd = "/home/user";
	parent.arguments = "-l";
	parent.flags = "procFS";
	parent.start_time = &st;
	ex.process = &p;
	ex.parent = &parent;
	ev.event_case = TETRAGON__GET_EVENTS_RESPONSE__EVENT_PROCESS_EXEC;
	ev.process_exec = &ex;
	ev.node_name = (char *)node;
	/* no time here: each event gets its own when it is sent (see stamp()) */
	(void)t;
	return rpc_pack(&ev.base);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/*
 * The event in src with a time appended (field 1001, a Timestamp: a later occurrence of a
 * message field merges into the earlier one), as an agent's clock would give it.
 */
static size_t stamp(uint8_t *out, grpc_slice src, uint64_t ns)
{
	uint8_t ts[24];
	size_t n = GRPC_SLICE_LENGTH(src), k = 0;

	ts[k++] = 0x08; /* seconds */
	k += put_varint(ts + k, ns / 1000000000ull);
	ts[k++] = 0x10; /* nanos */
	k += put_varint(ts + k, ns % 1000000000ull);
	memcpy(out, GRPC_SLICE_START_PTR(src), n);
	n += put_varint(out + n, (1001u << 3) | 2);
	n += put_varint(out + n, k);
	memcpy(out + n, ts, k);
	return n + k;
}

static void send_batches(struct agent *a)
{
	static ProtobufCBinaryData items[EVENTS_PER_BATCH];
	static uint8_t *buf;
	Fleet__AgentMessage am = FLEET__AGENT_MESSAGE__INIT;
	Fleet__EventBatch b = FLEET__EVENT_BATCH__INIT;

	if (!buf)
		buf = malloc(EVENTS_PER_BATCH * 2048);
	am.msg_case = FLEET__AGENT_MESSAGE__MSG_EVENTS;
	am.events = &b;
	while (a->welcomed && a->inflight < WINDOW_BATCHES && !a->s->stopping) {
		uint64_t now = now_realtime_ns();
		size_t off = 0;

		/* times only grow, a microsecond apart at least, as a busy node's events are */
		if (now < a->last_time + 1000)
			now = a->last_time + 1000;
		a->last_time = now + (EVENTS_PER_BATCH - 1) * 1000ull;
		for (int i = 0; i < EVENTS_PER_BATCH; i++) {
			grpc_slice e = a->events[(a->next_seq + (uint64_t)i) % VARIANTS];

			items[i].data = buf + off;
			items[i].len = stamp(buf + off, e, now + (uint64_t)i * 1000);
			off += items[i].len;
		}
		b.first_seq = a->next_seq;
		b.events = items;
		b.n_events = EVENTS_PER_BATCH;
		if (rpc_client_call_send(a->call, &am.base) < 0)
			return;
		a->next_seq += EVENTS_PER_BATCH;
		a->inflight++;
	}
}

static void report(struct agent *a, const Fleet__DesiredState *ds)
{
	struct sim *s = a->s;
	Fleet__AgentMessage am = FLEET__AGENT_MESSAGE__INIT;
	Fleet__PolicyStatusReport rep = FLEET__POLICY_STATUS_REPORT__INIT;
	Tetragon__TracingPolicyStatus *st = NULL, **list = NULL;

	/* a snapshot lists every policy; a delta only the changed ones, which is enough here */
	if (ds->n_policies) {
		st = calloc(ds->n_policies, sizeof(*st));
		list = calloc(ds->n_policies, sizeof(*list));
	}
	for (size_t i = 0; st && list && i < ds->n_policies; i++) {
		tetragon__tracing_policy_status__init(&st[i]);
		st[i].name = ds->policies[i]->name;
		st[i].namespace_ = ds->policies[i]->namespace_;
		st[i].domain = "fleet";
		st[i].state = ds->policies[i]->enabled ?
				      TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED :
				      TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED;
		st[i].mode = ds->policies[i]->mode;
		list[i] = &st[i];
	}
	am.msg_case = FLEET__AGENT_MESSAGE__MSG_STATUS;
	am.status = &rep;
	rep.generation = ds->generation;
	rep.policies = list;
	rep.n_policies = ds->n_policies;
	rpc_client_call_send(a->call, &am.base);
	free(st);
	free(list);
	a->reported_gen = ds->generation;
	a->reported_ns = now_monotonic_ns();
	pthread_mutex_lock(&s->lock);
	if (s->want_gen && ds->generation >= s->want_gen) {
		s->reported++;
		s->last_report_ns = a->reported_ns;
		if (s->reported == (unsigned)s->n)
			pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
}

static void on_message(struct rpc_client_call *c, const ProtobufCMessage *msg, void *ud)
{
	struct agent *a = ud;
	const Fleet__ManagerMessage *mm = (const Fleet__ManagerMessage *)msg;

	switch (mm->msg_case) {
	case FLEET__MANAGER_MESSAGE__MSG_WELCOME:
		a->welcomed = true;
		a->acked = MAX(mm->welcome->committed_seq, a->next_seq - 1);
		a->next_seq = a->acked + 1;
		a->s->welcomed++;
		if (a->s->send_events)
			send_batches(a);
		break;
	case FLEET__MANAGER_MESSAGE__MSG_DESIRED:
		report(a, mm->desired);
		break;
	case FLEET__MANAGER_MESSAGE__MSG_ACK:
		if (mm->ack->seq > a->acked) {
			uint64_t n = mm->ack->seq - a->acked;

			a->acked_events += n;
			a->acked = mm->ack->seq;
			a->inflight -= (unsigned)MIN((uint64_t)a->inflight,
						     (n + EVENTS_PER_BATCH - 1) / EVENTS_PER_BATCH);
		}
		send_batches(a);
		break;
	default:
		break;
	}
}

static void on_close(struct rpc_client_call *c, const struct rpc_status *st, void *ud)
{
	struct agent *a = ud;

	if (!a->s->stopping)
		fprintf(stderr, "agent %s: stream ended: %s: %s\n", a->name,
			rpc_status_name(st->code), st->message);
	a->welcomed = false;
	a->s->closed++;
	rpc_client_call_unref(c);
	a->call = NULL;
}

static void on_heartbeat(uv_timer_t *t)
{
	struct sim *s = t->data;
	Fleet__AgentMessage am = FLEET__AGENT_MESSAGE__INIT;
	Fleet__Heartbeat hb = FLEET__HEARTBEAT__INIT;

	am.msg_case = FLEET__AGENT_MESSAGE__MSG_HEARTBEAT;
	am.heartbeat = &hb;
	hb.time_ns = now_realtime_ns();
	for (int i = 0; i < s->n; i++)
		if (s->agents[i].call && s->agents[i].welcomed)
			rpc_client_call_send(s->agents[i].call, &am.base);
}

static int connect_agent(struct agent *a)
{
	static const struct rpc_client_handlers h = { .on_message = on_message,
						      .on_close = on_close };
	Fleet__AgentMessage am = FLEET__AGENT_MESSAGE__INIT;
	Fleet__Hello hello = FLEET__HELLO__INIT;

	am.msg_case = FLEET__AGENT_MESSAGE__MSG_HELLO;
	am.hello = &hello;
	hello.protocol_version = 1;
	hello.node_name = a->name;
	hello.agent_version = "sim";
	hello.kernel_release = "sim";
	return rpc_client_call_start(a->s->cq, a->ch, "/fleet.Fleet/Connect",
				     &fleet__manager_message__descriptor, NULL, &am.base, false, &h,
				     a, &a->call);
}

static void on_wake(uv_async_t *h)
{
	struct sim *s = h->data;

	s->stopping = true;
	uv_timer_stop(&s->heartbeat);
	for (int i = 0; i < s->n; i++)
		if (s->agents[i].call)
			rpc_client_call_cancel(s->agents[i].call);
}

static void cq_done(void *ud)
{
	(void)ud;
}

static void on_check_closed(uv_timer_t *t)
{
	struct sim *s = t->data;

	if (s->stopping && s->closed == (unsigned)s->n) {
		uv_close((uv_handle_t *)&s->heartbeat, NULL);
		uv_close((uv_handle_t *)&s->wake, NULL);
		uv_close((uv_handle_t *)t, NULL);
		for (int i = 0; i < s->n; i++)
			grpc_channel_destroy(s->agents[i].ch);
		rpc_cq_shutdown(s->cq, cq_done, s);
	}
}

/* The loop thread: agents connect and run until the driver wakes us to stop. */
static void *loop_thread(void *arg)
{
	struct sim *s = arg;
	uv_timer_t check;

	uv_timer_init(s->loop, &check);
	check.data = s;
	uv_timer_start(&check, on_check_closed, 50, 50);
	uv_run(s->loop, UV_RUN_DEFAULT);
	return NULL;
}

static int sim_start(struct sim *s, const char *addr, int n, bool events, pthread_t *thr)
{
	s->loop = uv_loop_new();
	s->addr = addr;
	s->n = n;
	s->send_events = events;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (rpc_cq_new(s->loop, &s->cq) < 0)
		return -1;
	uv_timer_init(s->loop, &s->heartbeat);
	s->heartbeat.data = s;
	uv_timer_start(&s->heartbeat, on_heartbeat, 1000, 1000);
	uv_async_init(s->loop, &s->wake, on_wake);
	s->wake.data = s;
	s->agents = calloc((size_t)n, sizeof(*s->agents));
	for (int i = 0; i < n; i++) {
		struct agent *a = &s->agents[i];

		a->s = s;
		a->idx = i;
		snprintf(a->name, sizeof(a->name), "sim-%04d", i);
		a->ch = rpc_channel_new(addr, NULL, true);
		a->next_seq = now_realtime_ns() / 1000;
		if (events)
			for (int k = 0; k < VARIANTS; k++)
				a->events[k] = make_event(a->name, k);
		if (connect_agent(a) < 0)
			return -1;
	}
	return pthread_create(thr, NULL, loop_thread, s);
}

static void sim_stop(struct sim *s, pthread_t thr)
{
	uv_async_send(&s->wake);
	pthread_join(thr, NULL);
	for (int i = 0; i < s->n; i++)
		for (int k = 0; k < VARIANTS && s->send_events; k++)
			grpc_slice_unref(s->agents[i].events[k]);
	free(s->agents);
}

static bool wait_welcomed(struct sim *s, int seconds)
{
	for (int i = 0; i < seconds * 100; i++) {
		if (__atomic_load_n(&s->welcomed, __ATOMIC_RELAXED) == (unsigned)s->n)
			return true;
		usleep(10000);
	}
	return false;
}

static uint64_t total_acked(struct sim *s)
{
	uint64_t n = 0;

	for (int i = 0; i < s->n; i++)
		n += __atomic_load_n(&s->agents[i].acked_events, __ATOMIC_RELAXED);
	return n;
}

static int cmd_ingest(const char *addr, int n, int seconds)
{
	struct sim s = { 0 };
	pthread_t thr;
	uint64_t a0, a1, t0, t1;

	if (sim_start(&s, addr, n, true, &thr) < 0 || !wait_welcomed(&s, 30)) {
		fprintf(stderr, "agents did not connect\n");
		return 1;
	}
	sleep(1); /* warm up */
	a0 = total_acked(&s);
	t0 = now_monotonic_ns();
	sleep((unsigned)seconds);
	a1 = total_acked(&s);
	t1 = now_monotonic_ns();
	sim_stop(&s, thr);
	printf("ingest agents=%d seconds=%.1f events_acked=%" PRIu64 " events_per_s=%.0f\n", n,
	       (double)(t1 - t0) / 1e9, a1 - a0, (double)(a1 - a0) * 1e9 / (double)(t1 - t0));
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return (double)v[MIN(i, n - 1)] / 1e6;
}

/* Poll ListTracingPolicies until bench-policy's fleet state reads info (empty: it is gone). */
static int wait_listed(grpc_channel *ch, const char *info, int mode)
{
	Tetragon__ListTracingPoliciesRequest req = TETRAGON__LIST_TRACING_POLICIES_REQUEST__INIT;

	for (int i = 0; i < 10000; i++) {
		Tetragon__ListTracingPoliciesResponse *resp = NULL;
		struct rpc_status st;
		bool done;

		if (rpc_unary_sync(ch, "/tetragon.FineGuidanceSensors/ListTracingPolicies",
				   &req.base, &tetragon__list_tracing_policies_response__descriptor,
				   10000, (ProtobufCMessage **)&resp, &st) < 0)
			return -1;
		done = !*info;
		for (size_t k = 0; k < resp->n_policies; k++) {
			const Tetragon__TracingPolicyStatus *p = resp->policies[k];

			if (streq(p->name, "bench-policy"))
				done = *info && streq(p->info, info) && (int)p->mode == mode;
		}
		tetragon__list_tracing_policies_response__free_unpacked(resp, NULL);
		if (done)
			return 0;
		usleep(500);
	}
	return -1;
}

/*
 * Run one policy change (the unary call in this thread) and wait until every agent
 * reported, then until the manager lists the policy as converged (*listed_ns).
 */
static int timed_change(struct sim *s, grpc_channel *ch, const char *method,
			const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp_desc,
			uint64_t gen, uint64_t *all_ns, uint64_t *per_agent, const char *info,
			int mode, uint64_t *listed_ns)
{
	ProtobufCMessage *resp = NULL;
	struct rpc_status st;
	uint64_t t0;
	struct timespec deadline;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	s->want_gen = gen;
	s->reported = 0;
	pthread_mutex_unlock(&s->lock);
	t0 = now_monotonic_ns();
	if (rpc_unary_sync(ch, method, req, resp_desc, 10000, &resp, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", method, rpc_status_name(st.code), st.message);
		return -1;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&s->lock);
	while (s->reported < (unsigned)s->n && r == 0)
		r = pthread_cond_timedwait(&s->cond, &s->lock, &deadline);
	pthread_mutex_unlock(&s->lock);
	if (r) {
		fprintf(stderr, "only %u of %d agents reported generation %" PRIu64 "\n",
			s->reported, s->n, gen);
		return -1;
	}
	*all_ns = s->last_report_ns - t0;
	for (int i = 0; i < s->n; i++)
		per_agent[i] = s->agents[i].reported_ns - t0;
	if (listed_ns) {
		if (wait_listed(ch, info, mode) < 0) {
			fprintf(stderr, "the manager never listed '%s'\n", info);
			return -1;
		}
		*listed_ns = now_monotonic_ns() - t0;
	}
	return 0;
}

static const char policy_yaml[] = "apiVersion: cilium.io/v1alpha1\n"
				  "kind: TracingPolicy\n"
				  "metadata:\n"
				  "  name: bench-policy\n"
				  "spec:\n"
				  "  kprobes:\n"
				  "  - call: sys_execve\n"
				  "    syscall: true\n"
				  "    args:\n"
				  "    - index: 0\n"
				  "      type: string\n"
				  "    selectors:\n"
				  "    - matchArgs:\n"
				  "      - index: 0\n"
				  "        operator: Equal\n"
				  "        values: [\"/tmp/bench-denied\"]\n"
				  "      matchActions:\n"
				  "      - action: Sigkill\n";

static uint64_t server_generation(grpc_channel *ch)
{
	Fleet__ListNodesRequest req = FLEET__LIST_NODES_REQUEST__INIT;
	Fleet__ListNodesResponse *resp = NULL;
	struct rpc_status st;
	uint64_t g = 0;

	if (rpc_unary_sync(ch, "/fleet.FleetQuery/ListNodes", &req.base,
			   &fleet__list_nodes_response__descriptor, 10000,
			   (ProtobufCMessage **)&resp, &st) == 0) {
		g = resp->generation;
		fleet__list_nodes_response__free_unpacked(resp, NULL);
	}
	return g;
}

static void print_row(const char *what, uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("| %-44s | %6zu | %8.2f | %8.2f | %8.2f |\n", what, n, pct(v, n, 0.5),
	       pct(v, n, 0.99), (double)v[n - 1] / 1e6);
}

static int cmd_policy(const char *addr, int n, int rounds)
{
	struct sim s = { 0 };
	pthread_t thr;
	grpc_channel *ch = rpc_channel_new(addr, NULL, true);
	uint64_t *add = calloc((size_t)rounds, sizeof(uint64_t));
	uint64_t *toggle = calloc((size_t)rounds, sizeof(uint64_t));
	uint64_t *agent_toggle = calloc((size_t)rounds * (size_t)n, sizeof(uint64_t));
	uint64_t *add_listed = calloc((size_t)rounds, sizeof(uint64_t));
	uint64_t *toggle_listed = calloc((size_t)rounds, sizeof(uint64_t));
	char info[64];
	uint64_t *per = calloc((size_t)n, sizeof(uint64_t));
	uint64_t gen;
	int rc = 1;

	if (sim_start(&s, addr, n, false, &thr) < 0 || !wait_welcomed(&s, 60)) {
		fprintf(stderr, "agents did not connect\n");
		return 1;
	}
	gen = server_generation(ch);
	snprintf(info, sizeof(info), "%d/%d enabled", n, n);
	for (int i = 0; i < rounds; i++) {
		Tetragon__AddTracingPolicyRequest areq = TETRAGON__ADD_TRACING_POLICY_REQUEST__INIT;
		Tetragon__DeleteTracingPolicyRequest dreq =
			TETRAGON__DELETE_TRACING_POLICY_REQUEST__INIT;
		Tetragon__ConfigureTracingPolicyRequest creq =
			TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST__INIT;
		uint64_t dummy;

		areq.yaml = (char *)policy_yaml;
		if (timed_change(&s, ch, "/tetragon.FineGuidanceSensors/AddTracingPolicy",
				 &areq.base, &tetragon__add_tracing_policy_response__descriptor,
				 ++gen, &add[i], per, info,
				 TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE,
				 &add_listed[i]) < 0)
			goto out;
		creq.name = "bench-policy";
		creq._mode_case = TETRAGON__CONFIGURE_TRACING_POLICY_REQUEST___MODE_MODE;
		creq.mode = TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR;
		if (timed_change(
			    &s, ch, "/tetragon.FineGuidanceSensors/ConfigureTracingPolicy",
			    &creq.base, &tetragon__configure_tracing_policy_response__descriptor,
			    ++gen, &toggle[i], &agent_toggle[(size_t)i * (size_t)n], info,
			    TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR, &toggle_listed[i]) < 0)
			goto out;
		dreq.name = "bench-policy";
		if (timed_change(&s, ch, "/tetragon.FineGuidanceSensors/DeleteTracingPolicy",
				 &dreq.base, &tetragon__delete_tracing_policy_response__descriptor,
				 ++gen, &dummy, per, "", 0, NULL) < 0)
			goto out;
	}
	printf("| %-44s | %6s | %8s | %8s | %8s |\n", "until every agent reported (ms)", "n", "p50",
	       "p99", "max");
	printf("|----------------------------------------------|--------|----------|----------|"
	       "----------|\n");
	{
		char what[96];

		snprintf(what, sizeof(what), "policy add, %d agents", n);
		print_row(what, add, (size_t)rounds);
		snprintf(what, sizeof(what), "mode toggle, %d agents", n);
		print_row(what, toggle, (size_t)rounds);
		snprintf(what, sizeof(what), "mode toggle, each agent (%d x %d)", rounds, n);
		print_row(what, agent_toggle, (size_t)rounds * (size_t)n);
		snprintf(what, sizeof(what), "policy add, until listed %d/%d enabled", n, n);
		print_row(what, add_listed, (size_t)rounds);
		snprintf(what, sizeof(what), "mode toggle, until listed %d/%d enabled", n, n);
		print_row(what, toggle_listed, (size_t)rounds);
	}
	rc = 0;
out:
	sim_stop(&s, thr);
	grpc_channel_destroy(ch);
	free(add);
	free(toggle);
	free(add_listed);
	free(toggle_listed);
	free(agent_toggle);
	free(per);
	return rc;
}

static int cmd_idle(const char *addr, int n, int seconds)
{
	struct sim s = { 0 };
	pthread_t thr;

	if (sim_start(&s, addr, n, false, &thr) < 0 || !wait_welcomed(&s, 120)) {
		fprintf(stderr, "only %u of %d agents connected\n", s.welcomed, n);
		return 1;
	}
	printf("connected %d\n", n);
	fflush(stdout);
	sleep((unsigned)seconds);
	sim_stop(&s, thr);
	return 0;
}

static void quiet(gpr_log_func_args *args)
{
	(void)args;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int rc = 2, n, k;

	if (argc != 5) {
		fprintf(stderr, "usage: %s ingest|policy|idle ADDR AGENTS SECONDS|ROUNDS\n",
			argv[0]);
		return 2;
	}
	n = atoi(argv[3]);
	k = atoi(argv[4]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	gpr_set_log_function(quiet);
	grpc_init();
	if (streq(argv[1], "ingest"))
		rc = cmd_ingest(argv[2], n, k);
	else if (streq(argv[1], "policy"))
		rc = cmd_policy(argv[2], n, k);
	else if (streq(argv[1], "idle"))
		rc = cmd_idle(argv[2], n, k);
	grpc_shutdown();
	return rc;
}
