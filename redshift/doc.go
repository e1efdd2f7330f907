// Package redshift loads batches of S3 objects into Redshift tables with
// COPY, exactly once.
//
// Copy runs one transaction per batch:
//
//	BEGIN
//	LOCK ledger                      -- serializes loaders, across rin processes too
//	SELECT job_id FROM ledger WHERE job_id IN (...)   -- already loaded?
//	COPY "schema"."table" FROM 's3://.../batch.manifest' ... MANIFEST <sql_option>
//	INSERT INTO ledger VALUES (...)  -- one row per job
//	COMMIT
//
// The ledger row commits in the same transaction as the rows it vouches
// for, so "is this job loaded?" always has a true answer in Redshift, even
// when rin crashed or the connection dropped right after COMMIT: a job whose
// outcome rin does not know is simply copied again, and the ledger check
// turns that into a no-op. Redshift has no unique constraints; the table lock
// is what keeps two rin processes from both seeing "absent" and loading the
// same job.
//
// The manifest lists the batch's exact object URLs (mandatory), because
// Redshift reads FROM 's3://bucket/key' as a key prefix and would also load
// key10, key11, ... With manifests disabled, each job is its own
// prefix COPY, as the original Rin did.
//
// Copier does this through lib/pq (driver: postgres). DataAPICopier does the
// same through the Redshift Data API (driver: redshift-data), which has no
// interactive transaction: it reads the ledger first, and a guard statement
// inside the load's single-transaction batch aborts it if the ledger
// changed in between (see DataAPICopier). Dispatch routes each batch to the
// Copier of its endpoint.
package redshift
