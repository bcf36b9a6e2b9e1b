package api_test

import (
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"
)

var _ = openapi3.NewLoader
var _ = openapi3filter.ValidateResponse
var _ = legacy.NewRouter

// checkOpenAPI validates one real exchange of the test suite against api/openapi.yaml.
// (Being replaced by the kin-openapi implementation.)
func checkOpenAPI(t *testing.T, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
}
