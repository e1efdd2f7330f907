// Package backfill finds what is in S3 but never reached rin, loads it, and
// proves what was loaded: `rin backfill` and `rin reconcile`.
//
// Events go missing: objects written before the bucket notification
// existed, a notification misconfigured for a day, a queue that expired
// messages during a long outage, a new target added for old data. Backfill
// lists a prefix and loads what no event brought; reconcile lists it and
// says, per target, what is loaded, what is not and why, and what was
// loaded but is gone from S3.
//
// # A source, not a pipeline
//
// Backfill is another way for jobs to enter rin's one engine (fsm), never
// a second loader. A listed object is routed through the config's targets
// exactly as its event would be (config.Route), and each route becomes the
// job an event would have made (fsm.JobFor), with the same id
// (journal.JobID). The jobs are handed to the engine with fsm's Submit,
// which journals them in one transaction; from there they are batched,
// loaded through manifests with the ledger row in the COPY's transaction,
// held behind breakers and retried like any job. While rin runs, backfill
// hands them over its admin socket (one process owns the journal);
// otherwise it opens the journal itself and runs the engine in batch mode
// with a queue that yields nothing, until its jobs are done.
//
// # One object, one job, whichever way rin hears of it
//
// A job's id derives from the object's version as its S3 event names it:
// versionId, else eTag. Listing must produce the same version, or an event
// that arrives later for a backfilled object (or a backfill of an object an
// event brought) would be a second job and a second load:
//
//   - ListObjectsV2 reports the ETag in quotes ("9b2c…"), S3 events without
//     them; the quotes are dropped.
//   - In a versioned bucket events carry the versionId, which
//     ListObjectsV2 does not report. Backfill asks GetBucketVersioning and,
//     for a versioned (or suspended) bucket, lists with ListObjectVersions,
//     keeping each key's latest version (a delete marker means the object
//     is gone). Its page holds up to 1,000 versions like a ListObjectsV2
//     page, so this costs one request per 1,000 versions rather than a
//     HEAD per object. Noncurrent versions are listed too and skipped,
//     which costs more pages on buckets with a long history. A version
//     written while versioning was off or suspended is "null", as its
//     event has no versionId: it is identified by its eTag.
//
// The alternative — keeping the listing's eTag and making "already loaded"
// also match the ledger by s3_uri and a version-less identity — was
// rejected. The ledger stores the job's version, which for an event in a
// versioned bucket is the versionId, so a listing's eTag cannot find those
// rows; and the late event is checked by the engine, in the COPY's own
// transaction, by job id only: matching by URI and eTag there would change
// the exactly-once path (and the Data API's guard) for every load to serve
// backfill. With the versionId, every existing check — journal, ledger,
// guard — applies unchanged.
//
// # Already loaded
//
// Before submitting, backfill looks each job up in the journal (copied or
// acked: loaded; pending: followed to the end; failed: reported, left for
// `rin-journal requeue`) and, for the rest, in the ledger of its endpoint
// by job id: the ledger outlives the journal's retention. Neither look is
// what makes the load exactly once — the COPY's transaction checks the
// ledger under its lock — so a race with an event, another backfill or
// another rin cannot load an object twice; they only keep backfill from
// submitting what is done. Running backfill twice loads nothing the second
// time.
//
// Backfilled jobs carry no event time, so they stay out of rin_load_latency_seconds
// (an object found a month late is not a month of lag). At most
// receive.max_pending of backfill's jobs are outstanding at once, so a
// prefix of millions of objects streams through the engine rather than
// flooding its memory.
//
// # Reconcile
//
// Reconcile lists the prefix, reads the ledger rows of every endpoint under
// it and the journal's jobs under it, and reports per target: in S3 and
// loaded; in S3 and not loaded, with why (no event seen, pending, held by
// an environment fault, failed, or superseded: an earlier version of the
// key was loaded, the current one was not); loaded but no longer in S3.
// Because it reads the ledger, it works for objects whose jobs the journal
// forgot long ago.
package backfill
