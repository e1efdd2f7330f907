package redshift

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// CopyCredentials produces the value of a COPY's CREDENTIALS clause.
//
// In order of preference, as the original Rin: an IAM role ARN
// (aws_iam_role=...), the access keys from the config, and otherwise
// whatever the AWS default credential chain yields (environment, shared
// config, instance role), including its session token.
type CopyCredentials struct {
	IAMRole         string
	AccessKeyID     string
	SecretAccessKey string
	// Provider is the default chain; used when the fields above are empty.
	Provider aws.CredentialsProvider
}

// Clause returns the CREDENTIALS string. It is a secret: never log it.
func (c CopyCredentials) Clause(ctx context.Context) (string, error) {
	switch {
	case c.IAMRole != "":
		return "aws_iam_role=" + c.IAMRole, nil
	case c.AccessKeyID != "" && c.SecretAccessKey != "":
		return "aws_access_key_id=" + c.AccessKeyID + ";aws_secret_access_key=" + c.SecretAccessKey, nil
	case c.Provider != nil:
		v, err := c.Provider.Retrieve(ctx)
		if err != nil {
			return "", fmt.Errorf("COPY credentials: no aws_iam_role or keys in config, and the AWS default credential chain failed: %w", err)
		}
		s := "aws_access_key_id=" + v.AccessKeyID + ";aws_secret_access_key=" + v.SecretAccessKey
		if v.SessionToken != "" {
			s += ";token=" + v.SessionToken
		}
		return s, nil
	default:
		return "", fmt.Errorf("COPY credentials: set credentials.aws_iam_role or credentials.aws_access_key_id/aws_secret_access_key")
	}
}

// Invalidate drops cached credentials of the default chain, so the next
// Clause fetches fresh ones: called when Redshift reports them expired or
// refused. Static keys and roles have nothing to refresh.
func (c CopyCredentials) Invalidate() {
	if inv, ok := c.Provider.(interface{ Invalidate() }); ok {
		inv.Invalidate()
	}
}
