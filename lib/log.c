// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static const char *ident;
static bool json;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warn",	  [LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug", [LOG_LEVEL_TRACE] = "trace",
};

void log_set_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_level(void)
{
	return max_level;
}

void log_set_ident(const char *s)
{
	ident = s;
}

int log_set_format(const char *format)
{
	if (!strcmp(format, "text"))
		json = false;
	else if (!strcmp(format, "json"))
		json = true;
	else
		return -EINVAL;
	return 0;
}

int log_parse_level(const char *s, enum log_level *ret)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(s, level_names[i])) {
			*ret = (enum log_level)i;
			return 0;
		}
	}
	if (!strcmp(s, "warning")) {
		*ret = LOG_LEVEL_WARN;
		return 0;
	}
	return -EINVAL;
}

int log_configure(const char *level, const char *format)
{
	enum log_level l;

	if (level) {
		if (log_parse_level(level, &l) < 0) {
			log_error("Invalid value '%s' for --log-level: expected error, warn, info, "
				  "debug or trace",
				  level);
			return -EINVAL;
		}
		log_set_level(l);
	}
	if (format && log_set_format(format) < 0) {
		log_error("Invalid value '%s' for --log-format: expected text or json", format);
		return -EINVAL;
	}
	return 0;
}

/* Expand "%m" to strerror(err) before handing the format to vsnprintf. */
static void expand_m(char *dst, size_t size, const char *fmt, int err)
{
	size_t n = 0;

	for (const char *p = fmt; *p && n + 1 < size; p++) {
		if (p[0] == '%' && p[1] == '%') {
			if (n + 2 < size) {
				dst[n++] = '%';
				dst[n++] = '%';
			}
			p++;
		} else if (p[0] == '%' && p[1] == 'm') {
			const char *e = strerror(err);

			for (; *e && n + 2 < size; e++) {
				if (*e == '%')
					continue;
				dst[n++] = *e;
			}
			p++;
		} else {
			dst[n++] = *p;
		}
	}
	dst[n] = '\0';
}

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

int log_internalv(enum log_level level, int err, const char *file, int line, const char *fmt,
		  va_list ap)
{
	char f[1024], msg[4096];
	int saved = errno;

	if (err < 0)
		err = -err;
	expand_m(f, sizeof(f), fmt, err);
	vsnprintf(msg, sizeof(msg), f, ap);

	if (json) {
		struct timespec ts;
		struct tm tm;
		char tbuf[64];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "{\"time\":\"%s.%06ldZ\",\"level\":\"%s\",\"msg\":\"", tbuf,
			ts.tv_nsec / 1000, level_names[level]);
		json_escape(stderr, msg);
		fputs("\"}\n", stderr);
	} else if (max_level >= LOG_LEVEL_DEBUG) {
		fprintf(stderr, "%s%s%s: %s (%s:%d)\n", ident ? ident : "", ident ? ": " : "",
			level_names[level], msg, file, line);
	} else {
		fprintf(stderr, "%s%s%s%s%s\n", ident ? ident : "", ident ? ": " : "",
			level <= LOG_LEVEL_WARN ? level_names[level] : "",
			level <= LOG_LEVEL_WARN ? ": " : "", msg);
	}
	errno = saved;
	return -err;
}

int log_internal(enum log_level level, int err, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_internalv(level, err, file, line, fmt, ap);
	va_end(ap);
	return r;
}
