/*
 * The demo's small helpers, shared by its files: a clock, the one way to report a
 * library failure, and number formatting for the summary.
 */
#ifndef DEMO_UTIL_H
#define DEMO_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in seconds. */
double now_s(void);

/* Print a library failure the way every caller should: the code's name and the library's
 * sentence (shmds_last_error). Returns 1, the exit status of a failed stage. */
int report(const char *who, const char *what, int rc);

/* 1234567 -> "1,234,567" into buf; returns buf. */
const char *grouped(uint64_t v, char *buf, size_t size);

/* `one` when n is 1, `many` otherwise. */
const char *plural(uint64_t n, const char *one, const char *many);

#endif /* DEMO_UTIL_H */
