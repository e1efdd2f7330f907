package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// prometheusMetrics are series Prometheus itself records for every target.
var prometheusMetrics = []string{"up"}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --- iam-policy.json

type policy struct {
	Version   string
	Statement []statement
}

type statement struct {
	Sid       string
	Effect    string
	Action    stringList
	Resource  stringList
	Condition map[string]map[string]stringList
}

// stringList is an IAM value that is either a string or a list of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = stringList{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*l = ss
	return nil
}

func TestIAMPolicy(t *testing.T) {
	var p policy
	dec := json.NewDecoder(bytes.NewReader(readFile(t, "iam-policy.json")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("iam-policy.json: %v", err)
	}
	if p.Version != "2012-10-17" {
		t.Errorf("Version %q, want 2012-10-17", p.Version)
	}
	action := regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z]+$`) // no wildcards: least privilege
	sids := map[string]bool{}
	byUse := map[string][]string{} // use (Sid prefix) -> actions
	for i, s := range p.Statement {
		where := fmt.Sprintf("statement %d (%s)", i, s.Sid)
		if s.Sid == "" || sids[s.Sid] {
			t.Errorf("%s: Sid empty or repeated", where)
		}
		sids[s.Sid] = true
		if s.Effect != "Allow" && s.Effect != "Deny" {
			t.Errorf("%s: Effect %q", where, s.Effect)
		}
		if len(s.Action) == 0 || len(s.Resource) == 0 {
			t.Errorf("%s: needs Action and Resource", where)
		}
		for _, a := range s.Action {
			if !action.MatchString(a) {
				t.Errorf("%s: action %q is not one service:Action", where, a)
			}
		}
		for _, r := range s.Resource {
			// Statement ids are not ARNs; those Data API calls take "*",
			// limited to the caller's own statements by a condition.
			if r == "*" && s.Condition == nil {
				t.Errorf("%s: Resource * without a Condition", where)
			} else if r != "*" && !strings.HasPrefix(r, "arn:aws:") {
				t.Errorf("%s: resource %q is not an ARN", where, r)
			}
		}
		use := regexp.MustCompile(`^[A-Z][a-z]+`).FindString(s.Sid)
		byUse[use] = append(byUse[use], s.Action...)
	}
	want := map[string][]string{
		"Daemon": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
			"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetBucketLocation", "redshift:GetClusterCredentials"},
		"Lambda":   {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
		"Backfill": {"s3:ListBucket"},
		"Doctor":   {"sqs:GetQueueAttributes", "s3:GetBucketLocation", "s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
	}
	for use, actions := range want {
		for _, a := range actions {
			if !slices.Contains(byUse[use], a) {
				t.Errorf("no %s statement allows %s", use, a)
			}
		}
	}
	for use := range byUse {
		if _, ok := want[use]; !ok {
			t.Errorf("statements of unknown use %q (Sids start with Daemon, Lambda, Backfill or Doctor)", use)
		}
	}
	// In Lambda mode the event source mapping receives and deletes; the
	// function only needs the daemon's S3 and Redshift statements.
	if slices.Contains(byUse["Lambda"], "sqs:ChangeMessageVisibility") {
		t.Error("Lambda statements allow sqs:ChangeMessageVisibility, which the event source mapping does not need")
	}
}

// --- alerts.yml

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T) ruleFile {
	t.Helper()
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, "alerts.yml")))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	return f
}

func TestAlertRules(t *testing.T) {
	f := loadRules(t)
	if len(f.Groups) == 0 {
		t.Fatal("alerts.yml: no groups")
	}
	alerts := map[string]bool{}
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: needs a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || alerts[r.Alert] {
				t.Errorf("group %s: alert name %q empty or repeated", g.Name, r.Alert)
			}
			alerts[r.Alert] = true
			if strings.TrimSpace(r.Expr) == "" {
				t.Errorf("%s: no expr", r.Alert)
			}
			if _, err := time.ParseDuration(r.For); err != nil {
				t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", r.Alert)
			}
		}
	}
	// What the issue asks to be alerted on, by rule name.
	for _, name := range []string{"RinMessagesRejected", "RinEndpointHeld", "RinTargetsHeld", "RinPendingNearQueueRetention",
		"RinQueueAgeNearRetention", "RinJobsFailed", "RinNoProgress"} {
		if !alerts[name] {
			t.Errorf("no alert %s", name)
		}
	}
}

// --- metric names

// servedMetrics lists the metric names rin serves: the "rin_..." string
// literals of the admin package, which writes /metrics. If the admin
// package comes to build names some other way, this must follow it.
func servedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../admin/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("admin sources: %v", err)
	}
	lit := regexp.MustCompile(`"(rin_[a-z0-9_]+)"`)
	served := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, m := range lit.FindAllSubmatch(readFile(t, f), -1) {
			served[string(m[1])] = true
		}
	}
	if !served["rin_jobs"] {
		t.Fatalf("found no rin_jobs in ../admin: the metric names are no longer string literals there (%v)", served)
	}
	return served
}

// metricRef finds metric names in PromQL: identifiers not followed by
// "(" (functions) nor inside label matchers or strings. Only rin's and
// Prometheus's own series appear in rin's rules, so names are those
// starting with rin_, and up.
var metricRef = regexp.MustCompile(`\b(rin_[a-z0-9_]+|up)\b`)

// usedMetrics maps each metric name in exprs to where it is used.
func usedMetrics(exprs map[string]string) map[string][]string {
	used := map[string][]string{}
	for where, e := range exprs {
		for _, m := range metricRef.FindAllString(e, -1) {
			used[m] = append(used[m], where)
		}
	}
	return used
}

// dashboardExprs returns every "expr" in the dashboard, by panel title.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	var d struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct {
				Expr  string
				RefID string `json:"refId"`
			}
		}
	}
	if err := json.Unmarshal(readFile(t, "grafana-dashboard.json"), &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.Title == "" || len(d.Panels) == 0 {
		t.Fatal("grafana-dashboard.json: no title or no panels")
	}
	exprs := map[string]string{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" {
				t.Errorf("dashboard panel %q: a query without expr or refId", p.Title)
			}
			exprs[fmt.Sprintf("dashboard %q %s", p.Title, q.RefID)] = q.Expr
		}
	}
	return exprs
}

func TestMetricNames(t *testing.T) {
	served := servedMetrics(t)
	exprs := dashboardExprs(t)
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			exprs[fmt.Sprintf("alert %s (group %s)", r.Alert, g.Name)] = r.Expr
		}
	}
	used := usedMetrics(exprs)
	isServed := func(name string) bool {
		if served[name] {
			return true
		}
		// Histogram and summary series: NAME_bucket, NAME_sum, NAME_count.
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && served[base] {
				return true
			}
		}
		return false
	}
	for name, where := range used {
		switch {
		case slices.Contains(prometheusMetrics, name):
		case !isServed(name):
			t.Errorf("%s is not a metric rin serves (admin/metrics.go), used in %v", name, where)
		}
	}
	// The alerts on held scopes and on the queue's age against its
	// retention are the ones that catch a load that silently stopped.
	for _, name := range []string{"rin_held_scopes", "rin_oldest_message_age_seconds", "rin_queue_retention_seconds"} {
		if len(used[name]) == 0 {
			t.Errorf("%s is used by no alert or panel", name)
		}
	}
}

// --- rin.service

// unitFile is a systemd unit: section -> key -> values (a key may repeat).
type unitFile map[string]map[string][]string

// parseUnit reads the subset of systemd's unit syntax rin.service uses:
// [Section] headers, Key=Value lines, # and ; comments, blank lines. A
// trailing backslash continues a line.
func parseUnit(b []byte) (unitFile, error) {
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	n, pending := 0, ""
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, pending = pending+line, ""
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: bad section header %q", n, line)
			}
			section = line[1 : len(line)-1]
			if u[section] != nil {
				return nil, fmt.Errorf("line %d: section [%s] repeated", n, section)
			}
			u[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				return nil, fmt.Errorf("line %d: %q is not Key=Value inside a section", n, line)
			}
			key = strings.TrimSpace(key)
			u[section][key] = append(u[section][key], strings.TrimSpace(value))
		}
	}
	return u, sc.Err()
}

// systemdDuration parses the time spans the unit uses: "45s", "10min",
// "1min 30s"; a bare number is seconds.
func systemdDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "min", "m")
	return time.ParseDuration(s)
}

func TestSystemdUnit(t *testing.T) {
	u, err := parseUnit(readFile(t, "rin.service"))
	if err != nil {
		t.Fatalf("rin.service: %v", err)
	}
	for name := range u {
		if name != "Unit" && name != "Service" && name != "Install" {
			t.Errorf("unexpected section [%s]", name)
		}
	}
	one := func(section, key string) string {
		v := u[section][key]
		if len(v) != 1 {
			t.Errorf("[%s] %s: %d values, want 1", section, key, len(v))
			return ""
		}
		return v[0]
	}
	if one("Unit", "Description") == "" {
		t.Error("no Description")
	}
	if !strings.Contains(one("Service", "ExecStart"), "/rin ") {
		t.Error("ExecStart does not run rin")
	}
	if one("Install", "WantedBy") == "" {
		t.Error("no WantedBy")
	}
	if v := one("Service", "KillSignal"); v != "SIGTERM" {
		t.Errorf("KillSignal=%s, want SIGTERM (rin drains on it)", v)
	}
	// rin drains in-flight COPYs for up to 30 s after SIGTERM.
	if d, err := systemdDuration(one("Service", "TimeoutStopSec")); err != nil || d <= 30*time.Second {
		t.Errorf("TimeoutStopSec: %v, %v; want above rin's 30 s grace", d, err)
	}
	if one("Service", "StateDirectory") == "" {
		t.Error("no StateDirectory for the journal")
	}
	if u["Service"]["User"] == nil && one("Service", "DynamicUser") != "yes" {
		t.Error("rin runs as root: set User= or DynamicUser=yes")
	}
	for key, want := range map[string]string{
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "ProtectHome": "yes",
		"PrivateDevices": "yes", "RestrictNamespaces": "yes", "RestrictSUIDSGID": "yes", "LockPersonality": "yes",
		"ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectControlGroups": "yes",
		"SystemCallArchitectures": "native", "CapabilityBoundingSet": "",
	} {
		if v := one("Service", key); v != want {
			t.Errorf("%s=%q, want %q", key, v, want)
		}
	}
	families := strings.Fields(one("Service", "RestrictAddressFamilies"))
	slices.Sort(families)
	if !slices.Equal(families, []string{"AF_INET", "AF_INET6", "AF_UNIX"}) {
		t.Errorf("RestrictAddressFamilies %v, want AF_INET AF_INET6 AF_UNIX (AWS, Redshift, the admin socket)", families)
	}
	for _, key := range []string{"StartLimitIntervalSec", "StartLimitBurst"} {
		if u["Service"][key] != nil {
			t.Errorf("%s belongs in [Unit]", key)
		}
	}
}

// --- Dockerfile

// dockerInstructions returns the Dockerfile's instructions, continuation
// lines joined, comments dropped.
func dockerInstructions(b []byte) [][2]string {
	var out [][2]string
	joined := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if joined == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, `\`) {
			joined += strings.TrimSuffix(trimmed, `\`) + " "
			continue
		}
		joined += trimmed
		op, args, _ := strings.Cut(joined, " ")
		out = append(out, [2]string{strings.ToUpper(op), strings.TrimSpace(args)})
		joined = ""
	}
	return out
}

func TestDockerfile(t *testing.T) {
	var froms, users, volumes, runs []string
	goVersion := ""
	for _, in := range dockerInstructions(readFile(t, "Dockerfile")) {
		switch in[0] {
		case "FROM":
			froms = append(froms, in[1])
		case "USER":
			users = append(users, in[1])
		case "VOLUME":
			volumes = append(volumes, in[1])
		case "RUN":
			runs = append(runs, in[1])
		case "ARG":
			if v, ok := strings.CutPrefix(in[1], "GO_VERSION="); ok {
				goVersion = v
			}
		}
	}
	if len(froms) < 2 {
		t.Errorf("%d stages, want a build stage and a runtime stage", len(froms))
	}
	if len(froms) > 0 && !strings.HasPrefix(froms[len(froms)-1], "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %s, want gcr.io/distroless/static", froms[len(froms)-1])
	}
	root := func(u string) bool {
		return u == "root" || u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:")
	}
	if len(users) == 0 || slices.ContainsFunc(users, root) {
		t.Errorf("USER %v: the image must run as a non-root user", users)
	}
	if !slices.ContainsFunc(volumes, func(v string) bool { return strings.Contains(v, "/var/lib/rin") }) {
		t.Errorf("VOLUME %v: the journal's directory /var/lib/rin must be a volume", volumes)
	}
	if !slices.ContainsFunc(runs, func(r string) bool { return strings.Contains(r, "CGO_ENABLED=0") && strings.Contains(r, "go build") }) {
		t.Error("no RUN CGO_ENABLED=0 go build: distroless/static needs static binaries")
	}
	// The builder's Go must be at least go.mod's.
	m := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindSubmatch(readFile(t, "../go.mod"))
	d := regexp.MustCompile(`^(\d+)\.(\d+)`).FindStringSubmatch(goVersion)
	if m == nil || d == nil {
		t.Fatalf("go.mod go version %q, Dockerfile GO_VERSION %q: want both", m, goVersion)
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if mod, img := [2]int{atoi(string(m[1])), atoi(string(m[2]))}, [2]int{atoi(d[1]), atoi(d[2])}; img[0] < mod[0] || (img[0] == mod[0] && img[1] < mod[1]) {
		t.Errorf("Dockerfile GO_VERSION %s is older than go.mod's go %s.%s", goVersion, m[1], m[2])
	}
}
