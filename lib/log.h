/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging for the three binaries. Library modules return codes and leave the
 * logging to their callers; only agent/, manager/ and cli/ log.
 *
 * log_error_errno(r, fmt, ...) logs and returns r (a negative errno), and
 * "%m" in fmt prints strerror(-r), so the usual shape is
 *	return log_error_errno(r, "Failed to attach sensor '%s': %m", name);
 */
#pragma once

#include <stdbool.h>
#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Prefix every line with the program name ("tetragon: ") when set. */
void log_set_ident(const char *ident);
/* JSON lines instead of text ("text" or "json"); returns -EINVAL on an unknown format. */
int log_set_format(const char *format);
int log_parse_level(const char *s, enum log_level *ret);
/*
 * The daemons' --log-level and --log-format (either may be NULL: unchanged); a bad value is
 * logged with the option's name and returns -EINVAL.
 */
int log_configure(const char *level, const char *format);

int log_internal(enum log_level level, int err, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int log_internalv(enum log_level level, int err, const char *file, int line, const char *fmt,
		  va_list ap);

#define log_full_errno(level, err, ...)                                              \
	({                                                                           \
		int _e = (err);                                                      \
		(log_get_level() >= (level)) ?                                       \
			log_internal((level), _e, __FILE__, __LINE__, __VA_ARGS__) : \
			(_e < 0 ? _e : -_e);                                         \
	})

#define log_error_errno(err, ...) log_full_errno(LOG_LEVEL_ERROR, (err), __VA_ARGS__)
#define log_warn_errno(err, ...) log_full_errno(LOG_LEVEL_WARN, (err), __VA_ARGS__)
#define log_info_errno(err, ...) log_full_errno(LOG_LEVEL_INFO, (err), __VA_ARGS__)
#define log_debug_errno(err, ...) log_full_errno(LOG_LEVEL_DEBUG, (err), __VA_ARGS__)

#define log_error(...) ((void)log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__))
#define log_warn(...) ((void)log_full_errno(LOG_LEVEL_WARN, 0, __VA_ARGS__))
#define log_info(...) ((void)log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__))
#define log_debug(...) ((void)log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__))
#define log_trace(...) ((void)log_full_errno(LOG_LEVEL_TRACE, 0, __VA_ARGS__))
