package localaws

import (
	"context"

	"github.com/rinhq/rin/internal/proc"
)

// goaws is pinned as a tool in the local stack's module
// (internal/stack/go.mod), not in rin's own go.mod, so that neither it nor
// its dependencies are requirements of the product; v0.4.5 rejects every
// call from the current aws-sdk-go-v2, so the version is part of the cached
// binary's name.
const (
	GoawsVersion = "v0.5.4"
	GoawsPackage = "github.com/Admiral-Piett/goaws/app/cmd"
)

// goawsBinary returns the path of a goaws binary: $RIN_GOAWS_BIN, or one built
// once from the stack module's pinned version into the cache dir.
func goawsBinary(ctx context.Context) (string, error) {
	return proc.ToolBinary(ctx, "RIN_GOAWS_BIN", "goaws-"+GoawsVersion, GoawsPackage)
}
