package dataapi

import (
	"math"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// result serves GetStatementResult: the rows of a finished statement that
// returned a result set, PageSize records per page.
func (s *Server) result(in *idInput) (resultOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, i, err := s.lookup(in.Id)
	if err != nil {
		return resultOutput{}, err
	}
	if i < 0 {
		if st.batch {
			return resultOutput{}, validation("the results of a batch are per statement: use the id of a sub-statement (" + subID(st.id, 0) + ", ...)")
		}
		i = 0
	}
	sb := st.subs[i]
	switch {
	case sb.status != Finished:
		return resultOutput{}, &apiError{Type: "ResourceNotFoundException", Message: "Query does not have result. Please check query status with DescribeStatement (status " + sb.status + ")", status: 400}
	case sb.result == nil:
		return resultOutput{}, &apiError{Type: "ResourceNotFoundException", Message: "Query does not have result. Please check query status with DescribeStatement", status: 400}
	}
	start := 0
	if in.NextToken != "" {
		start, err = strconv.Atoi(in.NextToken)
		if err != nil || start < 0 || start > len(sb.result.Rows) {
			return resultOutput{}, validation("invalid NextToken")
		}
	}
	end := min(start+s.cfg.PageSize, len(sb.result.Rows))
	types := pgtype.NewMap()
	out := resultOutput{TotalNumRows: int64(len(sb.result.Rows)), Records: [][]field{}}
	for _, fd := range sb.result.FieldDescriptions {
		out.ColumnMetadata = append(out.ColumnMetadata, column(types, fd))
	}
	for _, row := range sb.result.Rows[start:end] {
		rec := make([]field, len(row))
		for k, v := range row {
			rec[k] = value(sb.result.FieldDescriptions[k].DataTypeOID, v)
		}
		out.Records = append(out.Records, rec)
	}
	if end < len(sb.result.Rows) {
		out.NextToken = strconv.Itoa(end)
	}
	return out, nil
}

func column(types *pgtype.Map, fd pgconn.FieldDescription) columnMetadata {
	name := "unknown"
	if t, ok := types.TypeForOID(fd.DataTypeOID); ok {
		name = t.Name
	}
	c := columnMetadata{Name: fd.Name, Label: fd.Name, TypeName: name, Nullable: 1, Length: int32(fd.DataTypeSize)}
	switch fd.DataTypeOID {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.Float4OID, pgtype.Float8OID, pgtype.NumericOID:
		c.IsSigned = true
	}
	return c
}

// value types one text-format value the way the real service does:
// integers as longValue, floats as doubleValue, booleans as booleanValue,
// NULL as isNull, and everything else (numeric, text, dates) as
// stringValue.
func value(oid uint32, v []byte) field {
	if v == nil {
		return field{"isNull": true}
	}
	s := string(v)
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return field{"longValue": n}
		}
	case pgtype.Float4OID, pgtype.Float8OID:
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return field{"doubleValue": f}
		}
	case pgtype.BoolOID:
		return field{"booleanValue": s == "t" || s == "true"}
	}
	return field{"stringValue": s}
}
