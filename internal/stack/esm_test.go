package stack

import (
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestJudgeAppliesLambdaRules(t *testing.T) {
	recs := []events.SQSMessage{{MessageId: "a"}, {MessageId: "b"}, {MessageId: "c"}}
	all := []string{"a", "b", "c"}
	for _, tc := range []struct {
		name     string
		res      InvokeResult
		returned []string
		fnErr    bool
		invalid  bool
	}{
		{name: "empty list", res: InvokeResult{Status: 200, Body: []byte(`{"batchItemFailures":[]}`)}},
		{name: "null list", res: InvokeResult{Status: 200, Body: []byte(`{"batchItemFailures":null}`)}},
		{name: "empty response", res: InvokeResult{Status: 200, Body: []byte(`{}`)}},
		{name: "null response", res: InvokeResult{Status: 200, Body: []byte(`null`)}},
		{name: "some", res: InvokeResult{Status: 200, Body: []byte(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`)}, returned: []string{"b"}},
		{name: "empty id", res: InvokeResult{Status: 200, Body: []byte(`{"batchItemFailures":[{"itemIdentifier":""}]}`)}, returned: all, invalid: true},
		{name: "missing id", res: InvokeResult{Status: 200, Body: []byte(`{"batchItemFailures":[{"id":"a"}]}`)}, returned: all, invalid: true},
		{name: "unknown id", res: InvokeResult{Status: 200, Body: []byte(`{"batchItemFailures":[{"itemIdentifier":"z"}]}`)}, returned: all, invalid: true},
		{name: "not JSON", res: InvokeResult{Status: 200, Body: []byte(`oops`)}, returned: all, invalid: true},
		{name: "function error", res: InvokeResult{Status: 200, Body: []byte(`{"errorType":"errorString","errorMessage":"boom"}`)}, returned: all, fnErr: true},
		{name: "timeout", res: InvokeResult{Status: 200, Body: []byte(`Task timed out after 10.00 seconds`)}, returned: all, fnErr: true},
		{name: "exit", res: InvokeResult{Status: 502, Body: []byte(`{"errorType":"Runtime.ExitError"}`)}, returned: all, fnErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Judge(recs, tc.res)
			var got []string
			for id := range o.Returned {
				got = append(got, id)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.returned) {
				t.Errorf("returned %v, want %v", got, tc.returned)
			}
			if (o.FunctionError != "") != tc.fnErr || (o.Invalid != "") != tc.invalid {
				t.Errorf("function error %q, invalid %q", o.FunctionError, o.Invalid)
			}
		})
	}
}
