// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "lib/syscalls.h"
#include "lib/util.h"

struct syscall_entry {
	const char *name;
	unsigned int nr;
};

static const struct syscall_entry table[] = {
#include "syscalls_table.h"
};

const char *syscall_arch_prefix(void)
{
#if defined(__x86_64__)
	return "__x64_";
#elif defined(__aarch64__)
	return "__arm64_";
#else
	return "";
#endif
}

const char *syscall_abi(void)
{
#if defined(__x86_64__)
	return "x64";
#elif defined(__aarch64__)
	return "arm64";
#else
	return "";
#endif
}

const char *syscall_base_name(const char *name)
{
	static const char *const prefixes[] = { "__x64_sys_", "__ia32_sys_", "__arm64_sys_",
						"__se_sys_",  "__do_sys_",   "sys_" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (startswith(name, prefixes[i]))
			return name + strlen(prefixes[i]);
	return name;
}

int syscall_nr(const char *name)
{
	const char *base = syscall_base_name(name);

	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (streq(table[i].name, base))
			return (int)table[i].nr;
	return -ENOENT;
}

const char *syscall_name(unsigned int nr)
{
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].nr == nr)
			return table[i].name;
	return NULL;
}
