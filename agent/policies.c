// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/generic_events.h"
#include "agent/policies.h"
#include "agent/sensor_generic.h"
#include "lib/log.h"
#include "lib/policy/policy.h"
#include "lib/util.h"

enum pstate {
	PSTATE_ENABLED,
	PSTATE_DISABLED,
	PSTATE_ERROR,
};

struct agent_policy {
	struct agent_policy *next;
	uint64_t id;
	char *name;
	char *namespace;
	char *domain;
	char *yaml;
	struct policy *parsed;
	struct cpolicy *compiled;
	bool enabled;
	uint8_t mode; /* GEN_MODE_* */
	enum pstate state;
	char *error;
};

struct policies {
	struct agent_policy *head, *tail;
	uint64_t next_id;
};

int policies_init(struct agent *a)
{
	a->policies = calloc(1, sizeof(*a->policies));
	if (!a->policies)
		return -ENOMEM;
	a->policies->next_id = 1;
	return 0;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static bool same(const char *a, const char *b)
{
	return streq(a ? a : "", b ? b : "");
}

static struct agent_policy *find(struct agent *a, const char *name, const char *ns,
				 const char *domain)
{
	for (struct agent_policy *p = a->policies->head; p; p = p->next)
		if (streq(p->name, name) && same(p->namespace, ns) &&
		    (!domain || !*domain || streq(p->domain, domain)))
			return p;
	return NULL;
}

/* Take everything a compiled policy put into the kernel out again, in reverse order. */
static void uninstall(struct agent *a, struct cpolicy *c)
{
	struct sensor_generic *g = a->generic;

	for (size_t i = 0; i < c->n_hooks; i++) {
		struct chook *h = &c->hooks[i];

		h->link = gen_link_destroy(g, h->link);
		h->exit_link = gen_link_destroy(g, h->exit_link);
	}
	sensor_generic_set_policy(g, c->policy_id, false, GEN_MODE_ENFORCE);
	for (size_t i = 0; i < c->n_hooks; i++) {
		struct chook *h = &c->hooks[i];

		if (h->installed)
			sensor_generic_del_hook(g, h->gh.hook_id, h->gh.n_selectors);
		h->installed = false;
		generic_events_clear_hook(a->gevents, h->gh.hook_id);
	}
	for (size_t i = 0; i < c->n_sets; i++) {
		struct cset *s = &c->sets[i];

		switch (s->kind) {
		case CSET_STRINGS:
			for (size_t k = 0; k < s->n; k++)
				sensor_generic_del_string(g, s->map_id, s->strs[k], s->lens[k]);
			break;
		case CSET_PREFIX:
		case CSET_POSTFIX:
			sensor_generic_del_lpm(g, s->map_id);
			break;
		case CSET_NUMBERS:
			for (size_t k = 0; k < s->n; k++)
				sensor_generic_del_num(g, s->map_id, s->nums[k]);
			break;
		case CSET_ADDR6:
			for (size_t k = 0; k < s->n; k++)
				sensor_generic_del_addr6(g, s->map_id, s->addrs[k],
							 s->prefix_lens[k]);
			break;
		}
	}
	for (size_t i = 0; i < c->n_bin_sets; i++)
		sensor_generic_del_bin_set(g, c->bin_sets[i].path, c->bin_sets[i].bit);
	sensor_generic_clear_counters(g, c->policy_id);
}

static int attach_hook(struct agent *a, struct chook *h, struct sbuf *why)
{
	struct sensor_generic *g = a->generic;
	int r;

	if (h->uprobe_path) {
		r = sensor_generic_attach_uprobe(g, h->uprobe_path, h->uprobe_symbol,
						 h->uprobe_offset, h->gh.hook_id, false, &h->link);
		if (r == 0 && (h->gh.flags & GEN_HF_RETURN))
			r = sensor_generic_attach_uprobe(g, h->uprobe_path, h->uprobe_symbol,
							 h->uprobe_offset, h->gh.hook_id, true,
							 &h->exit_link);
		if (r < 0)
			sbuf_printf(why, "cannot attach a uprobe to %s:%s: %s", h->uprobe_path,
				    h->function_name ? h->function_name : "?", strerror(-r));
		return r;
	}
	if (h->raw) {
		r = sensor_generic_attach_raw_tp(g, h->tp_name, h->gh.hook_id, &h->link);
		if (r < 0)
			sbuf_printf(why, "cannot attach to raw tracepoint %s: %s", h->tp_name,
				    strerror(-r));
		return r;
	}
	r = sensor_generic_attach_tp(g, h->tp_category, h->tp_name, h->gh.hook_id, false, &h->link);
	if (r == 0 && h->tp_exit_name)
		r = sensor_generic_attach_tp(g, h->tp_category, h->tp_exit_name, h->gh.hook_id,
					     true, &h->exit_link);
	if (r < 0)
		sbuf_printf(why, "cannot attach to tracepoint %s:%s: %s", h->tp_category,
			    h->tp_exit_name && h->link ? h->tp_exit_name : h->tp_name,
			    strerror(-r));
	return r;
}

/* Put a compiled policy into the kernel: values, hooks, switches, then the links. */
static int install(struct agent *a, struct agent_policy *ap, struct sbuf *why)
{
	struct cpolicy *c = ap->compiled;
	struct sensor_generic *g = a->generic;
	int r = 0;

	for (size_t i = 0; i < c->n_sets && r == 0; i++) {
		struct cset *s = &c->sets[i];

		switch (s->kind) {
		case CSET_STRINGS:
			for (size_t k = 0; k < s->n && r == 0; k++)
				r = sensor_generic_add_string(g, s->map_id, s->strs[k], s->lens[k]);
			break;
		case CSET_PREFIX:
		case CSET_POSTFIX:
			r = sensor_generic_add_lpm(g, s->map_id, (const char *const *)s->strs, s->n,
						   s->kind == CSET_POSTFIX);
			break;
		case CSET_NUMBERS:
			for (size_t k = 0; k < s->n && r == 0; k++)
				r = sensor_generic_add_num(g, s->map_id, s->nums[k]);
			break;
		case CSET_ADDR6:
			for (size_t k = 0; k < s->n && r == 0; k++)
				r = sensor_generic_add_addr6(g, s->map_id, s->addrs[k],
							     s->prefix_lens[k]);
			break;
		}
	}
	for (size_t i = 0; i < c->n_bin_sets && r == 0; i++)
		r = sensor_generic_add_bin_set(g, c->bin_sets[i].path, c->bin_sets[i].bit);
	if (r < 0) {
		sbuf_printf(why, "cannot store the policy's values in the kernel: %s",
			    strerror(-r));
		goto fail;
	}
	sensor_generic_clear_counters(g, c->policy_id);
	r = sensor_generic_set_policy(g, c->policy_id, ap->enabled, ap->mode);
	if (r < 0) {
		sbuf_printf(why, "cannot set the policy's mode: %s", strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < c->n_hooks && r == 0; i++) {
		struct chook *h = &c->hooks[i];

		r = sensor_generic_put_hook(g, &h->gh, h->sel, h->gh.n_selectors);
		if (r < 0) {
			sbuf_printf(why, "cannot store hook %s: %s", h->description, strerror(-r));
			goto fail;
		}
		h->installed = true;
		generic_events_set_hook(a->gevents, h, ap->name, ap->namespace);
	}
	for (size_t i = 0; i < c->n_hooks && r == 0; i++)
		r = attach_hook(a, &c->hooks[i], why);
	if (r < 0)
		goto fail;
	return 0;
fail:
	uninstall(a, c);
	return r;
}

/* Load the generic programs with the first policy. */
static int ensure_generic(struct agent *a, struct sbuf *why)
{
	int r;

	if (a->generic)
		return 0;
	r = sensor_generic_load(a->exec, a->scope_cgroup_fd, a->cfg.btf_path, &a->generic);
	if (r < 0) {
		sbuf_printf(why, "cannot load the policy programs: %s", strerror(-r));
		return r;
	}
	r = generic_events_new(a, &a->gevents);
	if (r == 0)
		r = generic_events_register(a->gevents);
	if (r < 0) {
		sbuf_printf(why, "cannot set up policy events: %s", strerror(-r));
		a->gevents = generic_events_free(a->gevents);
		a->generic = sensor_generic_free(a->generic);
		return r;
	}
	return 0;
}

static void agent_policy_free(struct agent_policy *ap)
{
	if (!ap)
		return;
	policy_free(ap->parsed);
	free(ap->name);
	free(ap->namespace);
	free(ap->domain);
	free(ap->yaml);
	free(ap->error);
	free(ap);
}

/* Out of the kernel, out of memory. */
static void agent_policy_destroy(struct agent *a, struct agent_policy *ap)
{
	if (ap->compiled) {
		uninstall(a, ap->compiled);
		ap->compiled = cpolicy_free(ap->compiled, a->generic);
	}
	agent_policy_free(ap);
}

static void unlink_policy(struct agent *a, struct agent_policy *ap)
{
	struct agent_policy **pp = &a->policies->head, *prev = NULL;

	for (; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp == ap) {
			*pp = ap->next;
			if (a->policies->tail == ap)
				a->policies->tail = prev;
			return;
		}
	}
}

int policies_add(struct agent *a, const char *yaml, size_t len, const char *origin,
		 const char *domain, enum policy_mode_req mode, char **err)
{
	struct policy_errors errs = { 0 };
	struct agent_policy *ap = NULL;
	struct policy *p = NULL;
	struct sbuf why;
	int r;

	sbuf_init(&why);
	r = policy_parse_buffer(yaml, len, origin, &p, &errs);
	if (r < 0) {
		policy_errors_format(&errs, &why);
		goto out;
	}
	if (find(a, p->metadata.name, p->metadata.namespace, domain)) {
		sbuf_printf(&why, "policy '%s' already exists", p->metadata.name);
		r = -EEXIST;
		goto out;
	}
	r = ensure_generic(a, &why);
	if (r < 0)
		goto out;
	ap = calloc(1, sizeof(*ap));
	if (!ap) {
		r = -ENOMEM;
		goto out;
	}
	ap->name = strdup(p->metadata.name);
	ap->namespace = dup_or_empty(p->metadata.namespace);
	ap->domain = strdup(domain);
	ap->yaml = strndup(yaml, len);
	if (!ap->name || !ap->namespace || !ap->domain || !ap->yaml) {
		r = -ENOMEM;
		goto out;
	}
	r = compile_policy(p, a->generic, &a->kf, &ap->compiled, &errs);
	if (r < 0) {
		policy_errors_format(&errs, &why);
		goto out;
	}
	ap->parsed = TAKE_PTR(p);
	ap->enabled = true;
	ap->mode = mode == MODE_REQ_KEEP ?
			   (policy_get_mode(ap->parsed) == POLICY_MODE_MONITOR ? GEN_MODE_MONITOR :
										 GEN_MODE_ENFORCE) :
			   (mode == MODE_REQ_MONITOR ? GEN_MODE_MONITOR : GEN_MODE_ENFORCE);
	r = install(a, ap, &why);
	if (r < 0)
		goto out;
	ap->id = a->policies->next_id++;
	ap->state = PSTATE_ENABLED;
	if (a->policies->tail)
		a->policies->tail->next = ap;
	else
		a->policies->head = ap;
	a->policies->tail = ap;
	log_info("Loaded policy '%s' (%s) with %zu hooks, mode %s", ap->name, ap->domain,
		 ap->compiled->n_hooks, ap->mode == GEN_MODE_MONITOR ? "monitor" : "enforce");
	ap = NULL;
out:
	if (ap) {
		if (ap->compiled)
			ap->compiled = cpolicy_free(ap->compiled, a->generic);
		agent_policy_free(ap);
	}
	policy_free(p);
	policy_errors_clear(&errs);
	while (why.len && why.buf[why.len - 1] == '\n')
		why.buf[--why.len] = '\0';
	if (r < 0 && err)
		*err = why.len ? sbuf_steal(&why) : strdup(strerror(-r));
	sbuf_free(&why);
	return r;
}

int policies_delete(struct agent *a, const char *name, const char *ns, const char *domain)
{
	struct agent_policy *ap = find(a, name, ns, domain);

	if (!ap)
		return -ENOENT;
	unlink_policy(a, ap);
	log_info("Deleted policy '%s' (%s)", ap->name, ap->domain);
	agent_policy_destroy(a, ap);
	return 0;
}

int policies_configure(struct agent *a, const char *name, const char *ns, const char *domain,
		       int enable, enum policy_mode_req mode, char **err)
{
	struct agent_policy *ap = find(a, name, ns, domain);
	bool enabled;
	uint8_t m;
	int r;

	if (!ap) {
		if (err)
			*err = strdup("no such policy");
		return -ENOENT;
	}
	enabled = enable < 0 ? ap->enabled : enable != 0;
	m = mode == MODE_REQ_KEEP    ? ap->mode :
	    mode == MODE_REQ_MONITOR ? GEN_MODE_MONITOR :
				       GEN_MODE_ENFORCE;
	if (m != ap->mode && !ap->compiled->has_enforcement) {
		if (err)
			*err = strdup(
				"the policy has no enforcement actions: its mode is monitor_only "
				"and cannot change");
		return -EINVAL;
	}
	/* one map value: the programs see the new switches at their next run, no reload */
	r = sensor_generic_set_policy(a->generic, ap->compiled->policy_id, enabled, m);
	if (r < 0) {
		if (err &&
		    asprintf(err, "cannot update the policy's switches: %s", strerror(-r)) < 0)
			*err = NULL;
		return r;
	}
	if (enabled != ap->enabled || m != ap->mode)
		log_info("Policy '%s': %s, mode %s", ap->name, enabled ? "enabled" : "disabled",
			 m == GEN_MODE_MONITOR ? "monitor" : "enforce");
	ap->enabled = enabled;
	ap->mode = m;
	ap->state = enabled ? PSTATE_ENABLED : PSTATE_DISABLED;
	return 0;
}

static const char *section_name(enum policy_hook_kind k)
{
	return policy_hook_kind_name(k);
}

static const char *sensor_of(enum policy_hook_kind k)
{
	switch (k) {
	case POLICY_HOOK_TRACEPOINT:
		return "generic_tracepoint";
	case POLICY_HOOK_UPROBE:
		return "generic_uprobe";
	case POLICY_HOOK_LSM:
		return "generic_lsm";
	default:
		return "generic_kprobe";
	}
}

static Tetragon__TracingPolicyActionCounters *counters_msg(const uint64_t c[GEN_CNT_MAX])
{
	Tetragon__TracingPolicyActionCounters *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	tetragon__tracing_policy_action_counters__init(m);
	m->post = c[GEN_CNT_POST];
	m->signal = c[GEN_CNT_SIGNAL];
	m->monitor_signal = c[GEN_CNT_MONITOR_SIGNAL];
	m->override = c[GEN_CNT_OVERRIDE];
	m->monitor_override = c[GEN_CNT_MONITOR_OVERRIDE];
	m->nopost = c[GEN_CNT_NOPOST];
	return m;
}

/* One policy's status; every string and message malloc'ed for free_unpacked(). */
static Tetragon__TracingPolicyStatus *status_of(struct agent *a, struct agent_policy *ap)
{
	Tetragon__TracingPolicyStatus *st = calloc(1, sizeof(*st));
	struct cpolicy *c = ap->compiled;
	uint64_t cnt[GEN_CNT_MAX];
	size_t nsens = 0, nsel = 0;

	if (!st)
		return NULL;
	tetragon__tracing_policy_status__init(st);
	st->id = ap->id;
	st->name = strdup(ap->name);
	st->namespace_ = strdup(ap->namespace);
	st->domain = strdup(ap->domain);
	st->enabled = ap->enabled;
	st->state =
		ap->state == PSTATE_ENABLED  ? TETRAGON__TRACING_POLICY_STATE__TP_STATE_ENABLED :
		ap->state == PSTATE_DISABLED ? TETRAGON__TRACING_POLICY_STATE__TP_STATE_DISABLED :
					       TETRAGON__TRACING_POLICY_STATE__TP_STATE_ERROR;
	st->error = strdup(ap->error ? ap->error : "");
	st->mode = !c->has_enforcement ? TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR_ONLY :
		   ap->mode == GEN_MODE_MONITOR ? TETRAGON__TRACING_POLICY_MODE__TP_MODE_MONITOR :
						  TETRAGON__TRACING_POLICY_MODE__TP_MODE_ENFORCE;
	st->kernel_memory_bytes = c->kernel_memory;
	st->info = strdup("");

	st->sensors = calloc(POLICY_HOOK_KIND_MAX, sizeof(char *));
	st->hook_statuses = calloc(c->n_hooks ? c->n_hooks : 1, sizeof(*st->hook_statuses));
	for (size_t i = 0; st->sensors && st->hook_statuses && i < c->n_hooks; i++) {
		struct chook *h = &c->hooks[i];
		Tetragon__HookStatus *hs = calloc(1, sizeof(*hs));
		const char *sensor = sensor_of(h->section);
		bool seen = false;

		for (size_t k = 0; k < nsens; k++)
			seen |= streq(st->sensors[k], sensor);
		if (!seen)
			st->sensors[nsens++] = strdup(sensor);
		if (!hs)
			continue;
		tetragon__hook_status__init(hs);
		hs->section = strdup(section_name(h->section));
		hs->state = h->link ? TETRAGON__HOOK_STATE__STATUS_LOADED :
				      TETRAGON__HOOK_STATE__STATUS_UNSPECIFIED;
		if (asprintf(&hs->hook_description, "%s via %s",
			     h->description ? h->description : "?", h->mechanism) < 0)
			hs->hook_description = strdup("");
		hs->hook_idx = h->index;
		st->hook_statuses[st->n_hook_statuses++] = hs;
	}
	st->n_sensors = nsens;

	st->stats = calloc(1, sizeof(*st->stats));
	if (st->stats) {
		tetragon__tracing_policy_stats__init(st->stats);
		if (sensor_generic_policy_counters(a->generic, c->policy_id, cnt) == 0)
			st->stats->action_counters = counters_msg(cnt);
		for (size_t i = 0; i < c->n_hooks; i++)
			nsel += c->hooks[i].gh.n_selectors;
		st->stats->selector_action_counters =
			calloc(nsel ? nsel : 1, sizeof(*st->stats->selector_action_counters));
		for (size_t i = 0; st->stats->selector_action_counters && i < c->n_hooks; i++) {
			struct chook *h = &c->hooks[i];

			for (unsigned k = 0; k < h->gh.n_selectors; k++) {
				Tetragon__TracingPolicySelectorActionCounters *sc =
					calloc(1, sizeof(*sc));

				if (!sc)
					continue;
				tetragon__tracing_policy_selector_action_counters__init(sc);
				sc->hook = strdup(h->description ? h->description : "");
				sc->hook_index = calloc(1, sizeof(*sc->hook_index));
				sc->selector_index = calloc(1, sizeof(*sc->selector_index));
				if (sc->hook_index) {
					google__protobuf__uint32_value__init(sc->hook_index);
					sc->hook_index->value = h->index;
				}
				if (sc->selector_index) {
					google__protobuf__uint32_value__init(sc->selector_index);
					sc->selector_index->value = k;
				}
				sc->selector_label =
					strdup(h->sel_meta[k].label ? h->sel_meta[k].label : "");
				if (sensor_generic_selector_counters(a->generic, h->gh.hook_id, k,
								     cnt) == 0)
					sc->action_counters = counters_msg(cnt);
				st->stats->selector_action_counters
					[st->stats->n_selector_action_counters++] = sc;
			}
		}
	}
	return st;
}

int policies_status(struct agent *a, const char *domain, Tetragon__TracingPolicyStatus ***ret,
		    size_t *n)
{
	Tetragon__TracingPolicyStatus **list;
	size_t cnt = 0, i = 0;

	for (struct agent_policy *p = a->policies->head; p; p = p->next)
		cnt++;
	list = calloc(cnt ? cnt : 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (struct agent_policy *p = a->policies->head; p; p = p->next) {
		if (domain && *domain && !streq(domain, p->domain))
			continue;
		list[i] = status_of(a, p);
		if (!list[i]) {
			policies_status_free(list, i);
			return -ENOMEM;
		}
		i++;
	}
	*ret = list;
	*n = i;
	return 0;
}

void policies_status_free(Tetragon__TracingPolicyStatus **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		tetragon__tracing_policy_status__free_unpacked(list[i], NULL);
	free(list);
}

size_t policies_domains(struct agent *a, const char **out, size_t max)
{
	size_t n = 0;

	for (struct agent_policy *p = a->policies->head; p; p = p->next) {
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen |= streq(out[k], p->domain);
		if (!seen && n < max)
			out[n++] = p->domain;
	}
	return n;
}

void policies_fini(struct agent *a)
{
	if (!a->policies)
		return;
	while (a->policies->head) {
		struct agent_policy *ap = a->policies->head;

		a->policies->head = ap->next;
		agent_policy_destroy(a, ap);
	}
	free(a->policies);
	a->policies = NULL;
	a->gevents = generic_events_free(a->gevents);
	a->generic = sensor_generic_free(a->generic);
}
