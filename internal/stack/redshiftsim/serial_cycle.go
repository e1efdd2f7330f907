package redshiftsim

// The dependency graph of serializable mode (serial.go): transactions are
// its nodes, and an edge a → b says a must come before b in any serial
// order that gives the same results. A cycle means there is none.

// cycle looks for a cycle through t, which is about to commit, among the
// transactions on the books. It returns t's successor on the cycle and a
// table of the conflict between them.
func (st *serialState) cycle(t *sxact) (*sxact, tableRef, bool) {
	nodes := append([]*sxact{t}, st.done...)
	seen := make([]bool, len(nodes))
	var first int
	var visit func(i int) bool
	visit = func(i int) bool {
		seen[i] = true
		for j := range nodes {
			if j == i || !precedes(nodes[i], nodes[j], t) {
				continue
			}
			if j == 0 {
				return true
			}
			if i == 0 {
				first = j
			}
			if !seen[j] && visit(j) {
				return true
			}
		}
		return false
	}
	if !visit(0) {
		return nil, tableRef{}, false
	}
	u := nodes[first]
	return u, conflictTable(t, u), true
}

// precedes reports an edge a → b of the dependency graph: a must come
// before b in any serial order. t is the transaction being checked, whose
// commit comes after every other's.
func precedes(a, b, t *sxact) bool {
	// Whether b's commit is one a's snapshot saw.
	seenByA := b != t && b.commit != 0 && b.commit < a.start
	if !seenByA && overlap(a.reads, b.writes) {
		return true // a read what b wrote, without b's rows
	}
	if a != t && a.commit != 0 && a.commit < b.start && overlap(a.writes, b.reads) {
		return true // b read a's rows
	}
	if overlap(a.writes, b.writes) {
		return b == t || (a != t && a.order < b.order) // a committed first
	}
	return false
}

func overlap(a, b []tableRef) bool {
	_, ok := common(a, b)
	return ok
}

func common(a, b []tableRef) (tableRef, bool) {
	for _, x := range a {
		for _, y := range b {
			if x.same(y) {
				return x, true
			}
		}
	}
	return tableRef{}, false
}

// conflictTable names a table t and u fight over, for the DETAIL.
func conflictTable(t, u *sxact) tableRef {
	for _, pair := range [][2][]tableRef{{t.reads, u.writes}, {t.writes, u.reads}, {t.writes, u.writes}} {
		if x, ok := common(pair[0], pair[1]); ok {
			return x
		}
	}
	return tableRef{table: "?"}
}

// serialDetail is error 1023's DETAIL for a conflict on table between t
// and u (serializationDetail gives the Redshift shape).
func serialDetail(table tableRef, t, u *sxact) string {
	parts := []string{table.table}
	if table.schema != "" {
		parts = []string{table.schema, table.table}
	}
	return serializationDetail(parts)
}
