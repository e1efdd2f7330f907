package dataapi

// The JSON shapes of the Redshift Data API (2019-12-20). Only the members
// the stand-in reads or produces are listed. Timestamps are epoch seconds
// (JSON numbers) and Duration is in nanoseconds, as the real service sends
// them.

type sqlParameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// target is where a statement runs and as whom.
type target struct {
	ClusterIdentifier string `json:"ClusterIdentifier,omitempty"`
	WorkgroupName     string `json:"WorkgroupName,omitempty"`
	Database          string `json:"Database,omitempty"`
	DbUser            string `json:"DbUser,omitempty"`
	SecretArn         string `json:"SecretArn,omitempty"`
}

type executeInput struct {
	target
	Sql           string         `json:"Sql"`
	Sqls          []string       `json:"Sqls"`
	Parameters    []sqlParameter `json:"Parameters"`
	ClientToken   string         `json:"ClientToken"`
	StatementName string         `json:"StatementName"`
	SessionId     string         `json:"SessionId"`
}

type executeOutput struct {
	target
	Id        string  `json:"Id"`
	CreatedAt float64 `json:"CreatedAt"`
}

type idInput struct {
	Id        string `json:"Id"`
	NextToken string `json:"NextToken"`
}

type subStatementData struct {
	Id           string  `json:"Id"`
	Status       string  `json:"Status"`
	Error        string  `json:"Error,omitempty"`
	QueryString  string  `json:"QueryString"`
	HasResultSet bool    `json:"HasResultSet"`
	ResultRows   int64   `json:"ResultRows"`
	ResultSize   int64   `json:"ResultSize"`
	Duration     int64   `json:"Duration"`
	CreatedAt    float64 `json:"CreatedAt"`
	UpdatedAt    float64 `json:"UpdatedAt"`
	QueryId      int64   `json:"RedshiftQueryId"`
}

type describeOutput struct {
	target
	subStatementData
	RedshiftPid     int64              `json:"RedshiftPid"`
	QueryParameters []sqlParameter     `json:"QueryParameters,omitempty"`
	SubStatements   []subStatementData `json:"SubStatements,omitempty"`
}

type columnMetadata struct {
	Name       string `json:"name"`
	Label      string `json:"label"`
	TypeName   string `json:"typeName"`
	Nullable   int32  `json:"nullable"`
	IsSigned   bool   `json:"isSigned"`
	Length     int32  `json:"length"`
	Precision  int32  `json:"precision"`
	Scale      int32  `json:"scale"`
	SchemaName string `json:"schemaName"`
	TableName  string `json:"tableName"`
}

// field is one value of a record: a union with exactly one member set.
type field map[string]any

type resultOutput struct {
	ColumnMetadata []columnMetadata `json:"ColumnMetadata"`
	Records        [][]field        `json:"Records"`
	TotalNumRows   int64            `json:"TotalNumRows"`
	NextToken      string           `json:"NextToken,omitempty"`
}

type cancelOutput struct {
	Status bool `json:"Status"`
}

// apiError is an error response: the SDK reads the type from __type.
type apiError struct {
	Type    string `json:"__type"`
	Message string `json:"Message"`
	status  int
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func validation(msg string) *apiError {
	return &apiError{Type: "ValidationException", Message: msg, status: 400}
}
