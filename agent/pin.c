// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/pin.h"
#include "lib/util.h"

static char root[128] = PIN_BPFFS "/" PIN_DEFAULT_DIR;
static char old[132] = PIN_BPFFS "/" PIN_DEFAULT_DIR "_old";

int pin_set_dir(const char *name)
{
	if (!*name || strlen(name) > 64 || strchr(name, '/') || streq(name, ".") ||
	    streq(name, ".."))
		return -EINVAL;
	snprintf(root, sizeof(root), "%s/%s", PIN_BPFFS, name);
	snprintf(old, sizeof(old), "%s_old", root);
	return 0;
}

const char *pin_root(void)
{
	return root;
}

const char *pin_old(void)
{
	return old;
}

static bool exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

int pin_takeover(void)
{
	if (!exists(root))
		return 0;
	/* a takeover that died half way left both: the older one is done for */
	if (exists(old)) {
		int r = pin_remove(old);

		if (r < 0)
			return r;
	}
	if (rename(root, old) < 0)
		return -errno;
	return 1;
}

int pin_object(struct bpf_object *obj, const char *dir)
{
	char path[512];
	struct bpf_map *m;
	struct bpf_program *p;
	int r;

	r = mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	bpf_object__for_each_map(m, obj)
	{
		if (bpf_map__fd(m) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		/* bpffs takes no dots in names: "exec_bpf.rodata" becomes "exec_bpf_rodata" */
		for (char *c = path + strlen(dir) + 1; *c; c++)
			if (*c == '.')
				*c = '_';
		if (exists(path))
			continue;
		r = bpf_map__pin(m, path);
		if (r < 0)
			return r;
	}
	bpf_object__for_each_program(p, obj)
	{
		if (bpf_program__fd(p) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/prog_%s", dir, bpf_program__name(p));
		if (exists(path))
			continue;
		r = bpf_program__pin(p, path);
		if (r < 0)
			return r;
	}
	return 0;
}

int pin_link(struct bpf_link *l, const char *path)
{
	char dir[512], *slash;
	int r;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		r = mkdir_p(dir, 0700);
		if (r < 0)
			return r;
	}
	return bpf_link__pin(l, path);
}

int pin_fd(int fd, const char *path)
{
	char dir[512], *slash;
	int r;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		r = mkdir_p(dir, 0700);
		if (r < 0)
			return r;
	}
	return bpf_obj_pin(fd, path) < 0 ? -errno : 0;
}

int pin_remove(const char *dir)
{
	if (!startswith(dir, "/sys/fs/bpf/"))
		return -EINVAL;
	return rm_rf(dir);
}
