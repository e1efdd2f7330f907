// Package redshift loads batches of S3 objects into Redshift tables with
// COPY, exactly once.
//
// # The load
//
// Copy runs one transaction per batch, into table T of the batch:
//
//	BEGIN
//	SET statement_timeout TO <batch.lock_timeout>
//	LOCK ledger(T)                     -- the guard: waits for other loads of T only
//	SET statement_timeout TO <batch.copy_timeout>   -- the COPY's clock starts here
//	SELECT job_id FROM ledger(T) WHERE job_id IN (...every id of each job)
//	COPY T FROM 's3://.../batch.manifest' ... MANIFEST <sql_option>
//	INSERT INTO ledger(T) VALUES (...)  -- one row per job
//	COMMIT
//
// ledger(T) is a ledger table of T's own, named from T's schema and name
// (ledger_name.go), created by rin on T's first load. Its rows commit in the
// same transaction as the rows they vouch for, so "is this job loaded?"
// always has a true answer in Redshift, even when rin crashed or the
// connection dropped right after COMMIT: a job whose outcome rin does not
// know is simply copied again, and the ledger check turns that into a
// no-op.
//
// # Why it is exactly once, under Redshift's rules
//
// Redshift has no unique constraint, no row lock and no SELECT ... FOR
// UPDATE. What it has: every transaction is serializable, with conflicts
// detected per table (of two concurrent transactions that each read a
// table the other writes, one is aborted with error 1023); LOCK takes a
// table lock until the transaction ends; a transaction's snapshot is taken
// at its first statement that reads or writes data, so a LOCK before any
// other statement makes the snapshot come after the lock is granted. The
// argument uses only these.
//
//  1. A job is the same object version bound for the same table of the
//     same database (journal.JobID), so every load of job j is a
//     transaction into j's table T, and every one reads ledger(T) for j
//     before it writes, and writes ledger(T) in the transaction that
//     COPYs. ledger(T) is a function of T alone: every rin process with
//     the same ledger settings agrees on it.
//  2. Suppose two transactions L1 and L2 both load j and both commit. Both
//     read ledger(T) and found j absent, and both wrote j into ledger(T).
//     If they overlapped, each read a table the other wrote without seeing
//     the other's write: a cycle, which Redshift's serializable isolation
//     does not let both commit (one gets 1023, rolls back, and the batch is
//     retried; a retry is a new transaction, to which the argument applies
//     again). If they did not overlap, the later one's snapshot includes
//     the earlier one's row, and it skipped j. Either way j is loaded once.
//     This holds without any lock: serializability alone is the proof.
//  3. The lock turns the conflict of step 2 from an abort into a wait. A
//     load of T first locks ledger(T); a second load of T blocks there until
//     the first commits or rolls back, and only then takes its snapshot, so
//     it sees the first's ledger rows and skips its jobs: no 1023, no wasted
//     COPY. COPYs into one table serialize in Redshift anyway, so the lock
//     costs no parallelism Redshift would have given.
//  4. Loads of different tables T and U touch disjoint tables: T and
//     ledger(T), U and ledger(U). Neither reads what the other writes, so
//     Redshift has nothing to abort, and they wait for no lock of each
//     other: they run side by side, in one rin process or several. (Two
//     tables whose ledger names collide share a ledger table; then they
//     wait for each other, and 1 and 2 still hold because ids name the
//     table.) A single ledger table shared by every load, as earlier rins
//     kept, would be read and written by all of them: without a global lock
//     every pair of concurrent loads would form a cycle and one abort; with
//     one, every COPY of every table waits for every other.
//  5. Pruning (prune.go) deletes rows older than the dedupe window in a
//     transaction of its own that takes the same lock first, so it runs
//     between loads of T, never beside one, and cannot conflict with them.
//     A pruned row can no longer be asked about: no event is redelivered
//     after SQS's retention (14 days at most), and a job leaves the journal
//     after journal.retention; ledger.retention is at least their sum.
//
// Tests must see Redshift's behaviour, not PostgreSQL's: under READ
// COMMITTED two unlocked check-then-insert loads both commit, where Redshift
// aborts one, and a single shared ledger read by every load conflicts on
// Redshift but not on PostgreSQL. The Redshift simulator (internal/stack/redshiftsim,
// serial.go) checks transactions as Redshift does, and the tests run loads
// from concurrent Copiers and rin processes against it, with 1023 conflicts
// injected, asserting each object loaded once and no conflict beyond the
// injected ones.
//
// # Upgrading from the shared ledger
//
// Earlier rins kept one ledger table (ledger.table itself) for every
// table, under ids that hashed the whole endpoint string, user included
// (journal.LegacyJobID). This version never writes that table, but while it
// holds rows each load asks it, before its transaction (legacy.go: nothing
// writes it any more, so the answer cannot change, and reading it outside
// keeps it out of every load's read set), and every ledger lookup asks for
// each id a job may be recorded under (journal.Job.IDs): its own, the new
// one and the legacy one. So a job loaded by an earlier rin — redelivered
// with a new id, or still pending in its journal under the old one — is
// not loaded again. Pruning empties the shared table after the window, and
// then it is no longer read. Every earlier rin must be stopped before this
// one starts: they neither take the new guard nor read the new ledgers.
//
// # Timeouts
//
// batch.lock_timeout bounds the wait for the guard and batch.copy_timeout
// the transaction from the guard taken to COMMIT, each as the session's
// statement_timeout (Redshift cancels the statement itself) and as a
// context deadline a little later (guard.go). A wait given up is retried
// later as a statement failure; Copier.GuardStats (fsm.GuardReporter) counts
// the waits for /metrics.
//
// # Manifests, drivers
//
// The manifest lists the batch's exact object URLs (mandatory), because
// Redshift reads FROM 's3://bucket/key' as a key prefix and would also load
// key10, key11, ... With manifests disabled, each job is its own prefix
// COPY, as the original Rin did.
//
// Copier does this through lib/pq (driver: postgres). DataAPICopier does the
// same through the Redshift Data API (driver: redshift-data), which has no
// interactive transaction: it reads the ledger first, and one
// single-transaction batch takes the same guard, inserts the ledger rows,
// and aborts itself (a guard statement dividing by zero) if the ledger
// changed in between (see DataAPICopier). Dispatch routes each batch to the
// Copier of its endpoint.
package redshift
