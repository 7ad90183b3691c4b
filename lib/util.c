// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/util.h"

bool endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

void sbuf_init(struct sbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void sbuf_free(struct sbuf *sb)
{
	free(sb->buf);
	sbuf_init(sb);
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	sb->oom = false;
	if (sb->buf)
		sb->buf[0] = '\0';
}

int sbuf_reserve(struct sbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > SIZE_MAX / 4 - sb->len) {
		sb->oom = true;
		return -ENOMEM;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(sb->buf, cap);
	if (!p) {
		sb->oom = true;
		return -ENOMEM;
	}
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

void sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	if (sbuf_reserve(sb, len) < 0)
		return;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_addc(struct sbuf *sb, char c)
{
	if (sbuf_reserve(sb, 1) < 0)
		return;
	sb->buf[sb->len++] = c;
	sb->buf[sb->len] = '\0';
}

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sbuf_reserve(sb, 64) < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sb->cap - sb->len) {
		if (sbuf_reserve(sb, n) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
	}
	sb->len += n;
}

char *sbuf_steal(struct sbuf *sb)
{
	char *p = sb->buf;

	if (!p)
		p = strdup("");
	sbuf_init(sb);
	return p;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0);

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

ssize_t base64_decode(const char *in, size_t n, void *out, size_t out_size)
{
	unsigned char *o = out;
	uint32_t acc = 0;
	size_t len = 0, pad = 0;
	int bits = 0;

	while (n > 0 && in[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	/* a lone leftover character, or padding that does not complete a quantum */
	if (n % 4 == 1 || (pad && (n + pad) % 4 != 0))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len >= out_size)
				return -ENOBUFS;
			o[len++] = (unsigned char)(acc >> bits);
		}
	}
	return (ssize_t)len;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_realtime_ns(void)
{
	return now_ns(CLOCK_REALTIME);
}

uint64_t now_monotonic_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

uint64_t now_boottime_ns(void)
{
	return now_ns(CLOCK_BOOTTIME);
}

uint64_t boot_time_ns(void)
{
	return now_realtime_ns() - now_boottime_ns();
}

void format_rfc3339(uint64_t epoch_ns, char *buf, size_t size)
{
	time_t sec = (time_t)(epoch_ns / 1000000000ull);
	unsigned long nsec = (unsigned long)(epoch_ns % 1000000000ull);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	/* protojson prints 0, 3, 6 or 9 fractional digits */
	if (nsec == 0)
		snprintf(buf + n, size - n, "Z");
	else if (nsec % 1000000 == 0)
		snprintf(buf + n, size - n, ".%03luZ", nsec / 1000000);
	else if (nsec % 1000 == 0)
		snprintf(buf + n, size - n, ".%06luZ", nsec / 1000);
	else
		snprintf(buf + n, size - n, ".%09luZ", nsec);
}

int parse_rfc3339(const char *s, uint64_t *epoch_ns)
{
	struct tm tm = { 0 };
	const char *p;
	uint64_t frac = 0;
	int digits = 0;
	long off = 0;
	time_t t;

	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		p = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++) {
			if (digits == 9)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
			digits++;
		}
		if (digits == 0)
			return -EINVAL;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;

		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) || !isdigit((unsigned char)p[5]))
			return -EINVAL;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mm = (p[4] - '0') * 10 + (p[5] - '0');
		if (hh > 23 || mm > 59)
			return -EINVAL;
		off = (hh * 3600L + mm * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	} else if (*p) {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	t -= off;
	if (t < 0)
		return -ERANGE;
	*epoch_ns = (uint64_t)t * 1000000000ull + frac;
	return 0;
}

int parse_duration(const char *s, uint64_t *ns)
{
	uint64_t total = 0;
	const char *p = s;

	if (!*p)
		return -EINVAL;
	while (*p) {
		uint64_t v = 0, mult;
		const char *start = p;

		while (isdigit((unsigned char)*p)) {
			if (v > UINT64_MAX / 10)
				return -ERANGE;
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		if (p == start)
			return -EINVAL;
		if (startswith(p, "ns")) {
			mult = 1;
			p += 2;
		} else if (startswith(p, "us")) {
			mult = 1000;
			p += 2;
		} else if (startswith(p, "ms")) {
			mult = 1000000;
			p += 2;
		} else if (*p == 's') {
			mult = 1000000000ull;
			p++;
		} else if (*p == 'm') {
			mult = 60ull * 1000000000ull;
			p++;
		} else if (*p == 'h') {
			mult = 3600ull * 1000000000ull;
			p++;
		} else if (*p == 'd') {
			mult = 86400ull * 1000000000ull;
			p++;
		} else {
			return -EINVAL;
		}
		if (v > UINT64_MAX / mult)
			return -ERANGE;
		total += v * mult;
	}
	*ns = total;
	return 0;
}

int parse_u64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_s64(const char *s, int64_t *ret)
{
	long long v;
	char *end;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = parse_u64(s, &v);

	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int read_file(const char *path, size_t max, char **ret, size_t *len)
{
	_cleanup_close_ int fd = -1;
	struct sbuf sb;
	char buf[4096];
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	sbuf_init(&sb);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			sbuf_free(&sb);
			return (int)n;
		}
		if (sb.len + (size_t)n > max) {
			sbuf_free(&sb);
			return -EFBIG;
		}
		sbuf_add(&sb, buf, (size_t)n);
		if (sb.oom) {
			sbuf_free(&sb);
			return -ENOMEM;
		}
	}
	if (len)
		*len = sb.len;
	*ret = sbuf_steal(&sb);
	return *ret ? 0 : -ENOMEM;
}

int write_file(const char *path, const char *data, size_t len, int mode)
{
	_cleanup_free_ char *tmp = NULL;
	int fd, r = 0;

	if (asprintf(&tmp, "%s.tmp.%d", path, getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int mkdir_p(const char *path, int mode)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!path || !*path || streq(path, "/"))
		return -EINVAL;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *sub;
		int k;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s/%s", path, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		k = rm_rf(sub);
		free(sub);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);
	if (rmdir(path) < 0 && r == 0)
		r = -errno;
	return r;
}
