package dataapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

func (s *Server) execute(in *executeInput) (executeOutput, error) {
	if in.Sql == "" {
		return executeOutput{}, validation("Sql is required")
	}
	return s.submit(in, []string{in.Sql}, false)
}

func (s *Server) batchExecute(in *executeInput) (executeOutput, error) {
	if len(in.Sqls) == 0 || len(in.Sqls) > MaxBatchStatement {
		return executeOutput{}, validation(fmt.Sprintf("Sqls must hold 1 to %d statements, not %d", MaxBatchStatement, len(in.Sqls)))
	}
	return s.submit(in, in.Sqls, true)
}

// submit validates a submission, records it and starts running it.
func (s *Server) submit(in *executeInput, sqls []string, batch bool) (executeOutput, error) {
	if err := validateTarget(in.target); err != nil {
		return executeOutput{}, err
	}
	if in.SessionId != "" {
		return executeOutput{}, validation("sessions (SessionId) are not simulated")
	}
	for i, q := range sqls {
		if strings.TrimSpace(q) == "" {
			return executeOutput{}, validation(fmt.Sprintf("SQL statement %d is empty", i+1))
		}
		if len(q) > MaxSQLBytes {
			return executeOutput{}, validation(fmt.Sprintf("SQL statement %d is %d bytes; the limit is %d", i+1, len(q), MaxSQLBytes))
		}
		if _, err := bind(q, in.Parameters); err != nil {
			return executeOutput{}, validation(err.Error())
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.tokens[in.ClientToken]; ok && in.ClientToken != "" {
		// A retried submission: the same statement, not a second run.
		st := s.stmts[id]
		return executeOutput{target: st.target, Id: st.id, CreatedAt: epoch(st.created)}, nil
	}
	now := time.Now()
	ctx, cancel := context.WithCancel(s.ctx)
	st := &statement{
		id: newID(), target: in.target, params: in.Parameters, batch: batch,
		created: now, updated: now, cancel: cancel, status: Submitted,
	}
	for _, q := range sqls {
		st.subs = append(st.subs, &sub{sql: q, status: Submitted})
	}
	st.target.SecretArn = ""
	s.stmts[st.id] = st
	if in.ClientToken != "" {
		s.tokens[in.ClientToken] = st.id
	}
	s.count++
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.run(ctx, st)
	}()
	return executeOutput{target: st.target, Id: st.id, CreatedAt: epoch(now)}, nil
}

// validateTarget checks the authentication combinations the stand-in
// accepts: a cluster with a database user (temporary credentials) or a
// secret, or a serverless workgroup; and always a database.
func validateTarget(t target) error {
	switch {
	case t.ClusterIdentifier != "" && t.WorkgroupName != "":
		return validation("specify either ClusterIdentifier or WorkgroupName, not both")
	case t.ClusterIdentifier == "" && t.WorkgroupName == "":
		return validation("ClusterIdentifier (with DbUser or SecretArn) or WorkgroupName is required")
	case t.ClusterIdentifier != "" && t.DbUser == "" && t.SecretArn == "":
		return validation("with ClusterIdentifier, DbUser or SecretArn is required")
	case t.Database == "":
		return validation("Database is required")
	}
	return nil
}

func (s *Server) describe(in *idInput) (describeOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, i, err := s.lookup(in.Id)
	if err != nil {
		return describeOutput{}, err
	}
	if i >= 0 {
		// A sub-statement described on its own.
		out := describeOutput{target: st.target, RedshiftPid: st.pid}
		out.subStatementData = st.subs[i].data(st.id, i)
		return out, nil
	}
	return st.describe(), nil
}

func (s *Server) cancelStatement(in *idInput) (cancelOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, i, err := s.lookup(in.Id)
	if err != nil {
		return cancelOutput{}, err
	}
	if i >= 0 {
		return cancelOutput{}, validation("cancel the batch, not one of its statements")
	}
	switch st.status {
	case Finished, Failed, Aborted:
		return cancelOutput{}, validation("Could not cancel a query that is already in " + st.status + " state")
	}
	st.aborted = true
	st.cancel()
	return cancelOutput{Status: true}, nil
}

// lookup finds a statement by id; "<id>:N" names the Nth sub-statement of
// a batch (i is its index, or -1 for the statement itself). s.mu is held.
func (s *Server) lookup(id string) (*statement, int, error) {
	base, n, hasSub := strings.Cut(id, ":")
	st := s.stmts[base]
	if st == nil {
		return nil, 0, &apiError{Type: "ResourceNotFoundException", Message: "Query does not exist: " + id, status: 400}
	}
	if !hasSub {
		return st, -1, nil
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 1 || k > len(st.subs) || !st.batch {
		return nil, 0, &apiError{Type: "ResourceNotFoundException", Message: "Query does not exist: " + id, status: 400}
	}
	return st, k - 1, nil
}

// newID is a random UUID (version 4), the shape of the real statement ids.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func subID(parent string, i int) string { return parent + ":" + strconv.Itoa(i+1) }
