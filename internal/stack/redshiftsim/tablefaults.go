package redshiftsim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
)

// Some Redshift failures belong to one table: a serializable isolation
// violation (error 1023) hits the COPYs into the table two transactions
// fight over, and rin must retry that table without slowing the others.
// Per-table rules let a test fail only the COPYs into one table.
//
// A rule names a table as "table" or "schema.table" (or
// "database.schema.table"). It matches a COPY when the dotted parts agree
// from the right, case-insensitively, for as many parts as both name: "t"
// matches COPYs into t, s.t and "S"."T"; "s.t" matches COPYs into s.t and
// into a bare t (the simulator does not resolve search_path), not into x.t.

// tableFault is one per-table rule.
type tableFault struct {
	parts         []string
	remaining     int
	sqlstate      string
	message       string
	serialization bool
}

// TableFailure is one per-table rule, as reported by Faults.
type TableFailure struct {
	Table         string `json:"table"`
	Remaining     int    `json:"remaining"`
	SQLState      string `json:"sqlstate,omitempty"`
	Message       string `json:"message,omitempty"`
	Serialization bool   `json:"serialization,omitempty"`
}

// FailNextCopiesInto makes the next n COPYs into table fail with the given
// SQLSTATE (XX000 if empty or invalid) and message; see the package's
// matching rule above. n <= 0 removes the table's rules. It does not
// consume FailNextCopies, which is applied first.
func (s *Server) FailNextCopiesInto(table string, n int, sqlstate, message string) {
	if sqlstate == "" {
		sqlstate = "XX000"
	}
	if message == "" {
		message = "redshiftsim: injected COPY failure"
	}
	s.setTableFault(table, n, &tableFault{sqlstate: sqlstate, message: message})
}

// SerializationConflictsInto makes the next n COPYs into table fail as
// Redshift's serializable isolation violation reaches a libpq client:
// SQLSTATE XX000, message "1023", DETAIL "Serializable isolation violation
// on table - <id>, transactions forming the cycle are: <xid>, <xid>
// (pid:<pid>)". n <= 0 removes the table's rules.
func (s *Server) SerializationConflictsInto(table string, n int) {
	s.setTableFault(table, n, &tableFault{sqlstate: "XX000", message: "1023", serialization: true})
}

func (s *Server) setTableFault(table string, n int, f *tableFault) {
	f.parts = splitTableName(table)
	f.remaining = n
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	kept := s.faults.tables[:0]
	for _, t := range s.faults.tables {
		if !sameParts(t.parts, f.parts) {
			kept = append(kept, t)
		}
	}
	s.faults.tables = kept
	if n > 0 {
		s.faults.tables = append(s.faults.tables, f)
	}
}

// takeTableFailure consumes one per-table failure matching the COPY's
// table, if any.
func (s *Server) takeTableFailure(table []string) *pgError {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for _, f := range s.faults.tables {
		if f.remaining <= 0 || !tableMatches(f.parts, table) {
			continue
		}
		f.remaining--
		e := &pgError{Code: f.sqlstate, Message: f.message}
		if f.serialization {
			e.Detail = serializationDetail(table)
		}
		return e
	}
	return nil
}

// serializationDetail is error 1023's DETAIL. Redshift names the table by
// its id; a stable number derived from the name plays that part.
func serializationDetail(table []string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.Join(table, ".")))
	id := 100000 + h.Sum32()%900000
	xid := 1000000 + rand.IntN(9000000)
	return fmt.Sprintf("Serializable isolation violation on table - %d, transactions forming the cycle are: %d, %d (pid:%d)",
		id, xid, xid-1-rand.IntN(50), 1000+rand.IntN(60000))
}

// splitTableName splits a rule's "schema.table" at its dots.
func splitTableName(s string) []string {
	return strings.Split(strings.TrimSpace(s), ".")
}

// tableMatches compares rule and COPY target from the right.
func tableMatches(rule, table []string) bool {
	n := min(len(rule), len(table))
	for i := 1; i <= n; i++ {
		if !strings.EqualFold(strings.Trim(rule[len(rule)-i], `"`), table[len(table)-i]) {
			return false
		}
	}
	return n > 0
}

// sameParts reports whether two rules name the same table.
func sameParts(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(strings.Trim(a[i], `"`), strings.Trim(b[i], `"`)) {
			return false
		}
	}
	return true
}
