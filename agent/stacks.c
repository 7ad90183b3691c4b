// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/stacks.h"
#include "lib/util.h"

struct sym {
	uint64_t addr;
	char *name;
};

struct symtab {
	struct sym *syms;
	size_t n;
};

/* An ELF file's function symbols, by path. */
struct module {
	struct module *next;
	char *path;
	struct symtab tab;
	uint64_t load_bias; /* first PT_LOAD p_vaddr - p_offset */
	bool loaded;
};

struct stacks {
	struct symtab kernel;
	bool kernel_loaded;
	struct module *modules;
	unsigned n_modules;
};

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static const struct sym *lookup(const struct symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	if (!t->n || addr < t->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &t->syms[lo];
}

static int add_sym(struct symtab *t, size_t *cap, uint64_t addr, const char *name)
{
	if (t->n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		struct sym *v = realloc(t->syms, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->syms = v;
		*cap = c;
	}
	t->syms[t->n].addr = addr;
	t->syms[t->n].name = strdup(name);
	if (!t->syms[t->n].name)
		return -ENOMEM;
	t->n++;
	return 0;
}

static void symtab_free(struct symtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->syms[i].name);
	free(t->syms);
	t->syms = NULL;
	t->n = 0;
}

static void load_kallsyms(struct stacks *s)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;

	s->kernel_loaded = true;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		if (add_sym(&s->kernel, &cap, addr, name) < 0)
			break;
	}
	fclose(f);
	qsort(s->kernel.syms, s->kernel.n, sizeof(struct sym), cmp_sym);
}

int stacks_new(struct stacks **ret)
{
	struct stacks *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	elf_version(EV_CURRENT);
	*ret = s;
	return 0;
}

struct stacks *stacks_free(struct stacks *s)
{
	if (!s)
		return NULL;
	symtab_free(&s->kernel);
	while (s->modules) {
		struct module *m = s->modules;

		s->modules = m->next;
		symtab_free(&m->tab);
		free(m->path);
		free(m);
	}
	free(s);
	return NULL;
}

void stacks_kernel(struct stacks *s, uint64_t addr, Tetragon__StackTraceEntry *e)
{
	const struct sym *sym;

	e->address = addr;
	if (!s)
		return;
	if (!s->kernel_loaded)
		load_kallsyms(s);
	sym = lookup(&s->kernel, addr);
	if (sym) {
		e->symbol = sym->name;
		e->offset = addr - sym->addr;
	}
}

static void load_module(struct module *m)
{
	size_t cap = 0;
	Elf_Scn *scn = NULL;
	GElf_Phdr ph;
	size_t nph;
	Elf *elf;
	int fd;

	m->loaded = true;
	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		close(fd);
		return;
	}
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				m->load_bias = ph.p_vaddr - ph.p_offset;
				break;
			}
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && *name && add_sym(&m->tab, &cap, sym.st_value, name) < 0)
				break;
		}
	}
	elf_end(elf);
	close(fd);
	qsort(m->tab.syms, m->tab.n, sizeof(struct sym), cmp_sym);
}

static struct module *module_of(struct stacks *s, const char *path)
{
	struct module *m;

	for (m = s->modules; m; m = m->next)
		if (streq(m->path, path))
			return m;
	/* bounded: forget everything when too many files were seen */
	if (s->n_modules >= 256) {
		while (s->modules) {
			m = s->modules;
			s->modules = m->next;
			symtab_free(&m->tab);
			free(m->path);
			free(m);
		}
		s->n_modules = 0;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->path = strdup(path);
	if (!m->path) {
		free(m);
		return NULL;
	}
	m->next = s->modules;
	s->modules = m;
	s->n_modules++;
	return m;
}

void stacks_user(struct stacks *s, uint32_t pid, uint64_t addr, Tetragon__StackTraceEntry *e)
{
	char path[64], line[1024];
	FILE *f;

	e->address = addr;
	if (!s)
		return;
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off;
		char file[768] = "";
		struct module *m;
		const struct sym *sym;
		uint64_t rel;

		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %767[^\n]", &lo, &hi, &off, file) < 3)
			continue;
		if (addr < lo || addr >= hi)
			continue;
		if (file[0] != '/')
			break;
		m = module_of(s, file);
		if (!m)
			break;
		if (!m->loaded)
			load_module(m);
		e->module = m->path;
		rel = addr - lo + off + m->load_bias;
		sym = lookup(&m->tab, rel);
		if (sym) {
			e->symbol = sym->name;
			e->offset = rel - sym->addr;
		} else {
			e->offset = addr - lo + off;
		}
		break;
	}
	fclose(f);
}
