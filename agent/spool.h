/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The uplink's on-disk spool: sequence-numbered records (packed events) that the manager has
 * not acknowledged yet, kept while the manager is away or slow, read back in order when it
 * returns.
 *
 * A directory of segment files, each named by the sequence number of its first record
 * (%020llu.seg) and filled up to segment_bytes before the next one starts. A record is
 * [u32 length][u32 crc32 of seq+data][u64 seq][data], little-endian. Appends collect in a
 * buffer that spool_flush() writes out (the uplink flushes before its loop sleeps), so a
 * kill -9 loses at most what was appended since the last flush. At open every segment is
 * checked and a torn tail (a partial or corrupt last record) is cut off.
 *
 * Bounded: when a record would take the spool over max_bytes, the oldest segments are
 * deleted and every unacknowledged record in them is counted as dropped. Acknowledged
 * segments are deleted as soon as the acknowledgement covers them.
 *
 * Library code: no logging; returns 0 or a negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_RECORD_HEADER 16

struct spool_config {
	const char *dir; /* created (0700) when missing */
	uint64_t max_bytes; /* the whole spool on disk */
	uint64_t segment_bytes; /* at most max_bytes / 2 */
};

struct spool_stats {
	uint64_t bytes; /* on disk and buffered */
	uint64_t records; /* in the spool, acknowledged ones not yet deleted included */
	uint64_t segments;
	uint64_t first_seq; /* 0: empty */
	uint64_t last_seq;
	uint64_t acked_seq;
	uint64_t dropped; /* unacknowledged records deleted because the spool was full */
	uint64_t write_errors; /* failed writes; their records are counted in dropped */
	uint64_t recovered_bytes; /* torn tails cut off at open */
};

struct spool;

/*
 * Open (and recover) the spool in cfg->dir. On success *ret owns it; release it with
 * spool_close(). -EINVAL for a bad configuration.
 */
int spool_open(const struct spool_config *cfg, struct spool **ret);
/* Flush and close. NULL-safe; returns NULL. */
struct spool *spool_close(struct spool *s);

/*
 * Append one record. seq must be above every sequence number in the spool (-EINVAL
 * otherwise); a record larger than a segment is refused with -E2BIG. Making room may drop
 * the oldest segments (counted in the stats).
 */
int spool_append(struct spool *s, uint64_t seq, const void *data, size_t len);
/*
 * Write the buffered records. On a write error (-ENOSPC, -EIO...) the buffered records are
 * lost, counted in dropped and write_errors, and the segment is cut back to what it held.
 */
int spool_flush(struct spool *s);
/* Records up to seq are acknowledged: delete the segments they fill entirely. */
void spool_ack(struct spool *s, uint64_t seq);

/*
 * Hand fn the records with sequence numbers from from_seq on, in order, at most
 * max_records of them and about max_bytes of data (at least one record). fn returns 0 to go
 * on or 1 to stop. data is valid during the call only. Returns the number of records handed
 * over, or a negative errno (a damaged segment is skipped from the damage on and counted
 * as dropped).
 */
int spool_read(struct spool *s, uint64_t from_seq, size_t max_records, size_t max_bytes,
	       int (*fn)(void *ud, uint64_t seq, const void *data, size_t len), void *ud);

uint64_t spool_first_seq(struct spool *s);
uint64_t spool_last_seq(struct spool *s);
void spool_get_stats(struct spool *s, struct spool_stats *st);
