/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An intrusive hash table with chaining: embed a struct hnode in the object,
 * insert it with its hash, walk a bucket with htable_for_each_hash() and compare
 * keys yourself. The table never owns the objects.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htable {
	struct hnode **buckets;
	size_t mask;
	size_t count;
};

int htable_init(struct htable *t, size_t initial);
void htable_free(struct htable *t);
/* Grows the table when it gets full; a failed grow keeps the old size. */
void htable_insert(struct htable *t, struct hnode *n, uint64_t hash);
void htable_remove(struct htable *t, struct hnode *n);

static inline struct hnode *htable_bucket(const struct htable *t, uint64_t hash)
{
	return t->buckets[hash & t->mask];
}

#define htable_for_each_hash(pos, t, h)                                         \
	for (struct hnode *pos = htable_bucket((t), (h)); pos; pos = pos->next) \
		if (pos->hash == (h))

/* Visit every node; fn may free the node it is given but must not change the table. */
void htable_walk(const struct htable *t, void (*fn)(struct hnode *n, void *ud), void *ud);

static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static inline uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
