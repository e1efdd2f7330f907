package redshiftsim

import "fmt"

// pgError is an error the simulator wants the client to see with a specific
// SQLSTATE. It never travels to the client directly: it is turned into a
// statement that raises it inside the backend, so that it aborts the client's
// transaction exactly like a real Redshift failure would. Detail, when set,
// reaches the client as the error's DETAIL field, which is where Redshift
// puts its S3 error blocks and the text of error 1023.
type pgError struct {
	Code    string
	Message string
	Detail  string
}

func (e *pgError) Error() string { return fmt.Sprintf("%s (SQLSTATE %s)", e.Message, e.Code) }

func errSyntax(format string, args ...any) *pgError {
	return &pgError{Code: "42601", Message: fmt.Sprintf(format, args...)}
}

func errInternal(format string, args ...any) *pgError {
	return &pgError{Code: "XX000", Message: fmt.Sprintf(format, args...)}
}

func errUnsupported(format string, args ...any) *pgError {
	return &pgError{Code: "0A000", Message: fmt.Sprintf(format, args...)}
}
