// SPDX-License-Identifier: Apache-2.0
/*
 * When events become durable, and when their agents hear so. The open store transaction is
 * committed right before the loop sleeps (or once it holds DURABLE_MAX_ROWS events, so that
 * a loop that never sleeps under load still commits in steps that fit SQLite's page cache);
 * a worker thread then syncs the WAL (store_sync()) while the loop goes on; when the sync
 * is done, every session whose events were in a synced commit gets its Ack. Checkpoints run
 * on another worker afterwards, so that no Ack waits for one.
 */
#include <errno.h>

#include "lib/log.h"
#include "manager/manager.h"

#define SYNC_RETRY_NS (1000ull * 1000000ull)

static void ckpt_work(uv_work_t *w)
{
	struct manager *m = w->data;

	m->ckpt_result = store_checkpoint(m->store);
}

static void ckpt_done(uv_work_t *w, int status)
{
	struct manager *m = w->data;

	m->ckpt_running = false;
	m->stats.checkpoints++;
	if (status < 0 || m->ckpt_result < 0) {
		m->stats.checkpoint_errors++;
		log_error_errno(m->ckpt_result < 0 ? m->ckpt_result : status,
				"Failed to copy the WAL into the database: %m");
	}
}

/* The WAL goes into the database file on another worker, so that acks never wait for it. */
static void maybe_checkpoint(struct manager *m)
{
	if (m->ckpt_running || m->stopping || !store_checkpoint_due(m->store))
		return;
	m->ckpt_work.data = m;
	if (uv_queue_work(m->loop, &m->ckpt_work, ckpt_work, ckpt_done) == 0)
		m->ckpt_running = true;
}

static void sync_work(uv_work_t *w)
{
	struct manager *m = w->data;

	m->sync_result = store_sync(m->store);
}

static void sync_done(uv_work_t *w, int status)
{
	struct manager *m = w->data;

	m->sync_running = false;
	if (status == 0 && m->sync_result == 0) {
		m->stats.syncs++;
		m->synced_epoch = m->sync_target;
		session_deliver_acks(m);
		maybe_checkpoint(m);
	} else {
		/* nothing is acknowledged; the agents keep their events and we try again */
		m->stats.sync_errors++;
		m->sync_retry_at = now_monotonic_ns() + SYNC_RETRY_NS;
		log_error_errno(m->sync_result ? m->sync_result : status,
				"Failed to sync the database's WAL to disk: %m");
	}
}

void durable_sync(struct manager *m)
{
	uint64_t committed = store_committed_epoch(m->store);
	int r;

	if (m->sync_running || committed <= m->synced_epoch)
		return;
	if (m->sync_retry_at && now_monotonic_ns() < m->sync_retry_at)
		return;
	m->sync_target = committed;
	m->sync_work.data = m;
	r = uv_queue_work(m->loop, &m->sync_work, sync_work, sync_done);
	if (r < 0) {
		m->stats.sync_errors++;
		log_error("Failed to start a sync: %s", uv_strerror(r));
		return;
	}
	m->sync_running = true;
}

void durable_commit(struct manager *m)
{
	uint64_t epoch;
	int r;

	if (!store_in_transaction(m->store))
		return;
	epoch = store_open_epoch(m->store);
	r = store_commit(m->store);
	if (r < 0) {
		m->stats.commit_errors++;
		log_error_errno(r, "Failed to commit to the database: %s", store_errmsg(m->store));
		session_commit_failed(m, epoch);
	} else {
		m->stats.commits++;
	}
}

void durable_batch_done(struct manager *m)
{
	if (store_transaction_rows(m->store) < DURABLE_MAX_ROWS)
		return;
	durable_commit(m);
	durable_sync(m);
}
