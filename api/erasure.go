package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/claims"
)

// ErasureResponse says what became of a claim's personal data.
type ErasureResponse struct {
	Reference string `json:"reference"`
	// Erased is false when the data was already gone.
	Erased   bool   `json:"erased"`
	ErasedAt string `json:"erased_at"`
}

// eraseClaim removes a claim's personal data at the claimant's request (admin only), from the
// claim, its trail and the case's finished export files (store.EraseClaim). The claim stays,
// anonymous, in every count and total; the act is audited.
func (s *Server) eraseClaim(c *gin.Context) {
	cl, cs, ok := s.authorizedClaim(c)
	if !ok {
		return
	}
	erased, err := s.claims.Erase(c.Request.Context(), cl, actorOf(c), claims.EraseRequested)
	if err != nil {
		writeError(c, err)
		return
	}
	after, err := s.store.ClaimByReference(c.Request.Context(), cl.Reference)
	if err != nil {
		writeError(c, err)
		return
	}
	out := ErasureResponse{Reference: cl.Reference, Erased: erased}
	if after.ErasedAt != nil {
		out.ErasedAt = after.ErasedAt.In(cs.Location).Format(time.RFC3339)
	}
	c.JSON(http.StatusOK, out)
}
