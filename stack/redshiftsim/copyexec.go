package redshiftsim

import (
	"context"
	"time"
)

// copySQL decides what the backend runs for one execution of a Redshift
// COPY: an INSERT carrying the data, or a statement raising the error a real
// cluster would give. Faults are applied here, at execution time, so a
// prepared COPY sees the faults in force when it runs.
func (ss *session) copySQL(ctx context.Context, info stmtInfo) string {
	if info.copyErr != nil {
		return raiseErr(info.copyErr)
	}
	spec := info.copy
	if !spec.hasCredentials {
		return raiseSQL("XX000", "AWS credentials must be specified: use CREDENTIALS 'aws_iam_role=...' or "+
			"'aws_access_key_id=...;aws_secret_access_key=...', IAM_ROLE, or ACCESS_KEY_ID and SECRET_ACCESS_KEY")
	}
	if ss.srv.isReadOnly() {
		return raiseSQL("25006", "cannot execute COPY in a read-only transaction")
	}
	if e := ss.srv.takeCopyFailure(); e != nil {
		ss.log.Debug("COPY failing by injected fault", "sqlstate", e.Code)
		return raiseErr(e)
	}
	if d := ss.srv.copyLatency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return raiseSQL("57014", "canceling COPY: connection closing")
		}
	}
	start := time.Now()
	objs, err := fetchInputs(ctx, ss.srv.objects(), spec)
	if err != nil {
		ss.log.Debug("COPY input failed", "uri", spec.uri, "err", err)
		return raiseErr(err)
	}
	var sql string
	if spec.format == formatJSON {
		array, _, err := parseJSONObjects(objs, spec.jsonIgnoreCase)
		if err != nil {
			return raiseErr(err)
		}
		sql = jsonInsertSQL(spec, array)
	} else {
		rows, err := parseDelimited(objs, spec)
		if err == nil {
			sql, err = rowsInsertSQL(spec, rows)
		}
		if err != nil {
			return raiseErr(err)
		}
	}
	if spec.noLoad {
		sql = rowsInsertSQLEmpty(spec)
	}
	ss.log.Debug("COPY rewritten", "uri", spec.uri, "files", len(objs), "bytes", len(sql), "took", time.Since(start))
	return sql
}
