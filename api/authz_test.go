package api_test

import (
	"fmt"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// roles of the authorization matrix: nobody, the claimant (access code of their claim), and a
// token of each role.
var matrixRoles = []string{"none", "claimant", "importer", "lawyer", "admin"}

// routeMatrix returns, for every route of the router, the status each role gets when it calls
// it on a real claim with an empty body. Path parameters: the case, the claim's reference, and
// ids that do not exist (so an allowed caller gets 404, not a side effect).
func routeMatrix(t *testing.T, e *env, ref, code string) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	for _, rt := range e.h.(interface{ Routes() gin.RoutesInfo }).Routes() {
		key := rt.Method + " " + rt.Path
		path := rt.Path
		for _, p := range [][2]string{{":case", "kakao-2022"}, {":reference", ref}, {":id", "999999"}, {"*profile", ""}, {"*file", "missing.css"}} {
			path = strings.ReplaceAll(path, p[0], p[1])
		}
		out[key] = map[string]int{}
		for _, role := range matrixRoles {
			var body *strings.Reader
			if rt.Method == "POST" || rt.Method == "PUT" || rt.Method == "PATCH" {
				body = strings.NewReader("{}")
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(rt.Method, path, body)
			req.Header.Set("Content-Type", "application/json")
			switch role {
			case "claimant":
				req.Header.Set("X-Access-Code", code)
			case "importer":
				req.Header.Set("Authorization", "Bearer "+e.importer)
			case "lawyer":
				req.Header.Set("Authorization", "Bearer "+e.lawyer)
			case "admin":
				req.Header.Set("Authorization", "Bearer "+e.admin)
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			out[key][role] = rec.Code
		}
	}
	return out
}

// authzMatrix is the expected status per route for none, claimant, importer, lawyer, admin,
// when each calls the route on a real claim with an empty body and ids that do not exist.
// Reading it: 401/403 refuse the caller; 303 sends a claimant to the status page's sign-in,
// and anyone without a staff session or token from the lawyers' pages to /admin/login;
// the web form's POSTs refuse everyone without its CSRF token (403); anything else is an
// allowed caller getting the route's own answer to an empty request (404 for the missing id,
// 422 for the empty body, 415 for JSON where a file is expected, 202 for a queued export).
var authzMatrix = map[string][5]int{
	"DELETE /api/v1/imports/:id":                       {401, 401, 404, 404, 404},
	"DELETE /api/v1/session":                           {401, 401, 401, 401, 401},
	"DELETE /api/v1/tokens/:id":                        {401, 401, 403, 403, 404},
	"GET /":                                            {200, 200, 200, 200, 200},
	"GET /admin":                                       {303, 303, 403, 303, 303},
	"GET /admin/audit":                                 {303, 303, 403, 200, 200},
	"GET /admin/cases/:case":                           {303, 303, 403, 200, 200},
	"GET /admin/cases/:case/claims":                    {303, 303, 403, 200, 200},
	"GET /admin/cases/:case/duplicates":                {303, 303, 403, 200, 200},
	"GET /admin/cases/:case/report":                    {401, 401, 403, 200, 200},
	"GET /admin/claims/:reference":                     {303, 303, 403, 200, 200},
	"GET /admin/login":                                 {200, 200, 200, 200, 200},
	"GET /admin/static/*file":                          {404, 404, 404, 404, 404},
	"GET /admin/users":                                 {303, 303, 403, 403, 200},
	"POST /admin/cases/:case/claims/transitions":       {303, 303, 403, 422, 422},
	"POST /admin/claims/:reference/transitions":        {303, 303, 403, 422, 422},
	"POST /admin/cases/:case/windows":                  {303, 303, 403, 422, 422},
	"POST /admin/cases/:case/rules":                    {303, 303, 403, 422, 422},
	"POST /admin/cases/:case/duplicates/decisions":     {303, 303, 403, 404, 404},
	"POST /admin/users":                                {303, 303, 403, 403, 422},
	"POST /admin/users/:id/disable":                    {303, 303, 403, 403, 404},
	"POST /admin/login":                                {422, 422, 422, 422, 422},
	"POST /admin/logout":                               {303, 303, 403, 303, 303},
	"GET /api/v1/audit":                                {401, 401, 403, 200, 200},
	"GET /api/v1/audit.csv":                            {401, 401, 403, 200, 200},
	"GET /api/v1/cases":                                {200, 200, 200, 200, 200},
	"GET /api/v1/cases/:case":                          {200, 200, 200, 200, 200},
	"GET /api/v1/cases/:case/claims":                   {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/duplicates":               {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/exports/claims.csv":       {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/exports/claims.ndjson":    {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/exports/claims.xlsx":      {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/exports/plaintiffs.csv":   {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/exports/plaintiffs.xlsx":  {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/report.pdf":               {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/rules":                    {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/rules/versions":           {401, 401, 403, 200, 200},
	"GET /api/v1/cases/:case/summary":                  {401, 401, 403, 200, 200},
	"GET /api/v1/claims/:reference":                    {401, 200, 403, 200, 200},
	"GET /api/v1/claims/:reference/damages":            {401, 200, 403, 200, 200},
	"GET /api/v1/claims/:reference/history":            {401, 401, 403, 200, 200},
	"GET /api/v1/exports/:id":                          {401, 401, 403, 404, 404},
	"GET /api/v1/exports/:id/file":                     {401, 401, 403, 404, 404},
	"GET /api/v1/imports/:id":                          {401, 401, 404, 404, 404},
	"GET /api/v1/imports/:id/errors.csv":               {401, 401, 404, 404, 404},
	"GET /api/v1/session":                              {401, 401, 401, 401, 401},
	"GET /api/v1/users":                                {401, 401, 403, 403, 200},
	"GET /claim":                                       {200, 200, 200, 200, 200},
	"GET /debug/pprof/*profile":                        {401, 401, 403, 403, 200},
	"GET /healthz":                                     {200, 200, 200, 200, 200},
	"GET /metrics":                                     {401, 401, 403, 403, 200},
	"GET /openapi.yaml":                                {200, 200, 200, 200, 200},
	"GET /readyz":                                      {200, 200, 200, 200, 200},
	"GET /static/*file":                                {404, 404, 404, 404, 404},
	"GET /status":                                      {200, 200, 200, 200, 200},
	"GET /status/evidence/:id":                         {303, 303, 303, 404, 404},
	"GET /status/withdraw":                             {303, 303, 303, 303, 303},
	"POST /api/v1/cases/:case/claims":                  {422, 422, 422, 422, 422},
	"POST /api/v1/cases/:case/claims/batch":            {401, 401, 422, 422, 422},
	"POST /api/v1/cases/:case/claims/transitions":      {401, 401, 403, 422, 422},
	"POST /api/v1/cases/:case/claims/validate":         {422, 422, 422, 422, 422},
	"POST /api/v1/cases/:case/duplicates/decisions":    {401, 401, 403, 422, 422},
	"POST /api/v1/cases/:case/exports/claims.csv":      {401, 401, 403, 202, 202},
	"POST /api/v1/cases/:case/exports/claims.ndjson":   {401, 401, 403, 202, 202},
	"POST /api/v1/cases/:case/exports/claims.xlsx":     {401, 401, 403, 202, 202},
	"POST /api/v1/cases/:case/exports/plaintiffs.csv":  {401, 401, 403, 202, 202},
	"POST /api/v1/cases/:case/exports/plaintiffs.xlsx": {401, 401, 403, 202, 202},
	"POST /api/v1/cases/:case/imports":                 {401, 401, 415, 415, 415},
	"POST /api/v1/cases/:case/rules/simulate":          {401, 401, 403, 422, 422},
	"POST /api/v1/claims/:reference/erasure":           {401, 401, 403, 403, 200},
	"POST /api/v1/claims/:reference/transitions":       {401, 401, 403, 422, 422},
	"POST /api/v1/session":                             {422, 422, 422, 422, 422},
	"POST /api/v1/tokens":                              {401, 401, 403, 403, 422},
	"POST /api/v1/users":                               {401, 401, 403, 403, 422},
	"POST /api/v1/users/:id/disable":                   {401, 401, 403, 403, 404},
	"POST /claim":                                      {403, 403, 403, 403, 403},
	"POST /claim/validate":                             {403, 403, 403, 403, 403},
	"POST /status":                                     {403, 403, 403, 403, 403},
	"POST /status/contact":                             {403, 403, 403, 403, 403},
	"POST /status/evidence":                            {303, 303, 303, 303, 303},
	"POST /status/signout":                             {403, 403, 403, 403, 403},
	"POST /status/withdraw":                            {403, 403, 403, 403, 403},
	"PUT /api/v1/cases/:case/rules":                    {401, 401, 403, 422, 422},
	"PUT /api/v1/cases/:case/windows":                  {401, 401, 403, 422, 422},
}

// TestAuthorizationMatrix calls every route of the router as every role and compares the
// status with authzMatrix. A new route without a row fails, so no endpoint ships without a
// decision on who may call it.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t, "sqlite")
	created := e.submit(claim(taxi("2022-10-15T18:30")))
	got := routeMatrix(t, e, created["reference"].(string), created["access_code"].(string))
	for route, statuses := range got {
		want, ok := authzMatrix[route]
		if !ok {
			t.Errorf("route %s has no row in authzMatrix: decide who may call it (got %v)", route, statuses)
			continue
		}
		for i, role := range matrixRoles {
			if statuses[role] != want[i] {
				t.Errorf("%s as %s: %d, want %d", route, role, statuses[role], want[i])
			}
		}
	}
	for route := range authzMatrix {
		if _, ok := got[route]; !ok {
			t.Errorf("authzMatrix has a row for %s, which is not a route", route)
		}
	}
}

// TestAuthorizationMatrixPrint prints the matrix as the router answers it now, to review
// and paste into authzMatrix when routes change: PRINT_MATRIX=1 go test -run MatrixPrint -v.
func TestAuthorizationMatrixPrint(t *testing.T) {
	if os.Getenv("PRINT_MATRIX") == "" {
		return // nothing to check: a tool for people, not a test
	}
	e := newEnv(t, "sqlite")
	created := e.submit(claim(taxi("2022-10-15T18:30")))
	m := routeMatrix(t, e, created["reference"].(string), created["access_code"].(string))
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("\t%q: {", k)
		for i, r := range matrixRoles {
			if i > 0 {
				fmt.Print(", ")
			}
			fmt.Printf("%d", m[k][r])
		}
		fmt.Println("},")
	}
}
