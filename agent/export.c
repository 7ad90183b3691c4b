// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/export.h"
#include "lib/pbjson.h"
#include "lib/util.h"

#define EXPORT_BUFFER_MAX (256 << 10)

struct exporter {
	char *path;
	int fd;
	int mode;
	uint64_t size; /* of the current file, including what is buffered */
	uint64_t max_size;
	unsigned max_backups;
	struct sbuf buf;
	size_t buffered_lines;
	struct exporter_stats stats;
};

static int open_file(struct exporter *e)
{
	struct stat st;

	e->fd = open(e->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, e->mode);
	if (e->fd < 0)
		return -errno;
	if (fstat(e->fd, &st) < 0) {
		int r = -errno;

		close(e->fd);
		e->fd = -1;
		return r;
	}
	e->size = (uint64_t)st.st_size;
	return 0;
}

int exporter_open(const char *path, uint64_t max_size, unsigned max_backups, int mode,
		  struct exporter **ret)
{
	struct exporter *e;
	int r;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->path = strdup(path);
	if (!e->path) {
		free(e);
		return -ENOMEM;
	}
	e->mode = mode;
	e->max_size = max_size;
	e->max_backups = max_backups;
	sbuf_init(&e->buf);
	r = open_file(e);
	if (r < 0) {
		free(e->path);
		free(e);
		return r;
	}
	*ret = e;
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* NAME.(n-1) -> NAME.n ... NAME -> NAME.1; the oldest beyond max_backups is removed. */
static int rotate(struct exporter *e)
{
	char from[4096], to[4096];
	int r;

	if (e->fd >= 0) {
		close(e->fd);
		e->fd = -1;
	}
	if (e->max_backups == 0) {
		unlink(e->path);
	} else {
		snprintf(to, sizeof(to), "%s.%u", e->path, e->max_backups);
		unlink(to);
		for (unsigned i = e->max_backups; i > 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", e->path, i - 1);
			snprintf(to, sizeof(to), "%s.%u", e->path, i);
			rename(from, to);
		}
		snprintf(to, sizeof(to), "%s.1", e->path);
		if (rename(e->path, to) < 0 && errno != ENOENT)
			return -errno;
	}
	e->stats.rotations++;
	r = open_file(e);
	return r;
}

int exporter_flush(struct exporter *e)
{
	int r;

	if (e->buf.len == 0)
		return 0;
	if (e->fd < 0) {
		r = open_file(e);
		if (r < 0)
			goto fail;
	}
	r = write_all(e->fd, e->buf.buf, e->buf.len);
	if (r < 0)
		goto fail;
	e->stats.lines += e->buffered_lines;
	e->stats.bytes += e->buf.len;
	sbuf_reset(&e->buf);
	e->buffered_lines = 0;
	return 0;
fail:
	e->stats.errors += e->buffered_lines;
	sbuf_reset(&e->buf);
	e->buffered_lines = 0;
	return r;
}

static int append_line(struct exporter *e, size_t start)
{
	size_t line = e->buf.len - start;
	int r = 0;

	if (e->buf.oom) {
		/* the line did not fit in memory: drop it, keep what was buffered */
		e->buf.len = start;
		e->buf.oom = false;
		e->stats.errors++;
		return -ENOMEM;
	}
	if (e->max_size && e->size + line > e->max_size && e->size > 0) {
		/* the current file is full: write what belongs to it, then rotate */
		char *tail = strndup(e->buf.buf + start, line);

		if (!tail) {
			e->buf.len = start;
			e->stats.errors++;
			return -ENOMEM;
		}
		e->buf.len = start;
		e->buf.buf[start] = '\0';
		r = exporter_flush(e);
		if (r == 0)
			r = rotate(e);
		sbuf_add(&e->buf, tail, line);
		free(tail);
	}
	e->size += line;
	e->buffered_lines++;
	if (e->buf.len >= EXPORT_BUFFER_MAX) {
		int k = exporter_flush(e);

		if (r == 0)
			r = k;
	}
	return r;
}

int exporter_write(struct exporter *e, const ProtobufCMessage *msg)
{
	size_t start = e->buf.len;
	int r;

	r = pbjson_encode(msg, &e->buf, 0);
	if (r < 0) {
		e->buf.len = start;
		if (e->buf.buf)
			e->buf.buf[start] = '\0';
		e->buf.oom = false;
		e->stats.errors++;
		return r;
	}
	sbuf_addc(&e->buf, '\n');
	return append_line(e, start);
}

int exporter_write_json(struct exporter *e, const char *json, size_t len)
{
	size_t start = e->buf.len;

	sbuf_add(&e->buf, json, len);
	sbuf_addc(&e->buf, '\n');
	return append_line(e, start);
}

bool exporter_pending(struct exporter *e)
{
	return e->buf.len > 0;
}

void exporter_get_stats(struct exporter *e, struct exporter_stats *st)
{
	*st = e->stats;
}

struct exporter *exporter_close(struct exporter *e)
{
	if (!e)
		return NULL;
	exporter_flush(e);
	if (e->fd >= 0)
		close(e->fd);
	sbuf_free(&e->buf);
	free(e->path);
	free(e);
	return NULL;
}
