package redshift

import (
	"context"

	"github.com/rinhq/rin/fsm"
)

// Dispatch routes each batch to the Copier of its endpoint, so one engine
// can load through lib/pq and the Data API at once: the endpoint string
// names the driver, and a batch never spans endpoints.
type Dispatch map[string]fsm.Copier

var _ fsm.Copier = Dispatch(nil)

// Copy hands b to the Copier of b.Dest.Endpoint.
func (d Dispatch) Copy(ctx context.Context, b fsm.Batch) (fsm.Result, error) {
	c, ok := d[b.Dest.Endpoint]
	if !ok {
		return fsm.Result{}, errEndpointGone(b.Dest.Endpoint)
	}
	return c.Copy(ctx, b)
}
