package api

import "github.com/gin-gonic/gin"

// importRoutes registers the batch import endpoints (being written).
func (s *Server) importRoutes(v1 *gin.RouterGroup) {}
