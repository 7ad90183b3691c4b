// SPDX-License-Identifier: Apache-2.0
/*
 * A program with known functions to hook with uprobes:
 *   uprobe_target N WORD   calls tetra_test_func(N, WORD) and exits with its return value & 0x7f
 */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline, used)) int tetra_test_func(int n, const char *word)
{
	/* keep the call and its arguments from being optimised away */
	asm volatile("" : : "r"(n), "r"(word) : "memory");
	return n + (int)strlen(word);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	const char *w = argc > 2 ? argv[2] : "";

	return tetra_test_func(n, w) & 0x7f;
}
