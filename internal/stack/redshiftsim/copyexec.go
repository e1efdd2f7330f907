package redshiftsim

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// copySQL decides what the backend runs for one execution of a Redshift
// COPY: an INSERT carrying the data, or a statement raising the error a real
// cluster would give. Faults are applied here, at execution time, so a
// prepared COPY sees the faults in force when it runs. The returned run (nil
// before the COPY gets a query id) follows the statement to its reply.
//
// Order of the checks, as on a cluster: the statement, the credentials
// clause, a read-only cluster, injected failures (global, then per table),
// then the COPY starts (query id) and reads S3, each read subject to the S3
// faults, then the records are parsed and loaded.
func (ss *session) copySQL(ctx context.Context, info stmtInfo) (string, *copyRun) {
	if info.copyErr != nil {
		return raiseErr(info.copyErr), nil
	}
	spec := info.copy
	if !spec.hasCredentials {
		return raiseSQL("XX000", "AWS credentials must be specified: use CREDENTIALS 'aws_iam_role=...' or "+
			"'aws_access_key_id=...;aws_secret_access_key=...', IAM_ROLE, or ACCESS_KEY_ID and SECRET_ACCESS_KEY"), nil
	}
	if ss.srv.isReadOnly() {
		return raiseSQL("25006", "cannot execute COPY in a read-only transaction"), nil
	}
	if e := ss.srv.takeCopyFailure(); e != nil {
		ss.log.Debug("COPY failing by injected fault", "sqlstate", e.Code)
		return raiseErr(e), nil
	}
	if e := ss.srv.takeTableFailure(spec.table); e != nil {
		ss.log.Debug("COPY failing by injected per-table fault", "table", spec.table, "sqlstate", e.Code)
		return raiseErr(e), nil
	}
	if d := ss.srv.copyLatency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return raiseSQL("57014", "canceling COPY: connection closing"), nil
		}
	}
	start := time.Now()
	run := &copyRun{
		query:     ss.srv.nextQueryID(),
		table:     spec.table[len(spec.table)-1],
		qualified: qualifiedName(spec.table),
	}
	objs, err := fetchInputs(ctx, ss.srv.objects(), spec, ss.s3Gate(spec, run.query))
	if err != nil {
		ss.log.Debug("COPY input failed", "uri", spec.uri, "err", err)
		return raiseErr(ss.spectrumErr(err, run.query)), run
	}
	for _, o := range objs {
		run.files = append(run.files, o.url)
		run.data = append(run.data, o.data)
	}
	var p *parsed
	if spec.format == formatParquet {
		if p, err = ss.srv.parseParquet(objs, !ss.sys); err != nil {
			return raiseErr(ss.spectrumErr(err, run.query)), run
		}
	} else {
		p = parseInputs(objs, spec)
	}
	run.recs, run.bad = p.recs, p.bad
	var sql string
	switch {
	case len(p.bad) > spec.maxError:
		return raiseErr(errInternal("%s", loadFailedMessage(run.table))), run
	case spec.noLoad:
		return rowsInsertSQLEmpty(spec), nil
	case ss.sys:
		sql = loadSQL(spec, p, run, ss.key, ss.pid)
	case len(p.bad) > 0:
		return raiseErr(errInternal("%s", loadFailedMessage(run.table))), run
	case spec.format == formatJSON:
		sql = jsonInsertSQL(spec, p.array)
	default:
		if sql, err = rowsInsertSQL(spec, p.rows); err != nil {
			return raiseErr(err), run
		}
	}
	ss.log.Debug("COPY rewritten", "uri", spec.uri, "query", run.query, "files", len(objs), "bytes", len(sql), "took", time.Since(start))
	return sql, run
}

// spectrumErr puts a Spectrum failure in the COPY's terms (its query id
// and this session's process id); other errors pass unchanged.
func (ss *session) spectrumErr(err error, query int32) error {
	var se *spectrumError
	if errors.As(err, &se) {
		return se.pgError(query, ss.pid)
	}
	return err
}

// s3Gate applies the S3 faults to one COPY's reads, with Redshift's texts:
// the manifest's own, or a data file's (or listing's) with its DETAIL block.
func (ss *session) s3Gate(spec *copySpec, query int32) s3Gate {
	return func(bucket, key string, what s3Read) error {
		f := ss.srv.s3Check(spec, bucket, key)
		switch {
		case f == nil:
			return nil
		case what == readManifestFile:
			return f.manifestError()
		case what == readListing:
			return f.objectError(fmt.Sprintf("Listing bucket=%s prefix=%s", bucket, key), s3ListingLocation, query, ss.pid)
		default:
			return f.objectError("S3 key being read : s3://"+bucket+"/"+key, s3ObjectLocation, query, ss.pid)
		}
	}
}
