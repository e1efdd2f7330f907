// Package config reads rin's configuration: a YAML file that the original
// Rin (github.com/fujiwara/Rin) accepts runs unchanged, with the same
// meaning, plus optional sections of rin's own.
//
// # Loading
//
// Load reads a file path, file://, http(s):// or s3://bucket/key (S3
// through an injected getter). Parse then:
//
//  1. expands templates over the whole text: {{ env "NAME" }},
//     {{ env "NAME" "default" }}, {{ must_env "NAME" }} (an error naming
//     NAME when it is unset) and {{ json_escape "s" }}, as kayac/go-config
//     did for the original;
//  2. decodes the YAML strictly: an unknown key is an error naming the key,
//     its path and line, with the nearest valid key suggested;
//  3. applies defaults, and the original's fallback of every unset target
//     field to the top-level redshift, s3 and sql_option;
//  4. validates, reporting every problem at once as *FieldError values
//     that wrap sentinel errors (ErrRequired, ErrInvalid, ErrRegexp, ...).
//
// # Keys from the original Rin
//
//	queue_name                SQS queue name (required, except in Lambda mode: WithQueueOptional)
//	credentials:
//	  aws_access_key_id       static keys for rin's AWS clients and COPY's CREDENTIALS;
//	  aws_secret_access_key   without them the AWS default credential chain applies
//	  aws_region              region of the AWS clients
//	  aws_iam_role            role ARN for COPY's CREDENTIALS 'aws_iam_role=...' (preferred over keys)
//	redshift:                 the default endpoint and table for targets
//	  driver                  postgres (default) or redshift-data (Data API)
//	  host                    required for postgres
//	  port                    default 5439
//	  dbname, user
//	  password                empty with postgres: temporary credentials (GetClusterCredentials)
//	  schema                  default none: the table name is unqualified (search_path), as in the original
//	  table
//	  cluster                 redshift-data, provisioned cluster (with user)
//	  workgroup               redshift-data, serverless
//	  reconnect_on_error      drop pooled connections after an error (default false)
//	  sslmode                 rin's addition: disable, require, verify-ca, verify-full;
//	                          default $PGSSLMODE, else require
//	s3:
//	  bucket                  the bucket an object must be in
//	  region                  goes in COPY's REGION
//	  key_prefix              match keys starting with this (strings.HasPrefix)
//	  key_regexp              or matching this Go regexp; its groups are $1, $2, ...
//	sql_option                appended to COPY, e.g. JSON 'auto' GZIP
//	targets:                  tried in order; every matching target gets the object
//	  - redshift: {...}       as above; unset fields fall back to the top level
//	    s3: {...}             bucket and region fall back field by field; key_prefix
//	                          and key_regexp fall back together, only when the
//	                          target sets neither (key_prefix wins when both are set)
//	    sql_option            falls back to the top level
//	    break                 stop after this target
//	    discard               match, load nothing, stop
//	    batch: {...}          rin's own: per-target max_files, max_bytes, max_age
//
// In a target's schema and table, $0-$9 and ${N} are replaced by the
// key_regexp's captures ($0 is the whole match; with key_prefix, $0 is the
// key and there are no other groups). A reference to a group the regexp
// does not have is refused at load time. When a capture makes an unusable
// identifier (empty, over 127 bytes, invalid UTF-8, control characters)
// only that object's job fails (Route.Err). Quotes and semicolons are not
// errors: identifiers are quoted.
//
// # rin's own keys (all optional)
//
//	journal:
//	  path                    rin.journal.db (in the working directory)
//	  retention               7d: how long finished jobs are remembered (the dedupe window)
//	retry:
//	  initial_interval        1s
//	  max_interval            30s (also the longest gap between probes of an endpoint held by an outage)
//	  multiplier              2
//	  max_attempts            3: an object's own fault (bad data, object gone) parks its job as failed after this many
//	  max_elapsed             0: jobs held by environment faults wait forever (else: parked after this long)
//	receive:
//	  receivers               2 concurrent ReceiveMessage loops
//	  max_messages            10 per call (1-10)
//	  wait_time               20s long polling (1s-20s)
//	  visibility_timeout      60s, extended by a heartbeat while a job runs (1s-12h)
//	  max_pending             10000 unfinished jobs before receiving pauses (checked
//	                          before each receive, so up to receivers × max_messages more)
//	ledger:                   a row per load, written in the COPY's transaction
//	  disabled                false
//	  schema                  public
//	  table                   rin_ledger: each target table gets its own ledger table named
//	                          rin_ledger_<hash>_<table> (see redshift/doc.go); a rin_ledger
//	                          table of an older rin is still read until pruning empties it
//	  retention               journal.retention + 14d (also the minimum): ledger rows older
//	                          than this are pruned (SQS keeps a message 14 days at most, so no
//	                          redelivered event can ask about them)
//	  prune_interval          1h: at most one prune of a table's ledger per interval, in its own
//	                          transaction under the table's guard
//	manifest:                 COPY through a manifest: exact keys, many per COPY
//	  disabled                false (without it a key is a prefix to Redshift, and max_files is 1)
//	  bucket                  default: the objects' bucket
//	  prefix                  _rin/manifests/ (objects under it are never routed)
//	  sse                     server-side encryption of manifests: AES256 or aws:kms (default: the bucket's)
//	  kms_key_id              KMS key for sse: aws:kms (rin then needs kms:GenerateDataKey, the COPY role kms:Decrypt)
//	batch:
//	  max_files               1000 objects per COPY
//	  max_bytes               1073741824 (1 GiB)
//	  max_age                 2s: how long the first object waits for company. A batch of at
//	                          least max_files/2 starts sooner when the intake has stopped feeding
//	                          it (a receive came back short after its last object, and none has
//	                          joined for max_age/8, 50 ms to 500 ms; or every receiver has waited
//	                          in its long poll for four times what a receive that brings messages
//	                          takes, 50 ms to 1 s) and no COPY of its table is running in this rin
//	  concurrency             4 COPYs at once per endpoint (top level only)
//	  copy_timeout            1h: from the moment the COPY starts (the guard taken), a COPY
//	                          running longer is cancelled and retried (top level only; also the
//	                          session's statement_timeout for the COPY)
//	  lock_timeout            10m: the longest a load waits for its table's guard (another
//	                          load of that table, by this or another rin, holding it) before it is
//	                          retried later (top level only; the session's statement_timeout for
//	                          the LOCK). rin_guard_wait_seconds on /metrics shows the waits
//	overwrites                what a key written again does (S3 sends an event per write):
//	                          load (default): each version loads once; rin checks every object
//	                          before its COPY (a listing of the batch's key range, else a HEAD
//	                          each): an object rewritten since its event loads its current
//	                          bytes as that version (eTag/versionId), which that version's own
//	                          event then finds loaded; a deleted one ends removed
//	                          skip: a key loads once, from its first event; later ones superseded
//	                          unchecked: no HEAD; each event loads what the key holds at COPY time
//	                          (the original Rin; for keys that are never rewritten)
//	                          In every mode an event older (by S3's sequencer) than one already
//	                          seen for the key ends superseded, and a manifest never lists a key
//	                          twice.
//	admin:
//	  disabled                false
//	  socket                  the journal path with .sock (rin.journal.db → rin.sock)
//	  addr                    optional TCP address; loopback only (no authentication)
//
// Durations are Go syntax (500ms, 1h30m), with d for days (7d), or an
// integer number of seconds. For every number in rin's own sections, 0 or
// unset means the default.
//
// A Config is immutable after Parse; Route may be called concurrently.
// Print it with String, which redacts secrets; RedactSQL does the same for
// COPY statements.
package config
