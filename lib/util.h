/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by everything in user space: cleanup attributes, a
 * growable byte buffer, base64, time conversions, string lists.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand a pointer out of a _cleanup_ variable: return TAKE_PTR(p); */
#define TAKE_PTR(p)                     \
	({                              \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix);

/* A growable byte buffer; always NUL-terminated so it can be used as a string. */
struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool oom; /* an allocation failed: the content is truncated */
};

void sbuf_init(struct sbuf *sb);
void sbuf_free(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
int sbuf_reserve(struct sbuf *sb, size_t extra);
void sbuf_add(struct sbuf *sb, const void *data, size_t len);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_printf(struct sbuf *sb, const char *fmt, ...) _printf_(2, 3);
/* Move the content out as a malloc'ed string (caller frees); the sbuf is left empty. */
char *sbuf_steal(struct sbuf *sb);

/* Standard base64 with padding; out must hold base64_encoded_len(n) + 1 bytes. */
static inline size_t base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}
size_t base64_encode(const void *in, size_t n, char *out);
/* Decodes standard or URL-safe base64, padding optional. Returns bytes written or -EINVAL. */
ssize_t base64_decode(const char *in, size_t n, void *out, size_t out_size);

/* Nanoseconds. */
uint64_t now_realtime_ns(void);
uint64_t now_monotonic_ns(void);
uint64_t now_boottime_ns(void);
/* Wall-clock time of boot, in ns since the epoch (realtime - boottime). */
uint64_t boot_time_ns(void);
/* RFC 3339 UTC with nanoseconds, as protojson prints a Timestamp: 2024-10-01T02:39:42.761250372Z */
void format_rfc3339(uint64_t epoch_ns, char *buf, size_t size);
/* Parses RFC 3339 ("2024-10-01T02:39:42.761Z", offsets allowed); returns -EINVAL on bad input. */
int parse_rfc3339(const char *s, uint64_t *epoch_ns);
/* Parses durations such as "10m", "1h30m", "500ms", "2d"; returns -EINVAL on bad input. */
int parse_duration(const char *s, uint64_t *ns);

/* Strict number parsing: the whole string must be a number in range. */
int parse_u64(const char *s, uint64_t *ret);
int parse_s64(const char *s, int64_t *ret);
int parse_u32(const char *s, uint32_t *ret);

/* Read a whole file (up to max bytes) into a NUL-terminated malloc'ed buffer. */
int read_file(const char *path, size_t max, char **ret, size_t *len);
int write_file(const char *path, const char *data, size_t len, int mode);
/* mkdir -p */
int mkdir_p(const char *path, int mode);
/* rm -rf, refusing "/" and empty paths. */
int rm_rf(const char *path);
