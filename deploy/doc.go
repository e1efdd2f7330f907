// Package deploy holds what an operator installs besides the binaries: a
// systemd unit (rin.service), a container image (Dockerfile), the IAM
// policy (iam-policy.json), Prometheus alert rules (alerts.yml) and a
// Grafana dashboard (grafana-dashboard.json). See README.md here.
//
// It has no Go code to import; its tests parse each file and check that
// the metrics the rules and the dashboard use are ones rin serves, so the
// files cannot drift from the program unnoticed.
package deploy
