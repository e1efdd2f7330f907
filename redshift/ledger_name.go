package redshift

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// Each target table has a ledger table of its own, so that loads of
// different tables never read or write a common table (see the package
// doc). Its name is derived from the target's schema and table alone, so
// every rin process, of any config that names the same table, finds the
// same ledger:
//
//	<ledger.table>_<8 hex digits of sha256(schema, table)>_<table>
//
// in ledger.schema, e.g. rin_ledger_3fa2b1c9_events. The readable part is
// the table name in lower case with anything but [a-z0-9_] replaced by "_",
// cut so that the whole name fits 63 bytes: Redshift takes 127, but names
// that long are not portable (PostgreSQL, hence the simulator, keeps 63),
// and Redshift folds unquoted-looking names to lower case anyway. The hash
// tells tables apart whatever the readable part loses; two tables whose
// hashes collide merely share a ledger (job ids name the table, so that
// stays correct; those two tables' loads then wait for each other).

// ledgerNameMax is the longest ledger table name rin makes.
const ledgerNameMax = 63

// ledgerPrefixMax bounds the part taken from ledger.table.
const ledgerPrefixMax = 40

// prefix is the start of every per-table ledger name of this ledger.
func (l ledger) prefix() string {
	p := strings.ToLower(l.table)
	if len(p) > ledgerPrefixMax {
		p = strings.ToValidUTF8(p[:ledgerPrefixMax], "")
	}
	return p
}

// tableFor is the (unquoted) name of the ledger table of schema.table.
func (l ledger) tableFor(schema, table string) string {
	sum := sha256.Sum256([]byte(schema + "\x00" + table))
	name := l.prefix() + "_" + hex.EncodeToString(sum[:4])
	readable := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9', r == '_':
			return r
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, table)
	if room := ledgerNameMax - len(name) - 1; room > 0 && readable != "" {
		name += "_" + readable[:min(room, len(readable))]
	}
	return name
}

// isTableLedger reports whether name (as the catalog lists it) is one of
// this ledger's per-table tables.
func (l ledger) isTableLedger(name string) bool {
	rest, ok := strings.CutPrefix(strings.ToLower(name), l.prefix())
	return ok && tableLedgerSuffix.MatchString(rest)
}

var tableLedgerSuffix = regexp.MustCompile(`^_[0-9a-f]{8}(_[a-z0-9_]*)?$`)
