/*
 * Process log to stderr, as text or JSON lines.  Every line carries the
 * request id of the request the calling thread is serving, if any.
 */
#ifndef WG_LOG_H
#define WG_LOG_H

enum wg_level {
	WG_LEVEL_DEBUG,
	WG_LEVEL_INFO,
	WG_LEVEL_WARNING,
	WG_LEVEL_ERROR,
	WG_LEVEL_MAX
};

enum wg_log_format {
	WG_LOG_TEXT,
	WG_LOG_JSON,
};

void wg_log_setup(enum wg_log_format format, enum wg_level min_level);

/* Parses "text" or "json"; returns -1 if it is neither. */
int wg_log_format_parse(const char *s, enum wg_log_format *out);

/* "debug", "info", "warning", "error". */
const char *wg_level_name(enum wg_level level);
int wg_level_parse(const char *s, enum wg_level *out);

/* Sets (or clears, with NULL) the request id this thread logs with. */
void wg_log_set_request_id(const char *request_id);
const char *wg_log_request_id(void);

void wg_log(enum wg_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define wg_debug(...) wg_log(WG_LEVEL_DEBUG, __VA_ARGS__)
#define wg_info(...) wg_log(WG_LEVEL_INFO, __VA_ARGS__)
#define wg_warn(...) wg_log(WG_LEVEL_WARNING, __VA_ARGS__)
#define wg_error(...) wg_log(WG_LEVEL_ERROR, __VA_ARGS__)

#endif
