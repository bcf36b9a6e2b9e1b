package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
)

// oaSpec is api/openapi.yaml loaded, validated and routed once per test binary: every API test
// checks its exchanges against it, so it must be cheap after the first use.
var oaSpec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func oaLoad() (*openapi3.T, routers.Router, error) {
	oaSpec.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPI)
		if err != nil {
			oaSpec.err = fmt.Errorf("load api/openapi.yaml: %w", err)
			return
		}
		// Validate checks the document and every example in it against its schema.
		if err := doc.Validate(loader.Context); err != nil {
			oaSpec.err = fmt.Errorf("api/openapi.yaml is not a valid OpenAPI document: %w", err)
			return
		}
		r, err := legacy.NewRouter(doc)
		if err != nil {
			oaSpec.err = fmt.Errorf("route api/openapi.yaml: %w", err)
			return
		}
		oaSpec.doc, oaSpec.router = doc, r
	})
	return oaSpec.doc, oaSpec.router, oaSpec.err
}

// oaOptions are the options of every check: an undocumented status is an error, and every
// schema error is reported, not only the first. checkOpenAPI validates responses only (tests
// send invalid requests on purpose); where requests are validated (TestOpenAPIExchanges, for
// the ones the service accepted), credentials are not checked: the service does that.
var oaOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
}

// oaInScope reports whether the document covers a path: the JSON API under /api/ and the
// system endpoints. Operations endpoints for admins (/metrics, /debug/pprof/) and server-rendered
// pages are not part of the API a client integrates against, so they are left out of it.
func oaInScope(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz" || path == "/openapi.yaml"
}

// checkOpenAPI validates one real exchange of the test suite against api/openapi.yaml: the
// route must be documented, and the status, headers and body of the response must match the
// document. The one exception is a request to a path or method the API does not have at all,
// which must get the router's own 404 not_found or 405 method_not_allowed error. Paths outside
// the document's scope (see oaInScope) are not checked.
func checkOpenAPI(t *testing.T, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	t.Helper()
	if !oaInScope(req.URL.Path) {
		return
	}
	doc, router, err := oaLoad()
	if err != nil {
		t.Errorf("openapi: %v", err)
		return
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		if oaUnrouted(doc, router, req, status, body) {
			return
		}
		t.Errorf("openapi: %s %s is not in api/openapi.yaml (%v); the response was %d %s",
			req.Method, req.URL.Path, err, status, oaShorten(body))
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: oaOptions},
		Status:                 status,
		Header:                 header,
		Options:                oaOptions,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("openapi: %s %s -> %d does not match api/openapi.yaml (%s %s):\n%v\nrequest body: %s\nresponse body: %s",
			req.Method, req.URL.RequestURI(), status, route.Method, route.Path, err, oaShorten(reqBody), oaShorten(body))
	}
}

// oaUnrouted reports whether an exchange the document has no operation for is the router's
// answer to a path the API does not have (404 not_found) or to a method a documented path
// does not have (405 method_not_allowed), in the one error shape.
func oaUnrouted(doc *openapi3.T, router routers.Router, req *http.Request, status int, body []byte) bool {
	var want string
	switch status {
	case http.StatusNotFound:
		want = "not_found"
	case http.StatusMethodNotAllowed:
		want = "method_not_allowed"
	default:
		return false
	}
	// The legacy router cannot tell a missing method from a missing path for templated
	// paths, so ask for the path with every method.
	pathKnown := false
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		r := req.Clone(context.Background())
		r.Method = m
		if _, _, err := router.FindRoute(r); err == nil {
			pathKnown = true
			break
		}
	}
	if pathKnown != (status == http.StatusMethodNotAllowed) {
		return false
	}
	var v any
	if json.Unmarshal(body, &v) != nil || doc.Components.Schemas["ErrorBody"].Value.VisitJSON(v) != nil {
		return false
	}
	return v.(map[string]any)["error"].(map[string]any)["code"] == want
}

func oaShorten(b []byte) string {
	const max = 2000
	if len(b) == 0 {
		return "(empty)"
	}
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// TestOpenAPIDocumentIsValid checks api/openapi.yaml itself: it loads and validates (examples
// included), it documents exactly the routes of the router in its scope (oaInScope), and its
// schemas stay in sync with the Go types they describe and with the stable codes of the service.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, _, err := oaLoad()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("routes", func(t *testing.T) {
		h, ok := api.New(api.Config{}).(interface{ Routes() gin.RoutesInfo })
		if !ok {
			t.Fatal("api.New does not return a *gin.Engine any more; find another way to list its routes")
		}
		inRouter := map[string]bool{}
		for _, r := range h.Routes() {
			if !oaInScope(r.Path) {
				continue
			}
			parts := strings.Split(r.Path, "/")
			for i, p := range parts {
				if name, ok := strings.CutPrefix(p, ":"); ok {
					parts[i] = "{" + name + "}"
				} else if name, ok := strings.CutPrefix(p, "*"); ok {
					parts[i] = "{" + name + "}"
				}
			}
			inRouter[r.Method+" "+strings.Join(parts, "/")] = true
		}
		inDoc := map[string]bool{}
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				inDoc[method+" "+path] = true
			}
		}
		for _, r := range oaSorted(inRouter) {
			if !inDoc[r] {
				t.Errorf("route %s is not documented in api/openapi.yaml", r)
			}
		}
		for _, r := range oaSorted(inDoc) {
			if !inRouter[r] {
				t.Errorf("api/openapi.yaml documents %s, which the router does not have", r)
			}
		}
	})

	t.Run("operations", func(t *testing.T) {
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				if op.OperationID == "" || op.Summary == "" {
					t.Errorf("%s %s: needs an operationId and a summary", method, path)
				}
				if op.Security == nil {
					t.Errorf("%s %s: says nothing about security (use security: [] for public endpoints)", method, path)
				}
				for status, resp := range op.Responses.Map() {
					if resp.Value.Headers["X-Request-Id"] == nil {
						t.Errorf("%s %s %s: does not document the X-Request-Id header", method, path, status)
					}
				}
			}
		}
	})

	// One schema per Go type: the same JSON names, and for response types required exactly
	// when the field has no omitempty and nullable exactly when it is a pointer that is
	// always sent (null).
	t.Run("schemas", func(t *testing.T) {
		requests := []any{intake.ClaimInput{}, intake.ClaimantInput{}, intake.ItemInput{}, claims.WindowInput{},
			api.ReplaceWindowsRequest{}, api.CreateTokenRequest{}, damages.Rules{}, damages.EvidenceFactors{},
			damages.ConsolationRule{}, damages.InterestRules{}, damages.Benchmark{}, damages.BenchmarkTier{},
			api.TransitionRequest{}, api.BulkTransitionRequest{}, api.DuplicateDecisionRequest{}, api.SessionRequest{}, api.CreateUserRequest{}}
		responses := []any{api.CaseSummary{}, api.CaseResponse{}, api.Names{}, api.ServiceResponse{}, api.FeatureResponse{},
			api.WindowResponse{}, api.ReplaceWindowsResponse{}, api.ClaimResponse{}, api.ClaimantResponse{},
			api.ItemResponse{}, api.EligibilityResponse{}, api.ClaimListResponse{}, api.TokenResponse{},
			api.ErrorBody{}, api.ErrorDetail{}, api.FieldError{}, api.RulesResponse{}, api.RuleVersionsResponse{},
			api.TotalsResponse{}, api.SubtotalResponse{}, api.BenchmarkResponse{}, api.SimulationResponse{},
			api.SummaryResponse{}, api.DamagesResponse{}, api.ItemDamages{}, api.ConsolationResponse{}, api.TraceStep{},
			api.TransitionResponse{}, api.ReasonText{}, api.ActorResponse{}, api.HistoryResponse{}, api.BulkTransitionResponse{},
			api.BulkTransitionResult{}, api.ReviewResponse{}, api.SignalResponse{}, api.DuplicatePairResponse{}, api.DuplicateListResponse{},
			api.AuditEventResponse{}, api.AuditActor{}, api.AuditListResponse{}, api.SessionResponse{}, api.UserResponse{}, api.UserListResponse{},
			api.ExportJobResponse{}}
		for i, v := range append(requests, responses...) {
			typ, isResponse := reflect.TypeOf(v), i >= len(requests)
			ref := doc.Components.Schemas[typ.Name()]
			if ref == nil {
				t.Errorf("no schema %s in api/openapi.yaml for %s", typ.Name(), typ)
				continue
			}
			s := ref.Value
			if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
				t.Errorf("schema %s: set additionalProperties: false (the decoder rejects unknown fields, and responses have no others)", typ.Name())
			}
			fields := oaJSONFields(typ)
			for name, f := range fields {
				p := s.Properties[name]
				if p == nil {
					t.Errorf("schema %s: no property %q (field %s of %s)", typ.Name(), name, f.goName, typ)
					continue
				}
				if p.Value.Description == "" && p.Ref == "" && len(p.Value.Enum) == 0 && !isResponse {
					t.Errorf("schema %s: property %q needs a description", typ.Name(), name)
				}
				if !isResponse {
					continue
				}
				if required := slices.Contains(s.Required, name); required == f.omitempty {
					t.Errorf("schema %s: property %q: required is %v, but the Go field %s has omitempty %v", typ.Name(), name, required, f.goName, f.omitempty)
				}
				nullable := f.pointer && !f.omitempty
				if p.Value.Nullable != nullable {
					t.Errorf("schema %s: property %q: nullable is %v, but the Go field %s is sent as null: %v", typ.Name(), name, p.Value.Nullable, f.goName, nullable)
				}
			}
			for name := range s.Properties {
				if _, ok := fields[name]; !ok {
					t.Errorf("schema %s: property %q has no field in %s", typ.Name(), name, typ)
				}
			}
		}
	})

	// Closed lists in the document are the lists in the code.
	t.Run("enums", func(t *testing.T) {
		schema := func(path ...string) *openapi3.Schema {
			s := doc.Components.Schemas[path[0]].Value
			for _, p := range path[1:] {
				s = s.Properties[p].Value
			}
			return s
		}
		var failures []string
		for _, k := range intake.Kinds {
			failures = append(failures, intake.Failures(k)...)
		}
		var roles []string
		for _, r := range auth.Roles {
			roles = append(roles, string(r))
		}
		for _, tc := range []struct {
			name string
			got  *openapi3.Schema
			want []string
		}{
			{"ItemKind", schema("ItemKind"), intake.Kinds},
			{"ItemFailure", schema("ItemFailure"), failures},
			{"ItemPurpose", schema("ItemPurpose"), intake.Purposes},
			{"EligibilityStatus", schema("EligibilityStatus"), []string{string(damages.Eligible), string(damages.EligibleDegraded), string(damages.Ineligible)}},
			{"EligibilityResponse.code", schema("EligibilityResponse", "code"), []string{damages.CodeInDownWindow, damages.CodeInDegradedWindow, damages.CodeOutsideWindows, damages.CodeNoWindows}},
			{"Severity", schema("Severity"), []string{string(damages.Down), string(damages.Degraded)}},
			{"Rules.window_policy", schema("Rules", "window_policy"), []string{string(damages.PerFeature), string(damages.PerService), string(damages.WholeIncident)}},
			{"TraceStep.step", schema("TraceStep", "step"), []string{damages.StepEligibility, damages.StepRawLoss, damages.StepEvidenceFactor,
				damages.StepDegradedFactor, damages.StepCap, damages.StepConsolation, damages.StepInterestCivil,
				damages.StepInterestLitigation, damages.StepBenchmark, damages.StepTotal}},
			{"CreateTokenRequest.role", schema("CreateTokenRequest", "role"), roles},
			{"ClaimStatus", schema("ClaimStatus"), lifecycle.Statuses},
			{"ReasonCode", schema("ReasonCode"), lifecycle.Reasons()},
			{"CreateUserRequest.role", schema("CreateUserRequest", "role"), api.UserRoles},
			{"ClaimResponse.channel", schema("ClaimResponse", "channel"), []string{claims.ChannelWeb, claims.ChannelAPI, claims.ChannelImport}},
			{"ErrorDetail.code", schema("ErrorDetail", "code"), []string{
				string(apperr.Invalid), string(apperr.Malformed), string(apperr.Unsupported), string(apperr.TooLarge),
				string(apperr.NotFound), string(apperr.Conflict), string(apperr.Unauthorized), string(apperr.Forbidden),
				string(apperr.Unavailable), string(apperr.Internal), string(apperr.RateLimited), string(apperr.InvalidCursor),
				string(apperr.InvalidTransition),
				"method_not_allowed", // the router's own, in api/router.go
			}},
			{"FieldError.code", schema("FieldError", "code"), []string{
				apperr.FieldRequired, apperr.FieldInvalidFormat, apperr.FieldInvalidValue, apperr.FieldTooLong,
				apperr.FieldOutOfRange, apperr.FieldInFuture, apperr.FieldEndBeforeStart, apperr.FieldUnknownField,
				apperr.FieldUnknownService, apperr.FieldUnknownFeature, apperr.FieldKindNotAllowed, apperr.FieldConsentRequired,
				apperr.FieldTooMany, apperr.FieldWindowOverlap, apperr.FieldNotApplicable, apperr.FieldConflict, apperr.FieldDuplicate,
			}},
		} {
			var got []string
			for _, e := range tc.got.Enum {
				got = append(got, fmt.Sprint(e))
			}
			want := slices.Clone(tc.want)
			slices.Sort(got)
			slices.Sort(want)
			want = slices.Compact(want)
			if !slices.Equal(got, want) {
				t.Errorf("enum of %s is %v, the code has %v", tc.name, got, want)
			}
		}
	})

}

type oaField struct {
	goName             string
	omitempty, pointer bool
}

// oaJSONFields lists the JSON names of a struct's fields as encoding/json writes them,
// embedded structs flattened.
func oaJSONFields(t reflect.Type) map[string]oaField {
	out := map[string]oaField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range oaJSONFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = oaField{goName: f.Name, omitempty: slices.Contains(strings.Split(opts, ","), "omitempty"), pointer: f.Type.Kind() == reflect.Pointer}
	}
	return out
}

func oaSorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
