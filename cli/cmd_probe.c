// SPDX-License-Identifier: Apache-2.0
/*
 * tetra probe: what this machine's kernel lets the agent do, found the way the
 * agent finds it at start (loading tiny BPF programs), and which mechanism each
 * kind of policy hook gets from that.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/probe.h"
#include "lib/util.h"

#define MAX_ROWS 32

static void print_json(const struct probe_result *res, size_t n)
{
	printf("{\"features\":[");
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"name\":\"%s\",\"available\":%s", i ? "," : "", res[i].name,
		       res[i].ok ? "true" : "false");
		if (res[i].detail[0]) {
			printf(",\"detail\":\"");
			for (const char *c = res[i].detail; *c; c++)
				printf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
			printf("\"");
		}
		printf("}");
	}
	printf("]}\n");
}

/* The mechanism each policy section gets on this kernel (as agent/compile.c picks it). */
static void print_mechanisms(const struct kernel_features *kf)
{
	const char *kfunc = kf->kprobe_multi ? "kprobe.multi" :
			    kf->kprobe	     ? "kprobe" :
			    kf->fentry	     ? "fentry/fexit" :
					       "unavailable";

	printf("\nHook mechanisms on this kernel:\n");
	printf("  %-28s %s\n", "kprobes (syscall: true)",
	       kf->kprobe || kf->fentry ? kfunc :
	       kf->syscall_tracepoints	? "syscall tracepoints" :
					  "unavailable");
	printf("  %-28s %s\n", "kprobes (kernel function)", kfunc);
	printf("  %-28s %s\n", "fentries", kf->fentry ? "fentry/fexit" : "unavailable");
	printf("  %-28s %s\n", "tracepoints", "tracepoint, raw_tp");
	printf("  %-28s %s\n", "uprobes", "uprobe/uretprobe");
	printf("  %-28s %s\n", "lsmhooks", kf->lsm ? "BPF LSM" : "unavailable");
	printf("  %-28s %s\n", "Sigkill, Signal",
	       kf->send_signal ? "bpf_send_signal" : "unavailable");
	printf("  %-28s %s%s%s\n", "Override", kf->override_return ? "bpf_override_return; " : "",
	       kf->fmod_ret ? "fmod_ret on security_*; " : "",
	       kf->lsm ? "LSM return value" :
			 (!kf->override_return && !kf->fmod_ret ? "unavailable" : ""));
}

int cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "btf", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		CLI_GLOBAL_OPTIONS,
		{ 0 },
	};
	struct probe_result res[MAX_ROWS];
	struct kernel_features kf;
	const char *output = "text", *btf = NULL;
	size_t n;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'b':
			btf = optarg;
			break;
		case 'h':
			printf("Usage: tetra probe [-o text|json] [--btf FILE]\n\n"
			       "Probe the kernel for the BPF features the agent uses (needs root),\n"
			       "and print which mechanism each kind of policy hook gets.\n");
			return 0;
		default:
			if (cli_global_option(c, optarg) == 0)
				break;
			return 2;
		}
	}
	if (!streq(output, "text") && !streq(output, "json")) {
		fprintf(stderr, "Error: unknown output format '%s' (text or json)\n", output);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "Error: probing loads BPF programs: run tetra probe as root\n");
		return 1;
	}
	n = probe_kernel(&kf, btf, res, MAX_ROWS);
	if (streq(output, "json")) {
		print_json(res, n);
		return 0;
	}
	printf("%-20s %-10s %s\n", "FEATURE", "AVAILABLE", "DETAIL");
	for (size_t i = 0; i < n; i++)
		printf("%-20s %-10s %s\n", res[i].name, res[i].ok ? "yes" : "no", res[i].detail);
	print_mechanisms(&kf);
	return 0;
}
