/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON export file: one event per line in the proto3 JSON mapping (the lines
 * Tetragon writes), buffered, rotated by size into NAME.1 .. NAME.<backups>.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

struct exporter;

struct exporter_stats {
	uint64_t lines;
	uint64_t bytes;
	uint64_t errors; /* lines lost to a write or encoding error */
	uint64_t rotations;
};

/*
 * Open (append to) path with the given permissions. max_size 0 means never rotate.
 * On success *ret owns the exporter; release it with exporter_close(), which flushes.
 */
int exporter_open(const char *path, uint64_t max_size, unsigned max_backups, int mode,
		  struct exporter **ret);
/* Append one message as a JSON line; written out by exporter_flush() or when the buffer fills. */
int exporter_write(struct exporter *e, const ProtobufCMessage *msg);
/* Append an already encoded JSON object (without newline). */
int exporter_write_json(struct exporter *e, const char *json, size_t len);
int exporter_flush(struct exporter *e);
bool exporter_pending(struct exporter *e);
void exporter_get_stats(struct exporter *e, struct exporter_stats *st);
struct exporter *exporter_close(struct exporter *e);
