// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "agent/generic_events.h"
#include "agent/pin.h"
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

/* A hook of the previous agent, from its state directory. */
struct old_hook {
	uint32_t id;
	uint32_t index;
	char *domain;
	char *name;
};

struct policies {
	struct agent_policy *head, *tail;
	uint64_t next_id;
	struct old_hook *old_hooks;
	size_t n_old_hooks;
	bool restoring; /* until the state is read back, do not overwrite it */
	bool add_disabled; /* restoring a policy that was disabled: it comes back disabled */
};

int policies_init(struct agent *a)
{
	a->policies = calloc(1, sizeof(*a->policies));
	if (!a->policies)
		return -ENOMEM;
	a->policies->next_id = 1;
	a->policies->restoring = true;
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
		h->attached = false;
	}
	for (int i = 0; i < 3; i++)
		c->multi[i] = gen_link_destroy(g, c->multi[i]);
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

static int attach_kfunc(struct agent *a, struct chook *h, struct sbuf *why)
{
	struct sensor_generic *g = a->generic;
	bool ret = h->gh.flags & GEN_HF_RETURN;
	int r;

	switch (h->attach) {
	case CATT_KPROBE:
		r = sensor_generic_attach_kprobe(g, h->kfunc, h->gh.hook_id, false, h->override,
						 &h->link);
		if (r == 0 && ret)
			r = sensor_generic_attach_kprobe(g, h->kfunc, h->gh.hook_id, true, false,
							 &h->exit_link);
		break;
	case CATT_FENTRY:
	case CATT_FMOD_RET:
		r = sensor_generic_attach_trampoline(
			g, h->attach == CATT_FENTRY ? GEN_TRAMP_FENTRY : GEN_TRAMP_FMOD_RET,
			h->kfunc, h->gh.hook_id, h->override, &h->link);
		if (r == 0 && ret)
			r = sensor_generic_attach_trampoline(g, GEN_TRAMP_FEXIT, h->kfunc,
							     h->gh.hook_id, false, &h->exit_link);
		break;
	case CATT_LSM:
		r = sensor_generic_attach_trampoline(g, GEN_TRAMP_LSM, h->kfunc, h->gh.hook_id,
						     h->override, &h->link);
		break;
	default:
		return -EINVAL;
	}
	if (r < 0)
		sbuf_printf(why, "cannot attach %s to %s: %s", h->mechanism, h->kfunc,
			    strerror(-r));
	return r;
}

static int attach_hook(struct agent *a, struct chook *h, struct sbuf *why)
{
	struct sensor_generic *g = a->generic;
	int r;

	switch (h->attach) {
	case CATT_KPROBE_MULTI:
		return 0; /* attach_multi() */
	case CATT_KPROBE:
	case CATT_FENTRY:
	case CATT_FMOD_RET:
	case CATT_LSM:
		r = attach_kfunc(a, h, why);
		h->attached = r == 0;
		return r;
	case CATT_UPROBE:
		r = sensor_generic_attach_uprobe(g, h->uprobe_path, h->uprobe_symbol,
						 h->uprobe_offset, h->gh.hook_id, false, &h->link);
		if (r == 0 && (h->gh.flags & GEN_HF_RETURN))
			r = sensor_generic_attach_uprobe(g, h->uprobe_path, h->uprobe_symbol,
							 h->uprobe_offset, h->gh.hook_id, true,
							 &h->exit_link);
		if (r < 0)
			sbuf_printf(why, "cannot attach a uprobe to %s:%s: %s", h->uprobe_path,
				    h->function_name ? h->function_name : "?", strerror(-r));
		h->attached = r == 0;
		return r;
	case CATT_RAW_TP:
		r = sensor_generic_attach_raw_tp(g, h->tp_name, h->gh.hook_id, &h->link);
		if (r < 0)
			sbuf_printf(why, "cannot attach to raw tracepoint %s: %s", h->tp_name,
				    strerror(-r));
		h->attached = r == 0;
		return r;
	case CATT_TRACEPOINT:
		break;
	}
	r = sensor_generic_attach_tp(g, h->tp_category, h->tp_name, h->gh.hook_id, false, &h->link);
	if (r == 0 && h->tp_exit_name)
		r = sensor_generic_attach_tp(g, h->tp_category, h->tp_exit_name, h->gh.hook_id,
					     true, &h->exit_link);
	if (r < 0)
		sbuf_printf(why, "cannot attach to tracepoint %s:%s: %s", h->tp_category,
			    h->tp_exit_name && h->link ? h->tp_exit_name : h->tp_name,
			    strerror(-r));
	h->attached = r == 0;
	return r;
}

/*
 * The policy's kprobe.multi hooks in (at most) three links: plain entries,
 * entries that may override, and returns. Each function's cookie is its hook id.
 */
static int attach_multi(struct agent *a, struct cpolicy *c, struct sbuf *why)
{
	const char **funcs = calloc(c->n_hooks ? c->n_hooks : 1, sizeof(*funcs));
	uint64_t *cookies = calloc(c->n_hooks ? c->n_hooks : 1, sizeof(*cookies));
	int r = funcs && cookies ? 0 : -ENOMEM;

	for (int kind = 0; kind < 3 && r == 0; kind++) {
		size_t n = 0;

		for (size_t i = 0; i < c->n_hooks; i++) {
			struct chook *h = &c->hooks[i];

			if (h->attach != CATT_KPROBE_MULTI)
				continue;
			if ((kind == 0 && h->override) || (kind == 1 && !h->override) ||
			    (kind == 2 && !(h->gh.flags & GEN_HF_RETURN)))
				continue;
			funcs[n] = h->kfunc;
			cookies[n++] = h->gh.hook_id;
		}
		if (!n)
			continue;
		r = sensor_generic_attach_kprobe_multi(a->generic, funcs, cookies, n, kind == 2,
						       kind == 1, &c->multi[kind]);
		if (r < 0)
			sbuf_printf(why, "cannot attach %zu functions with kprobe.multi (%s%s): %s",
				    n, funcs[0], n > 1 ? ", ..." : "", strerror(-r));
	}
	for (size_t i = 0; r == 0 && i < c->n_hooks; i++)
		if (c->hooks[i].attach == CATT_KPROBE_MULTI)
			c->hooks[i].attached = true;
	free(funcs);
	free(cookies);
	return r;
}

static void policies_save(struct agent *a, struct agent_policy *changed, bool yaml);

/* Where a policy's own pins go: one directory per policy. */
static void policy_pin_dir(struct agent_policy *ap, char *buf, size_t size)
{
	snprintf(buf, size, "%s/policies/%s_%s%s%s", pin_root(), ap->domain,
		 *ap->namespace ? ap->namespace : "", *ap->namespace ? ":" : "", ap->name);
}

static int pin_hooks(struct agent_policy *ap)
{
	struct cpolicy *c = ap->compiled;
	char dir[512], path[600];
	int r;

	policy_pin_dir(ap, dir, sizeof(dir));
	r = mkdir_p(dir, 0700);
	for (size_t i = 0; r == 0 && i < c->n_hooks; i++) {
		struct chook *h = &c->hooks[i];

		if (h->link && h->link->slot < 0) {
			snprintf(path, sizeof(path), "%s/hook%zu", dir, i);
			r = gen_link_pin(h->link, path);
		}
		if (r == 0 && h->exit_link && h->exit_link->slot < 0) {
			snprintf(path, sizeof(path), "%s/hook%zu_ret", dir, i);
			r = gen_link_pin(h->exit_link, path);
		}
	}
	for (int i = 0; r == 0 && i < 3; i++) {
		if (!c->multi[i])
			continue;
		snprintf(path, sizeof(path), "%s/kprobe_multi%d", dir, i);
		r = gen_link_pin(c->multi[i], path);
	}
	return r;
}

/* Did the agent before a restart take over run this policy too? */
static bool had_old_copy(struct agent *a, struct agent_policy *ap)
{
	char full[600];

	snprintf(full, sizeof(full), "%s/%s", ap->namespace, ap->name);
	for (size_t i = 0; i < a->policies->n_old_hooks; i++) {
		struct old_hook *o = &a->policies->old_hooks[i];

		if (streq(o->domain, ap->domain) && streq(o->name, full))
			return true;
	}
	return false;
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
	if (r == 0)
		r = attach_multi(a, c, why);
	if (r < 0)
		goto fail;
	if (had_old_copy(a, ap)) {
		/* the old agent's copy stayed attached until now (see generic_events) */
		uint64_t cut = now_boottime_ns();

		for (size_t i = 0; i < c->n_hooks; i++)
			c->hooks[i].takeover_cut_ns = cut;
	}
	if (a->cfg.keep_sensors) {
		r = pin_hooks(ap);
		if (r < 0) {
			sbuf_printf(why, "cannot pin the policy's links: %s", strerror(-r));
			goto fail;
		}
	}
	return 0;
fail:
	if (a->cfg.keep_sensors) {
		char dir[512];

		policy_pin_dir(ap, dir, sizeof(dir));
		pin_remove(dir);
	}
	uninstall(a, c);
	return r;
}

/* Load the generic programs with the first policy. */
static int ensure_generic(struct agent *a, struct sbuf *why)
{
	int r;

	if (a->generic)
		return 0;
	r = sensor_generic_load(a->exec, a->scope_cgroup_fd, a->cfg.btf_path, &a->kf, &a->generic);
	if (r < 0) {
		sbuf_printf(why, "cannot load the policy programs: %s", strerror(-r));
		return r;
	}
	if (a->cfg.keep_sensors) {
		char dir[256];

		snprintf(dir, sizeof(dir), "%s/generic", pin_root());
		r = sensor_generic_pin(a->generic, dir);
		if (r < 0) {
			sbuf_printf(why, "cannot pin the policy programs under %s: %s", dir,
				    strerror(-r));
			pin_remove(dir);
			a->generic = sensor_generic_free(a->generic);
			return r;
		}
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
	if (a->cfg.keep_sensors) {
		char dir[512];

		policy_pin_dir(ap, dir, sizeof(dir));
		pin_remove(dir);
	}
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
	ap->enabled = !a->policies->add_disabled;
	ap->mode = mode == MODE_REQ_KEEP ?
			   (policy_get_mode(ap->parsed) == POLICY_MODE_MONITOR ? GEN_MODE_MONITOR :
										 GEN_MODE_ENFORCE) :
			   (mode == MODE_REQ_MONITOR ? GEN_MODE_MONITOR : GEN_MODE_ENFORCE);
	r = install(a, ap, &why);
	if (r < 0)
		goto out;
	ap->id = a->policies->next_id++;
	ap->state = ap->enabled ? PSTATE_ENABLED : PSTATE_DISABLED;
	if (a->policies->tail)
		a->policies->tail->next = ap;
	else
		a->policies->head = ap;
	a->policies->tail = ap;
	log_info("Loaded policy '%s' (%s) with %zu hooks, mode %s", ap->name, ap->domain,
		 ap->compiled->n_hooks, ap->mode == GEN_MODE_MONITOR ? "monitor" : "enforce");
	policies_save(a, ap, true);
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
	policies_save(a, NULL, false);
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
	policies_save(a, ap, false);
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
	st->hook_statuses = calloc(c->n_hooks + c->n_ignored + 1, sizeof(*st->hook_statuses));
	for (size_t i = 0; st->hook_statuses && i < c->n_ignored; i++) {
		Tetragon__HookStatus *hs = calloc(1, sizeof(*hs));

		if (!hs)
			continue;
		tetragon__hook_status__init(hs);
		hs->section = strdup("kprobes");
		hs->state = TETRAGON__HOOK_STATE__STATUS_CALL_NOT_FOUND;
		hs->hook_idx = c->ignored_idx[i];
		if (asprintf(&hs->hook_description, "%s: not found, ignored (ignore.callNotFound)",
			     c->ignored[i]) < 0)
			hs->hook_description = strdup("");
		st->hook_statuses[st->n_hook_statuses++] = hs;
	}
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
		hs->state = h->attached ? TETRAGON__HOOK_STATE__STATUS_LOADED :
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

void policies_fini(struct agent *a, bool keep)
{
	if (!a->policies)
		return;
	while (a->policies->head) {
		struct agent_policy *ap = a->policies->head;

		a->policies->head = ap->next;
		if (keep && ap->compiled) {
			/* the kernel keeps enforcing: close our handles, change nothing */
			for (size_t i = 0; i < ap->compiled->n_hooks; i++) {
				struct chook *h = &ap->compiled->hooks[i];

				if (h->link && h->link->slot < 0)
					h->link = gen_link_forget(h->link);
				if (h->exit_link && h->exit_link->slot < 0)
					h->exit_link = gen_link_forget(h->exit_link);
				/* slot places: the slot's link stays, the place is just memory */
				free(h->link);
				free(h->exit_link);
				h->link = h->exit_link = NULL;
			}
			for (int i = 0; i < 3; i++)
				ap->compiled->multi[i] = gen_link_forget(ap->compiled->multi[i]);
			ap->compiled = cpolicy_free(ap->compiled, a->generic);
			agent_policy_free(ap);
		} else {
			agent_policy_destroy(a, ap);
		}
	}
	for (size_t i = 0; i < a->policies->n_old_hooks; i++) {
		free(a->policies->old_hooks[i].domain);
		free(a->policies->old_hooks[i].name);
	}
	free(a->policies->old_hooks);
	free(a->policies);
	a->policies = NULL;
	a->gevents = generic_events_free(a->gevents);
	if (keep && a->generic)
		sensor_generic_disconnect(a->generic);
	a->generic = sensor_generic_free(a->generic);
}

/* ---------------------------------------------------------------------------------------- */
/* State: policies added over gRPC or by the manager, and every hook's id */

static bool persisted(const char *domain)
{
	return streq(domain, POLICY_DOMAIN_GRPC) || streq(domain, POLICY_DOMAIN_FLEET);
}

/* "<domain>_<namespace>_<name>": names are DNS labels, the separators cannot clash. */
static void state_base(struct agent_policy *ap, char *buf, size_t size)
{
	snprintf(buf, size, "%s_%s_%s", ap->domain, ap->namespace, ap->name);
}

/*
 * Write the state of changed (its .state file, and its .yaml too when yaml; NULL: none),
 * remove the files of policies that are gone and rewrite the hooks file: a change costs a
 * few writes however many policies there are.
 */
static void policies_save(struct agent *a, struct agent_policy *changed, bool yaml)
{
	char dir[4096], path[4700], base[512];
	struct sbuf hooks;
	struct dirent *de;
	DIR *d;
	int r;

	if (a->policies->restoring || !a->cfg.state_dir)
		return;
	snprintf(dir, sizeof(dir), "%s/policies", a->cfg.state_dir);
	r = mkdir_p(dir, 0700);
	if (r < 0) {
		log_warn_errno(r, "Failed to create '%s', policies will not survive a restart: %m",
			       dir);
		return;
	}
	sbuf_init(&hooks);
	for (struct agent_policy *p = a->policies->head; p; p = p->next) {
		struct sbuf st;

		for (size_t i = 0; p->compiled && i < p->compiled->n_hooks; i++)
			sbuf_printf(&hooks, "%u %zu %s %s %s\n", p->compiled->hooks[i].gh.hook_id,
				    i, p->domain, *p->namespace ? p->namespace : "-", p->name);
		if (p != changed || !persisted(p->domain))
			continue;
		state_base(p, base, sizeof(base));
		snprintf(path, sizeof(path), "%s/%s.yaml", dir, base);
		r = yaml ? write_file(path, p->yaml, strlen(p->yaml), 0600) : 0;
		sbuf_init(&st);
		sbuf_printf(&st, "mode=%s\nenabled=%d\n",
			    p->mode == GEN_MODE_MONITOR ? "monitor" : "enforce", p->enabled);
		snprintf(path, sizeof(path), "%s/%s.state", dir, base);
		if (r == 0)
			r = write_file(path, st.buf, st.len, 0600);
		sbuf_free(&st);
		if (r < 0)
			log_warn_errno(r, "Failed to save policy '%s': %m", p->name);
	}
	/* files of policies that are gone */
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		bool keep = false;
		size_t n = strlen(de->d_name);

		if (!endswith(de->d_name, ".yaml") && !endswith(de->d_name, ".state"))
			continue;
		for (struct agent_policy *p = a->policies->head; p && !keep; p = p->next) {
			state_base(p, base, sizeof(base));
			keep = persisted(p->domain) && strlen(base) < n &&
			       strncmp(de->d_name, base, strlen(base)) == 0 &&
			       de->d_name[strlen(base)] == '.';
		}
		if (!keep) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s/hooks", a->cfg.state_dir);
	r = write_file(path, hooks.buf ? hooks.buf : "", hooks.len, 0600);
	if (r < 0)
		log_warn_errno(r, "Failed to save '%s': %m", path);
	sbuf_free(&hooks);
}

int policies_load_old_hooks(struct agent *a)
{
	_cleanup_free_ char *text = NULL;
	char path[4096];
	char *line, *save = NULL;
	int r;

	if (!a->cfg.state_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/hooks", a->cfg.state_dir);
	r = read_file(path, 4 << 20, &text, NULL);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char domain[64], ns[256], name[256];
		unsigned id, index;
		struct old_hook *v;

		if (sscanf(line, "%u %u %63s %255s %255s", &id, &index, domain, ns, name) != 5)
			continue;
		v = realloc(a->policies->old_hooks, (a->policies->n_old_hooks + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->policies->old_hooks = v;
		v += a->policies->n_old_hooks;
		v->id = id;
		v->index = index;
		v->domain = strdup(domain);
		if (asprintf(&v->name, "%s/%s", streq(ns, "-") ? "" : ns, name) < 0)
			v->name = NULL;
		if (!v->domain || !v->name)
			return -ENOMEM;
		a->policies->n_old_hooks++;
	}
	return 0;
}

uint32_t policies_translate_hook(struct agent *a, uint32_t old_id)
{
	for (size_t i = 0; i < a->policies->n_old_hooks; i++) {
		struct old_hook *o = &a->policies->old_hooks[i];

		if (o->id != old_id)
			continue;
		for (struct agent_policy *p = a->policies->head; p; p = p->next) {
			char full[600];

			snprintf(full, sizeof(full), "%s/%s", p->namespace, p->name);
			if (streq(p->domain, o->domain) && streq(full, o->name) &&
			    o->index < p->compiled->n_hooks)
				return p->compiled->hooks[o->index].gh.hook_id;
		}
	}
	return 0;
}

int policies_restore(struct agent *a)
{
	char dir[4096], path[4700];
	struct dirent **names = NULL;
	int n, restored = 0, r = 0;

	if (!a->cfg.state_dir)
		goto done;
	snprintf(dir, sizeof(dir), "%s/policies", a->cfg.state_dir);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		r = errno == ENOENT ? 0 : -errno;
		goto done;
	}
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *yaml = NULL, *state = NULL;
		char domain[64], *err = NULL, *us;
		enum policy_mode_req mode = MODE_REQ_KEEP;
		bool enabled = true;
		size_t len;
		int rr;

		if (!endswith(names[i]->d_name, ".yaml"))
			goto next;
		us = strchr(names[i]->d_name, '_');
		if (!us || us - names[i]->d_name >= (long)sizeof(domain))
			goto next;
		snprintf(domain, sizeof(domain), "%.*s", (int)(us - names[i]->d_name),
			 names[i]->d_name);
		if (!persisted(domain))
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (read_file(path, 2 << 20, &yaml, &len) < 0)
			goto next;
		memcpy(path + strlen(path) - 5, ".state", 7);
		if (read_file(path, 4096, &state, NULL) == 0) {
			if (strstr(state, "mode=monitor"))
				mode = MODE_REQ_MONITOR;
			else if (strstr(state, "mode=enforce"))
				mode = MODE_REQ_ENFORCE;
			enabled = !strstr(state, "enabled=0");
		}
		a->policies->add_disabled = !enabled;
		rr = policies_add(a, yaml, len, names[i]->d_name, domain, mode, &err);
		a->policies->add_disabled = false;
		if (rr < 0)
			log_error("Failed to restore policy from '%s': %s", names[i]->d_name,
				  err ? err : strerror(-rr));
		else
			restored++;
		free(err);
next:
		free(names[i]);
	}
	free(names);
	if (restored)
		log_info("Restored %d policies from %s", restored, dir);
done:
	a->policies->restoring = false;
	/* the restored policies' files are there already */
	policies_save(a, NULL, false);
	return r;
}
