package config

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

const masked = "********"

// Redacted returns a copy of c that is safe to print: passwords and the
// secret key are replaced by ********, the access key id keeps only its
// first and last four characters, and secrets in sql_option are masked.
// An empty password stays empty, because it means something (temporary
// credentials from GetClusterCredentials).
func (c *Config) Redacted() *Config {
	r := *c
	r.Credentials.AWSAccessKeyID = maskKeyID(c.Credentials.AWSAccessKeyID)
	r.Credentials.AWSSecretAccessKey = maskSecret(c.Credentials.AWSSecretAccessKey)
	r.Redshift.Password = maskSecret(c.Redshift.Password)
	r.SQLOption = RedactSQL(c.SQLOption)
	r.Targets = make([]Target, len(c.Targets))
	for i, t := range c.Targets {
		t.Redshift.Password = maskSecret(t.Redshift.Password)
		t.SQLOption = RedactSQL(t.SQLOption)
		if t.Batch != nil {
			b := *t.Batch
			t.Batch = &b
		}
		r.Targets[i] = t
	}
	r.Warnings = append([]string(nil), c.Warnings...)
	return &r
}

// String renders the effective configuration (defaults and fallback
// applied) as YAML with secrets redacted, for -dry-run and debug logs.
func (c *Config) String() string {
	b, err := yaml.Marshal(c.Redacted())
	if err != nil {
		return "config: " + err.Error()
	}
	return string(b)
}

func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return masked
}

func maskKeyID(s string) string {
	if len(s) < 12 {
		return maskSecret(s)
	}
	return s[:4] + strings.Repeat("*", len(s)-8) + s[len(s)-4:]
}

var (
	// COPY parameters whose quoted value is a secret.
	secretParam = regexp.MustCompile(`(?i)\b(SECRET_ACCESS_KEY|SESSION_TOKEN|MASTER_SYMMETRIC_KEY)(\s+(?:AS\s+)?)'(?:[^']|'')*'`)
	// key=value pairs inside a CREDENTIALS string.
	secretPair = regexp.MustCompile(`(?i)\b(aws_secret_access_key|token|master_symmetric_key)=([^;']*)`)
	keyIDPair  = regexp.MustCompile(`(?i)\b(aws_access_key_id)=([^;']*)`)
	keyIDParam = regexp.MustCompile(`(?i)\b(ACCESS_KEY_ID)(\s+(?:AS\s+)?)'((?:[^']|'')*)'`)
)

// RedactSQL masks credentials in COPY text (a whole statement or a
// sql_option): CREDENTIALS 'aws_access_key_id=..;aws_secret_access_key=..;
// token=..', SECRET_ACCESS_KEY '..', SESSION_TOKEN '..',
// MASTER_SYMMETRIC_KEY '..'. Access key ids are partly masked; IAM role
// ARNs are kept (they are not secrets and help debugging). Use it before
// logging any SQL.
func RedactSQL(sql string) string {
	sql = secretParam.ReplaceAllString(sql, "${1}${2}'"+masked+"'")
	sql = secretPair.ReplaceAllString(sql, "${1}="+masked)
	sql = keyIDPair.ReplaceAllStringFunc(sql, func(m string) string {
		k, v, _ := strings.Cut(m, "=")
		return k + "=" + maskKeyID(v)
	})
	return keyIDParam.ReplaceAllStringFunc(sql, func(m string) string {
		sm := keyIDParam.FindStringSubmatch(m)
		return sm[1] + sm[2] + "'" + maskKeyID(sm[3]) + "'"
	})
}
