// SPDX-License-Identifier: Apache-2.0
/* The uplink's on-disk spool; the format and the rules are in spool.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "agent/spool.h"
#include "lib/util.h"

#define SEG_MAGIC "TSPL\x01\0\0\0"
#define SEG_HEADER 8
#define READ_CHUNK (256u << 10)
#define WRITE_CHUNK (256u << 10)
#define MAX_RECORD (64u << 20) /* larger than any segment: a length beyond it is damage */

struct segment {
	uint64_t first_seq; /* from the file name */
	uint64_t last_seq; /* of its last record; 0 when it holds none */
	uint64_t records;
	uint64_t bytes; /* header and records, buffered ones included */
};

struct spool {
	char *dir;
	uint64_t max_bytes;
	uint64_t segment_bytes;
	struct segment *segs;
	size_t n_segs, cap_segs;
	uint64_t total_bytes;
	uint64_t acked;

	/* the active (last) segment */
	int fd;
	uint64_t disk_bytes; /* written to its file */
	uint64_t disk_records;
	uint64_t disk_last_seq;
	uint8_t *wbuf;
	size_t wlen, wcap;

	/* reading */
	int rfd;
	uint64_t rseg; /* first_seq of the segment rfd reads */
	uint64_t roff; /* offset of the next record */
	uint64_t rlast; /* seq of the record before roff */
	uint64_t rindex; /* records before roff */
	uint8_t *rbuf;
	size_t rcap;
	uint64_t rb_off; /* file offset of rbuf[0] */
	size_t rb_len;

	uint64_t dropped;
	uint64_t write_errors;
	uint64_t recovered_bytes;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint32_t record_crc(const uint8_t *seq_le, const void *data, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, seq_le, 8);
	c = crc32(c, data, (uInt)len);
	return (uint32_t)c;
}

static void seg_path(const struct spool *s, uint64_t first, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%020" PRIu64 ".seg", s->dir, first);
}

static ssize_t pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int write_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = write(fd, (const uint8_t *)buf + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		done += (size_t)r;
	}
	return 0;
}

static void reader_reset(struct spool *s)
{
	if (s->rfd >= 0)
		close(s->rfd);
	s->rfd = -1;
	s->rseg = 0;
	s->rb_len = 0;
}

/* Make bytes [off, off + n) of the reader's file available at *p; 0 at the end of the file. */
static int rb_get(struct spool *s, uint64_t off, size_t n, const uint8_t **p)
{
	size_t want;
	ssize_t got;

	if (s->rb_len && off >= s->rb_off && off + n <= s->rb_off + s->rb_len) {
		*p = s->rbuf + (off - s->rb_off);
		return 1;
	}
	want = MAX(n, (size_t)READ_CHUNK);
	if (want > s->rcap) {
		uint8_t *b = realloc(s->rbuf, want);

		if (!b)
			return -ENOMEM;
		s->rbuf = b;
		s->rcap = want;
	}
	got = pread_all(s->rfd, s->rbuf, want, off);
	if (got < 0) {
		s->rb_len = 0;
		return (int)got;
	}
	s->rb_off = off;
	s->rb_len = (size_t)got;
	if ((size_t)got < n)
		return 0;
	*p = s->rbuf;
	return 1;
}

static int seg_insert(struct spool *s, const struct segment *g)
{
	if (s->n_segs == s->cap_segs) {
		size_t cap = s->cap_segs ? s->cap_segs * 2 : 16;
		struct segment *n = realloc(s->segs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->segs = n;
		s->cap_segs = cap;
	}
	s->segs[s->n_segs++] = *g;
	s->total_bytes += g->bytes;
	return 0;
}

static void seg_remove_first(struct spool *s)
{
	char path[4200];

	seg_path(s, s->segs[0].first_seq, path, sizeof(path));
	if (s->rseg == s->segs[0].first_seq)
		reader_reset(s);
	if (s->n_segs == 1 && s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		s->wlen = 0;
	}
	unlink(path);
	s->total_bytes -= s->segs[0].bytes;
	memmove(&s->segs[0], &s->segs[1], (s->n_segs - 1) * sizeof(*s->segs));
	s->n_segs--;
}

/* Records of the first segment above seq (reads the headers when the answer is not plain). */
static uint64_t count_after(struct spool *s, const struct segment *g, uint64_t seq)
{
	uint8_t hdr[SPOOL_RECORD_HEADER];
	char path[4200];
	uint64_t off = SEG_HEADER, n = 0;
	int fd;

	if (seq < g->first_seq)
		return g->records;
	if (seq >= g->last_seq)
		return 0;
	seg_path(s, g->first_seq, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return g->records;
	while (pread_all(fd, hdr, sizeof(hdr), off) == (ssize_t)sizeof(hdr)) {
		n += get64(hdr + 8) > seq;
		off += SPOOL_RECORD_HEADER + get32(hdr);
	}
	close(fd);
	return n;
}

/*
 * Check one segment, cut a torn tail off and learn its records. Returns 0, or 1 when the
 * segment holds nothing (it is then deleted).
 */
static int seg_recover(struct spool *s, struct segment *g)
{
	char path[4200];
	struct stat st;
	uint8_t magic[SEG_HEADER];
	uint64_t off = SEG_HEADER, prev = 0;
	int fd, r = 0;

	seg_path(s, g->first_seq, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (pread_all(fd, magic, SEG_HEADER, 0) != SEG_HEADER ||
	    memcmp(magic, SEG_MAGIC, SEG_HEADER) != 0) {
		s->recovered_bytes += (uint64_t)st.st_size;
		r = 1;
		goto out;
	}
	reader_reset(s);
	s->rfd = fd;
	for (;;) {
		const uint8_t *p;
		uint32_t len;
		uint64_t seq;
		int k = rb_get(s, off, SPOOL_RECORD_HEADER, &p);

		if (k <= 0)
			break;
		len = get32(p);
		seq = get64(p + 8);
		if (len > MAX_RECORD || seq <= prev || seq < g->first_seq)
			break;
		{
			uint32_t crc = get32(p + 4);
			uint8_t seq_le[8];

			memcpy(seq_le, p + 8, 8);
			k = rb_get(s, off + SPOOL_RECORD_HEADER, len, &p);
			if (k <= 0 || record_crc(seq_le, p, len) != crc)
				break;
		}
		prev = seq;
		g->records++;
		g->last_seq = seq;
		off += SPOOL_RECORD_HEADER + len;
	}
	s->rfd = -1;
	s->rb_len = 0;
	if ((uint64_t)st.st_size > off) {
		/* a torn or damaged tail: what follows cannot be trusted */
		s->recovered_bytes += (uint64_t)st.st_size - off;
		if (ftruncate(fd, (off_t)off) < 0) {
			r = -errno;
			goto out;
		}
	}
	g->bytes = off;
	if (g->records == 0)
		r = 1;
out:
	close(fd);
	return r;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

static int scan(struct spool *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;
	struct segment *found = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t first = 0;
		bool digits = true;

		if (strlen(de->d_name) != 24 || !endswith(de->d_name, ".seg"))
			continue;
		/* decimal with leading zeros: not parse_u64(), which reads them as octal */
		for (int k = 0; k < 20 && digits; k++) {
			digits = de->d_name[k] >= '0' && de->d_name[k] <= '9';
			first = first * 10 + (uint64_t)(de->d_name[k] - '0');
		}
		if (!digits || first == 0)
			continue;
		if (n == cap) {
			struct segment *f;

			cap = cap ? cap * 2 : 16;
			f = realloc(found, cap * sizeof(*f));
			if (!f) {
				r = -ENOMEM;
				goto out;
			}
			found = f;
		}
		memset(&found[n], 0, sizeof(found[n]));
		found[n++].first_seq = first;
	}
	qsort(found, n, sizeof(*found), cmp_seg);
	for (size_t i = 0; i < n; i++) {
		char path[4200];

		r = seg_recover(s, &found[i]);
		if (r < 0)
			goto out;
		if (r == 1 ||
		    (s->n_segs && found[i].first_seq <= s->segs[s->n_segs - 1].last_seq)) {
			/* empty, not ours, or overlapping an older one */
			seg_path(s, found[i].first_seq, path, sizeof(path));
			unlink(path);
			r = 0;
			continue;
		}
		r = seg_insert(s, &found[i]);
		if (r < 0)
			goto out;
	}
out:
	closedir(d);
	free(found);
	return r;
}

int spool_open(const struct spool_config *cfg, struct spool **ret)
{
	struct spool *s;
	int r;

	if (!cfg->dir || !*cfg->dir || cfg->segment_bytes < 4096 ||
	    cfg->max_bytes < 2 * cfg->segment_bytes)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->rfd = -1;
	s->max_bytes = cfg->max_bytes;
	s->segment_bytes = cfg->segment_bytes;
	s->dir = strdup(cfg->dir);
	if (!s->dir) {
		r = -ENOMEM;
		goto err;
	}
	r = mkdir_p(s->dir, 0700);
	if (r < 0)
		goto err;
	r = scan(s);
	if (r < 0)
		goto err;
	if (s->n_segs) {
		struct segment *g = &s->segs[s->n_segs - 1];
		char path[4200];

		seg_path(s, g->first_seq, path, sizeof(path));
		s->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (s->fd < 0) {
			r = -errno;
			goto err;
		}
		s->disk_bytes = g->bytes;
		s->disk_records = g->records;
		s->disk_last_seq = g->last_seq;
	}
	*ret = s;
	return 0;
err:
	spool_close(s);
	return r;
}

struct spool *spool_close(struct spool *s)
{
	if (!s)
		return NULL;
	spool_flush(s);
	if (s->fd >= 0)
		close(s->fd);
	reader_reset(s);
	free(s->segs);
	free(s->wbuf);
	free(s->rbuf);
	free(s->dir);
	free(s);
	return NULL;
}

static void drop_buffer(struct spool *s)
{
	struct segment *g = &s->segs[s->n_segs - 1];
	uint64_t lost = g->records - s->disk_records;

	s->dropped += lost;
	s->total_bytes -= g->bytes - s->disk_bytes;
	g->bytes = s->disk_bytes;
	g->records = s->disk_records;
	g->last_seq = s->disk_last_seq;
	s->wlen = 0;
}

int spool_flush(struct spool *s)
{
	int r;

	if (!s->wlen || s->fd < 0)
		return 0;
	r = write_all(s->fd, s->wbuf, s->wlen);
	if (r < 0) {
		/* cut the file back to whole records; the buffered ones are lost, and counted */
		s->write_errors++;
		if (ftruncate(s->fd, (off_t)s->disk_bytes) < 0)
			r = -errno;
		drop_buffer(s);
		s->rb_len = 0;
		return r;
	}
	s->disk_bytes += s->wlen;
	s->disk_records = s->segs[s->n_segs - 1].records;
	s->disk_last_seq = s->segs[s->n_segs - 1].last_seq;
	s->wlen = 0;
	return 0;
}

static int rotate(struct spool *s, uint64_t seq)
{
	struct segment g = { .first_seq = seq, .bytes = SEG_HEADER };
	char path[4200];
	int fd, r;

	r = spool_flush(s);
	if (r < 0)
		return r;
	if (s->fd >= 0) {
		/* a full segment is not written again: put it on disk now */
		fdatasync(s->fd);
		close(s->fd);
		s->fd = -1;
	}
	seg_path(s, seq, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, SEG_MAGIC, SEG_HEADER);
	if (r == 0)
		r = seg_insert(s, &g);
	if (r < 0) {
		close(fd);
		unlink(path);
		return r;
	}
	s->fd = fd;
	s->disk_bytes = SEG_HEADER;
	s->disk_records = 0;
	s->disk_last_seq = 0;
	return 0;
}

uint64_t spool_last_seq(struct spool *s)
{
	for (size_t i = s->n_segs; i > 0; i--)
		if (s->segs[i - 1].records)
			return s->segs[i - 1].last_seq;
	return 0;
}

uint64_t spool_first_seq(struct spool *s)
{
	for (size_t i = 0; i < s->n_segs; i++)
		if (s->segs[i].records)
			return s->segs[i].first_seq;
	return 0;
}

int spool_append(struct spool *s, uint64_t seq, const void *data, size_t len)
{
	size_t need = SPOOL_RECORD_HEADER + len;
	struct segment *g;
	uint8_t *p;
	int r;

	if (need + SEG_HEADER > s->segment_bytes)
		return -E2BIG;
	/* a segment's name is the lowest sequence number it may hold */
	if (seq == 0 || seq <= spool_last_seq(s) ||
	    (s->n_segs && seq < s->segs[s->n_segs - 1].first_seq))
		return -EINVAL;
	if (!s->n_segs || s->fd < 0 || s->segs[s->n_segs - 1].bytes + need > s->segment_bytes) {
		r = rotate(s, seq);
		if (r < 0) {
			s->write_errors++;
			s->dropped++;
			return r;
		}
	}
	/* bounded: the oldest segments go, and what was not acknowledged in them is counted */
	while (s->total_bytes + need > s->max_bytes && s->n_segs > 1) {
		s->dropped += count_after(s, &s->segs[0], s->acked);
		seg_remove_first(s);
	}
	if (s->wlen + need > s->wcap) {
		size_t cap = MAX(s->wcap * 2, s->wlen + need);

		p = realloc(s->wbuf, MAX(cap, (size_t)WRITE_CHUNK));
		if (!p) {
			s->dropped++;
			return -ENOMEM;
		}
		s->wbuf = p;
		s->wcap = MAX(cap, (size_t)WRITE_CHUNK);
	}
	p = s->wbuf + s->wlen;
	put32(p, (uint32_t)len);
	put64(p + 8, seq);
	put32(p + 4, record_crc(p + 8, data, len));
	memcpy(p + SPOOL_RECORD_HEADER, data, len);
	s->wlen += need;
	g = &s->segs[s->n_segs - 1];
	g->records++;
	g->last_seq = seq;
	g->bytes += need;
	s->total_bytes += need;
	if (s->wlen >= WRITE_CHUNK)
		return spool_flush(s);
	return 0;
}

void spool_ack(struct spool *s, uint64_t seq)
{
	if (seq <= s->acked)
		return;
	s->acked = seq;
	while (s->n_segs) {
		struct segment *g = &s->segs[0];
		bool active = s->n_segs == 1;

		if (g->records && g->last_seq > seq)
			break;
		if (active && s->wlen)
			break;
		seg_remove_first(s);
	}
}

int spool_read(struct spool *s, uint64_t from_seq, size_t max_records, size_t max_bytes,
	       int (*fn)(void *ud, uint64_t seq, const void *data, size_t len), void *ud)
{
	size_t count = 0, bytes = 0;
	size_t i;
	int r;

	r = spool_flush(s);
	if (r < 0)
		return r;
	for (i = 0; i < s->n_segs; i++)
		if (s->segs[i].records && s->segs[i].last_seq >= from_seq)
			break;
	for (; i < s->n_segs && count < max_records && bytes < max_bytes; i++) {
		struct segment *g = &s->segs[i];

		if (!g->records)
			continue;
		if (s->rfd < 0 || s->rseg != g->first_seq || s->rlast >= from_seq) {
			char path[4200];

			reader_reset(s);
			seg_path(s, g->first_seq, path, sizeof(path));
			s->rfd = open(path, O_RDONLY | O_CLOEXEC);
			if (s->rfd < 0)
				return -errno;
			s->rseg = g->first_seq;
			s->roff = SEG_HEADER;
			s->rlast = 0;
			s->rindex = 0;
		}
		while (count < max_records && bytes < max_bytes && s->rindex < g->records) {
			const uint8_t *p;
			uint8_t seq_le[8];
			uint32_t len, crc;
			uint64_t seq;
			int k = rb_get(s, s->roff, SPOOL_RECORD_HEADER, &p);

			if (k < 0)
				return k;
			if (k == 0)
				break;
			len = get32(p);
			crc = get32(p + 4);
			seq = get64(p + 8);
			memcpy(seq_le, p + 8, 8);
			k = len <= MAX_RECORD ? rb_get(s, s->roff + SPOOL_RECORD_HEADER, len, &p) :
						0;
			if (k < 0)
				return k;
			if (k == 0 || record_crc(seq_le, p, len) != crc || seq <= s->rlast) {
				/* damaged on disk since it was opened: skip the rest of it */
				s->dropped += g->records - s->rindex;
				s->rindex = g->records;
				break;
			}
			s->roff += SPOOL_RECORD_HEADER + len;
			s->rlast = seq;
			s->rindex++;
			if (seq < from_seq)
				continue;
			count++;
			bytes += len;
			if (fn(ud, seq, p, len))
				return (int)count;
		}
	}
	return (int)count;
}

void spool_get_stats(struct spool *s, struct spool_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < s->n_segs; i++)
		st->records += s->segs[i].records;
	st->bytes = s->total_bytes;
	st->segments = s->n_segs;
	st->first_seq = spool_first_seq(s);
	st->last_seq = spool_last_seq(s);
	st->acked_seq = s->acked;
	st->dropped = s->dropped;
	st->write_errors = s->write_errors;
	st->recovered_bytes = s->recovered_bytes;
}
