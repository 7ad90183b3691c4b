// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>

#include "lib/htable.h"

int htable_init(struct htable *t, size_t initial)
{
	size_t n = 16;

	while (n < initial)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	return 0;
}

void htable_free(struct htable *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->mask = 0;
	t->count = 0;
}

static void grow(struct htable *t)
{
	size_t n = (t->mask + 1) * 2;
	struct hnode **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i <= t->mask; i++) {
		struct hnode *e = t->buckets[i];

		while (e) {
			struct hnode *next = e->next;

			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = n - 1;
}

void htable_insert(struct htable *t, struct hnode *n, uint64_t hash)
{
	if (t->count >= t->mask + 1)
		grow(t);
	n->hash = hash;
	n->next = t->buckets[hash & t->mask];
	t->buckets[hash & t->mask] = n;
	t->count++;
}

void htable_remove(struct htable *t, struct hnode *n)
{
	struct hnode **pp = &t->buckets[n->hash & t->mask];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
	}
}

void htable_walk(const struct htable *t, void (*fn)(struct hnode *, void *), void *ud)
{
	for (size_t i = 0; i <= t->mask; i++) {
		struct hnode *e = t->buckets[i];

		while (e) {
			struct hnode *next = e->next;

			fn(e, ud);
			e = next;
		}
	}
}
