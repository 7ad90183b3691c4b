// SPDX-License-Identifier: Apache-2.0
/*
 * compile_resolve(): member paths turned into resolve steps, against a small BTF
 * built here (so that the offsets are known and the test runs without the
 * kernel's BTF).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <bpf/btf.h>

#include "agent/compile.h"

struct types {
	struct btf *btf;
	int file_ptr; /* const file_t * (typedef struct file file_t) */
	int file; /* struct file */
	int int_type;
	int dentry_ptr;
};

/*
 * struct qstr   { unsigned int len; const unsigned char *name; };            16 bytes
 * struct inode  { unsigned short i_mode; };                                    8 bytes
 * struct dentry { unsigned int flags; struct dentry *d_parent;
 *                 struct qstr d_name; struct inode *d_inode; };               40 bytes
 * struct path   { void *mnt; struct dentry *dentry; };                         16 bytes
 * struct file   { union { void *a; int b; };   0
 *                 struct path f_path;         8
 *                 unsigned int f_flags;       24
 *                 int fds[4];                 28
 *                 unsigned int bf:3;          44
 *                 struct { int inner; };      48
 *                 unsigned long long pos;     56
 *                 char name[8];               64 };                            72 bytes
 */
static int setup(void **state)
{
	static struct types t;
	struct btf *b = btf__new_empty();
	int uint, uchar, ushort, u64, chr, voidp, ucharp, cucharp, qstr, inode, inodep, dentry;
	int dentryp, path, anon_u, anon_s, arr4, arr8, file, file_td, cfile, filep;

	assert_non_null(b);
	t.int_type = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	uint = btf__add_int(b, "unsigned int", 4, 0);
	uchar = btf__add_int(b, "unsigned char", 1, 0);
	ushort = btf__add_int(b, "short unsigned int", 2, 0);
	u64 = btf__add_int(b, "long long unsigned int", 8, 0);
	chr = btf__add_int(b, "char", 1, BTF_INT_CHAR);
	voidp = btf__add_ptr(b, 0);
	cucharp = btf__add_const(b, uchar);
	ucharp = btf__add_ptr(b, cucharp);

	qstr = btf__add_struct(b, "qstr", 16);
	btf__add_field(b, "len", uint, 0, 0);
	btf__add_field(b, "name", ucharp, 64, 0);

	inode = btf__add_struct(b, "inode", 8);
	btf__add_field(b, "i_mode", ushort, 0, 0);
	inodep = btf__add_ptr(b, inode);

	/* the pointer first: a struct's fields must follow it */
	dentryp = btf__add_ptr(b, (int)btf__type_cnt(b) + 1);
	dentry = btf__add_struct(b, "dentry", 40);
	assert_int_equal(dentry, dentryp + 1);
	btf__add_field(b, "flags", uint, 0, 0);
	btf__add_field(b, "d_parent", dentryp, 64, 0);
	btf__add_field(b, "d_name", qstr, 128, 0);
	btf__add_field(b, "d_inode", inodep, 256, 0);

	path = btf__add_struct(b, "path", 16);
	btf__add_field(b, "mnt", voidp, 0, 0);
	btf__add_field(b, "dentry", dentryp, 64, 0);

	anon_u = btf__add_union(b, NULL, 8);
	btf__add_field(b, "a", voidp, 0, 0);
	btf__add_field(b, "b", t.int_type, 0, 0);
	anon_s = btf__add_struct(b, NULL, 4);
	btf__add_field(b, "inner", t.int_type, 0, 0);
	arr4 = btf__add_array(b, uint, t.int_type, 4);
	arr8 = btf__add_array(b, uint, chr, 8);

	file = btf__add_struct(b, "file", 72);
	btf__add_field(b, NULL, anon_u, 0, 0);
	btf__add_field(b, "f_path", path, 64, 0);
	btf__add_field(b, "f_flags", uint, 192, 0);
	btf__add_field(b, "fds", arr4, 224, 0);
	btf__add_field(b, "bf", uint, 352, 3);
	btf__add_field(b, NULL, anon_s, 384, 0);
	btf__add_field(b, "pos", u64, 448, 0);
	btf__add_field(b, "name", arr8, 512, 0);
	file_td = btf__add_typedef(b, "file_t", file);
	cfile = btf__add_const(b, file_td);
	filep = btf__add_ptr(b, cfile);

	assert_true(filep > 0);
	t.btf = b;
	t.file_ptr = filep;
	t.file = file;
	t.dentry_ptr = dentryp;
	*state = &t;
	return 0;
}

static int teardown(void **state)
{
	struct types *t = *state;

	btf__free(t->btf);
	return 0;
}

static int resolve(void **state, const char *path, struct gen_resolve *r, struct resolve_end *e,
		   char *why)
{
	struct types *t = *state;

	return compile_resolve(t->btf, (uint32_t)t->file_ptr, path, r, e, why, 256);
}

static void test_resolve_follows_pointers(void **state)
{
	struct gen_resolve r;
	struct resolve_end e;
	char why[256];

	/* f_path and dentry add up to one step; d_name and name to the next */
	assert_int_equal(resolve(state, "f_path.dentry.d_name.name", &r, &e, why), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.off[0], 16);
	assert_int_equal(r.off[1], 24);
	assert_int_equal(r.deref, 3);
	assert_int_equal(r.load, 0);
	assert_true(e.is_ptr);
	assert_true(e.is_char);
	assert_null(e.struct_name);
}

static void test_resolve_embedded_struct_is_an_address(void **state)
{
	struct gen_resolve r;
	struct resolve_end e;
	char why[256];

	assert_int_equal(resolve(state, "f_path", &r, &e, why), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.off[0], 8);
	assert_int_equal(r.deref, 0);
	assert_int_equal(r.load, 0);
	assert_false(e.is_ptr);
	assert_string_equal(e.struct_name, "path");

	assert_int_equal(resolve(state, "f_path.dentry", &r, &e, why), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.off[0], 16);
	assert_int_equal(r.deref, 1);
	assert_true(e.is_ptr);
	assert_string_equal(e.struct_name, "dentry");
}

static void test_resolve_scalars(void **state)
{
	struct gen_resolve r;
	struct resolve_end e;
	char why[256];

	assert_int_equal(resolve(state, "f_flags", &r, &e, why), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.off[0], 24);
	assert_int_equal(r.deref, 0);
	assert_int_equal(r.load, 4);
	assert_int_equal(r.sign, 0);
	assert_true(e.is_scalar);
	assert_int_equal(e.size, 4);

	/* 8-byte scalars are read like pointers */
	assert_int_equal(resolve(state, "pos", &r, &e, why), 0);
	assert_int_equal(r.off[0], 56);
	assert_int_equal(r.deref, 1);
	assert_int_equal(r.load, 0);

	assert_int_equal(resolve(state, "f_path.dentry.d_inode.i_mode", &r, &e, why), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.off[0], 16);
	assert_int_equal(r.off[1], 32);
	assert_int_equal(r.off[2], 0);
	assert_int_equal(r.deref, 3);
	assert_int_equal(r.load, 2);
}

static void test_resolve_arrays_and_anonymous_members(void **state)
{
	struct gen_resolve r;
	struct resolve_end e;
	char why[256];

	assert_int_equal(resolve(state, "fds[2]", &r, &e, why), 0);
	assert_int_equal(r.off[0], 28 + 2 * 4);
	assert_int_equal(r.load, 4);
	assert_int_equal(r.sign, 1);

	assert_int_equal(resolve(state, "name", &r, &e, why), 0);
	assert_int_equal(r.off[0], 64);
	assert_int_equal(r.load, 0);
	assert_true(e.is_char);

	assert_int_equal(resolve(state, "inner", &r, &e, why), 0);
	assert_int_equal(r.off[0], 48);
	assert_int_equal(r.load, 4);

	assert_int_equal(resolve(state, "b", &r, &e, why), 0);
	assert_int_equal(r.off[0], 0);
	assert_int_equal(r.sign, 1);
}

static void test_resolve_void_pointer(void **state)
{
	struct gen_resolve r;
	struct resolve_end e;
	char why[256];

	/* a void pointer: what it points at is for the argument's type to say */
	assert_int_equal(resolve(state, "f_path.mnt", &r, &e, why), 0);
	assert_int_equal(r.off[0], 8);
	assert_int_equal(r.deref, 1);
	assert_true(e.is_ptr);
	assert_true(e.is_void_ptr);
	assert_null(e.struct_name);
	assert_int_equal(resolve(state, "f_path.mnt.x", &r, &e, why), -EINVAL);
	assert_string_equal(why,
			    "'mnt' points to void, not to a struct or union: it has no members");
}

static void test_resolve_rejects_bad_paths(void **state)
{
	struct gen_resolve r;
	struct resolve_end e;
	char why[256];

	assert_int_equal(resolve(state, "nope", &r, &e, why), -EINVAL);
	assert_string_equal(why, "struct file has no member 'nope'");
	assert_int_equal(resolve(state, "f_path.dentry.nope", &r, &e, why), -EINVAL);
	assert_string_equal(why, "struct dentry has no member 'nope'");
	assert_int_equal(resolve(state, "bf", &r, &e, why), -EINVAL);
	assert_non_null(strstr(why, "bitfield"));
	assert_int_equal(resolve(state, "fds[4]", &r, &e, why), -EINVAL);
	assert_non_null(strstr(why, "out of bounds"));
	assert_int_equal(resolve(state, "f_flags[1]", &r, &e, why), -EINVAL);
	assert_non_null(strstr(why, "not an array"));
	assert_int_equal(resolve(state, "f_flags.x", &r, &e, why), -EINVAL);
	assert_non_null(strstr(why, "'f_flags' is unsigned int, not a struct"));
	assert_int_equal(resolve(state, "f_path.dentry.d_name.name.x", &r, &e, why), -EINVAL);
	assert_non_null(strstr(why, "'name' points to unsigned char"));
}

static void test_resolve_limits_the_pointers_followed(void **state)
{
	struct gen_resolve r;
	struct resolve_end e;
	char why[256], path[256];

	/* dentry, then 9 d_parent: 10 reads, the most there are steps for */
	snprintf(path, sizeof(path), "f_path.dentry");
	for (int i = 0; i < 9; i++)
		strcat(path, ".d_parent");
	assert_int_equal(resolve(state, path, &r, &e, why), 0);
	assert_int_equal(r.n, GEN_RESOLVE_MAX);
	assert_int_equal(r.deref, (1 << GEN_RESOLVE_MAX) - 1);
	strcat(path, ".d_parent");
	assert_int_equal(resolve(state, path, &r, &e, why), -EINVAL);
	assert_non_null(strstr(why, "more than"));
}

static void test_resolve_roots(void **state)
{
	struct types *t = *state;
	struct gen_resolve r;
	struct resolve_end e;
	char why[256];

	/* btfType: the struct itself, the value pointing at one */
	assert_int_equal(
		compile_resolve(t->btf, (uint32_t)t->file, "f_flags", &r, &e, why, sizeof(why)), 0);
	assert_int_equal(r.off[0], 24);
	/* not a pointer to a struct */
	assert_int_equal(compile_resolve(t->btf, (uint32_t)t->int_type, "f_flags", &r, &e, why,
					 sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "not a pointer"));
	assert_int_equal(compile_resolve(t->btf, (uint32_t)t->dentry_ptr, "d_name.len", &r, &e, why,
					 sizeof(why)),
			 0);
	assert_int_equal(r.off[0], 16);
	assert_int_equal(r.load, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_follows_pointers),
		cmocka_unit_test(test_resolve_embedded_struct_is_an_address),
		cmocka_unit_test(test_resolve_scalars),
		cmocka_unit_test(test_resolve_arrays_and_anonymous_members),
		cmocka_unit_test(test_resolve_void_pointer),
		cmocka_unit_test(test_resolve_rejects_bad_paths),
		cmocka_unit_test(test_resolve_limits_the_pointers_followed),
		cmocka_unit_test(test_resolve_roots),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
