package config

// UsesCaptures reports whether the target's schema or table refers to
// the key ($0, $1, ${10}, ...): its table is known only per object, so
// tools that check tables before any object arrives (rin doctor) cannot
// check it.
func (t *Target) UsesCaptures() bool {
	return len(scanRefs(t.Redshift.Schema)) > 0 || len(scanRefs(t.Redshift.Table)) > 0
}

// UsesManifest reports whether the target loads through a manifest rin
// writes (see Route.UseManifest).
func (t *Target) UsesManifest() bool { return t.useManifest }
