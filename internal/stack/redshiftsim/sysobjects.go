package redshiftsim

// The backend objects that stand in for Redshift's load bookkeeping. They
// live in their own schema, rinsim, created once per backend database (by
// the side connection, sysdb.go); the proxy rewrites the names clients use
// (stl_load_errors, pg_last_copy_id(), ...) into it (sysnames.go), so they
// work whatever the client's search_path.
//
// Redshift declares filename, colname, raw_line, err_reason and friends as
// blank-padded char(n) (filename char(256)); here they are plain text, which
// trim() and comparisons treat the same way for any value without trailing
// blanks.

// sysVersion marks the installed objects; a different version reinstalls
// the functions.
const sysVersion = "redshiftsim load objects v2"

// sysSchemaSQL creates the schema, the tables and the functions. It runs
// in one transaction under an advisory lock, so simulators sharing a
// backend database install it once.
const sysSchemaSQL = `
CREATE SCHEMA IF NOT EXISTS rinsim;

CREATE TABLE IF NOT EXISTS rinsim.stl_load_errors (
	userid          integer NOT NULL DEFAULT 100,
	slice           integer NOT NULL DEFAULT 0,
	tbl             integer NOT NULL DEFAULT 0,
	starttime       timestamp NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE 'UTC'),
	session         integer NOT NULL DEFAULT 0,
	query           integer NOT NULL,
	filename        text NOT NULL DEFAULT '',
	line_number     bigint NOT NULL DEFAULT 0,
	colname         text NOT NULL DEFAULT '',
	type            text NOT NULL DEFAULT '',
	col_length      text NOT NULL DEFAULT '',
	position        integer NOT NULL DEFAULT 0,
	raw_line        text NOT NULL DEFAULT '',
	raw_field_value text NOT NULL DEFAULT '',
	err_code        integer NOT NULL,
	err_reason      text NOT NULL DEFAULT '',
	is_partial      integer NOT NULL DEFAULT 0,
	start_offset    bigint NOT NULL DEFAULT 0,
	copy_job_id     bigint NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS stl_load_errors_query ON rinsim.stl_load_errors (query);

CREATE TABLE IF NOT EXISTS rinsim.stl_load_commits (
	userid        integer NOT NULL DEFAULT 100,
	query         integer NOT NULL,
	slice         integer NOT NULL DEFAULT 0,
	name          text NOT NULL DEFAULT '',
	filename      text NOT NULL,
	byte_offset   integer NOT NULL DEFAULT 0,
	lines_scanned integer NOT NULL,
	errors        integer NOT NULL DEFAULT 0,
	curtime       timestamp NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE 'UTC'),
	status        integer NOT NULL DEFAULT 1,
	file_format   text NOT NULL DEFAULT '',
	is_partial    integer NOT NULL DEFAULT 0,
	start_offset  bigint NOT NULL DEFAULT 0,
	copy_job_id   bigint NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS stl_load_commits_query ON rinsim.stl_load_commits (query);

-- One row per COPY that began loading, for pg_last_copy_id/count: written
-- in the COPY's own transaction when it loads (so a rolled-back COPY does
-- not count, as in Redshift), by the side connection when it fails (so a
-- failed COPY does, and stl_load_errors can be joined on its id).
CREATE TABLE IF NOT EXISTS rinsim.copies (
	query   integer NOT NULL,
	session text NOT NULL,
	rows    bigint NOT NULL,
	at      timestamp NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE 'UTC')
);
CREATE INDEX IF NOT EXISTS copies_session ON rinsim.copies (session, query);

CREATE OR REPLACE FUNCTION rinsim.pg_last_copy_id(sess text) RETURNS integer
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT query FROM rinsim.copies WHERE session = sess ORDER BY query DESC LIMIT 1), -1)
$$;

CREATE OR REPLACE FUNCTION rinsim.pg_last_copy_count(sess text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT rows FROM rinsim.copies WHERE session = sess ORDER BY query DESC LIMIT 1), 0)
$$;

-- table_columns are the columns a COPY without a column list fills, in
-- order.
CREATE OR REPLACE FUNCTION rinsim.table_columns(tbl regclass) RETURNS text[]
LANGUAGE sql STABLE AS $$
	SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
	 WHERE attrelid = tbl AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
$$;

-- copy_rows validates a COPY's records against the target table and
-- returns the good ones as rows of it; the COPY becomes
-- INSERT INTO t SELECT ... FROM rinsim.copy_rows(NULL::t, ...).
--
-- data is a JSON array: of objects (JSON 'auto'), or of arrays of fields
-- (delimited input, mapped by position onto cols or the table's columns).
-- All records are converted at once (json_populate_recordset materializes
-- its result, so an error leaves nothing behind); only if that fails is
-- each record tried on its own, and each bad record's column found, in
-- subtransactions. More bad records than budget fails the COPY with
-- Redshift's message; otherwise the good rows load, the COPY is recorded in
-- copies and stl_load_commits, and the bad ones are reported to the proxy
-- in a NOTICE, which writes them to stl_load_errors outside this
-- transaction. Positions in the reports ("i") index data.
CREATE OR REPLACE FUNCTION rinsim.copy_rows(
	target anyelement, tbl regclass, q integer, sess text, label text,
	cols text[], is_json boolean, data json, fill boolean, budget integer,
	files text[], file_start integer[], lines integer[], pre_errors integer[])
RETURNS SETOF anyelement
LANGUAGE plpgsql
SET client_min_messages = notice
AS $fn$
DECLARE
	tcols text[] := cols;
	objs json := data;
	idx integer[];
	bad jsonb := '[]';
	nbad integer := 0;
	n bigint := -1;
	el json;
	k integer;
	c text;
	st text;
	msg text;
	col text;
	typ text;
	tmod integer;
BEGIN
	IF NOT is_json THEN
		IF tcols IS NULL THEN
			tcols := rinsim.table_columns(tbl);
		END IF;
		SELECT coalesce(jsonb_agg(jsonb_build_object('i', o - 1, 'state', 'fields',
		                'n', json_array_length(v), 'want', cardinality(tcols)) ORDER BY o), '[]')
		  INTO bad
		  FROM json_array_elements(data) WITH ORDINALITY AS x(v, o)
		 WHERE json_array_length(v) > cardinality(tcols) OR (NOT fill AND json_array_length(v) < cardinality(tcols));
		nbad := jsonb_array_length(bad);
		SELECT coalesce(json_agg(json_object(tcols[1:json_array_length(v)],
		                ARRAY(SELECT json_array_elements_text(v))) ORDER BY o), '[]'),
		       coalesce(array_agg(o - 1 ORDER BY o), '{}')
		  INTO objs, idx
		  FROM json_array_elements(data) WITH ORDINALITY AS x(v, o)
		 WHERE json_array_length(v) <= cardinality(tcols) AND (fill OR json_array_length(v) = cardinality(tcols));
	END IF;

	BEGIN
		RETURN QUERY SELECT * FROM json_populate_recordset(target, objs);
		GET DIAGNOSTICS n = ROW_COUNT;
	EXCEPTION WHEN data_exception THEN
		n := -1;
	END;

	IF n < 0 THEN
		n := 0;
		IF tcols IS NULL THEN
			tcols := rinsim.table_columns(tbl);
		END IF;
		FOR el, k IN SELECT v, o - 1 FROM json_array_elements(objs) WITH ORDINALITY AS x(v, o) LOOP
			BEGIN
				RETURN QUERY SELECT * FROM json_populate_record(target, el);
				n := n + 1;
			EXCEPTION WHEN data_exception THEN
				st := SQLSTATE; msg := SQLERRM; col := NULL; typ := NULL; tmod := NULL;
				FOREACH c IN ARRAY tcols LOOP
					BEGIN
						PERFORM json_populate_record(target, json_build_object(c, el -> c));
					EXCEPTION WHEN data_exception THEN
						col := c; st := SQLSTATE; msg := SQLERRM;
						EXIT;
					END;
				END LOOP;
				IF col IS NOT NULL THEN
					SELECT t.typname, a.atttypmod INTO typ, tmod
					  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
					 WHERE a.attrelid = tbl AND a.attname = col;
				END IF;
				bad := bad || jsonb_build_object('i', CASE WHEN is_json THEN k ELSE idx[k + 1] END,
					'state', st, 'msg', msg, 'col', col, 'val', left(el ->> col, 1024), 'type', typ, 'typmod', tmod);
				nbad := nbad + 1;
			END;
		END LOOP;
	END IF;

	IF nbad > budget THEN
		RAISE EXCEPTION USING ERRCODE = 'XX000',
			MESSAGE = 'Load into table ''' || label || ''' failed.  Check ''stl_load_errors'' system table for details.',
			DETAIL = 'rinsim:load:' || jsonb_build_object('loaded', 0, 'tbl', tbl::oid::bigint, 'bad', bad)::text;
	END IF;
	INSERT INTO rinsim.copies (query, session, rows) VALUES (q, sess, n);
	IF nbad = 0 THEN
		INSERT INTO rinsim.stl_load_commits (query, filename, lines_scanned, errors, file_format)
		SELECT q, files[f], lines[f], pre_errors[f], CASE WHEN is_json THEN 'Json' ELSE 'Text' END
		  FROM generate_subscripts(files, 1) AS f;
	ELSE
		INSERT INTO rinsim.stl_load_commits (query, filename, lines_scanned, errors, file_format)
		SELECT q, files[f], lines[f], pre_errors[f] + (
			SELECT count(*) FROM jsonb_array_elements(bad) b
			 WHERE (b ->> 'i')::integer >= file_start[f]
			   AND (f = cardinality(files) OR (b ->> 'i')::integer < file_start[f + 1])),
			CASE WHEN is_json THEN 'Json' ELSE 'Text' END
		  FROM generate_subscripts(files, 1) AS f;
		RAISE NOTICE USING MESSAGE = 'rinsim:load:' || jsonb_build_object('loaded', n, 'tbl', tbl::oid::bigint, 'bad', bad)::text;
	END IF;
	RETURN;
END
$fn$;

-- columnar_json turns a Parquet COPY's rows into copy_rows' JSON objects,
-- after Redshift's check: a file's columns map onto the table's (or the
-- column list's) by position, and a file with more columns, or fewer
-- without FILLRECORD, fails the whole COPY, naming the file. Only here is
-- the table's column count known. The proxy keys each value by its
-- position ("\u0001c1", "\u0001c2", ...; a key so spelled can only be a
-- key, since quotes inside JSON strings are escaped), and one replace()
-- per column renames the keys after the columns: a pass over the text each,
-- far cheaper than turning arrays into objects row by row as copy_rows does
-- for delimited input. ncols holds each file's count (-1: an empty object,
-- nothing to check), names the files as Spectrum names them, pid the
-- session.
CREATE OR REPLACE FUNCTION rinsim.columnar_json(tbl regclass, cols text[], data text, fill boolean,
	ncols integer[], names text[], q integer, pid bigint)
RETURNS json
LANGUAGE plpgsql
AS $fn$
DECLARE
	tcols text[] := coalesce(cols, rinsim.table_columns(tbl));
	want integer := coalesce(cardinality(tcols), 0);
	f integer;
	c integer;
BEGIN
	FOR f IN 1 .. coalesce(cardinality(ncols), 0) LOOP
		IF ncols[f] >= 0 AND (ncols[f] > want OR (ncols[f] < want AND NOT fill)) THEN
			RAISE EXCEPTION USING ERRCODE = 'XX000', MESSAGE = 'Spectrum Scan Error',
				DETAIL = E'\n  -----------------------------------------------\n'
					|| E'  error:  Spectrum Scan Error\n'
					|| E'  code:      15007\n'
					|| '  context:   Unmatched number of columns between table and file. Table columns: ' || want
					|| ', Data columns: ' || ncols[f] || ', File name: ' || names[f] || E'\n'
					|| E'  query:     ' || q || E'\n'
					|| E'  location:  dory_util.cpp:1450\n'
					|| E'  process:   worker_thread [pid=' || pid || E']\n'
					|| E'  -----------------------------------------------\n';
		END IF;
	END LOOP;
	FOR c IN 1 .. want LOOP
		data := replace(data, E'"\\u0001c' || c || '":', to_json(tcols[c])::text || ':');
	END LOOP;
	RETURN data::json;
END
$fn$;

COMMENT ON SCHEMA rinsim IS '` + sysVersion + `';
`
