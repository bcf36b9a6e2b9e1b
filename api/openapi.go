package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// OpenAPI is the OpenAPI 3 document of the API. Tests validate real responses against it.
//
//go:embed openapi.yaml
var OpenAPI []byte

func (s *Server) openAPI(c *gin.Context) { c.Data(http.StatusOK, "application/yaml", OpenAPI) }
