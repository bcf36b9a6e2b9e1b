package importer

import (
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/jsonshape"
)

// decodeClaim decodes one JSON claim strictly (unknown fields and wrong types get paths).
func decodeClaim(data []byte, in *intake.ClaimInput) error { return jsonshape.Decode(data, in) }
