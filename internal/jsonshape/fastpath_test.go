package jsonshape

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/intake"
)

// shapes are the types FuzzFastPath decodes into: numbers of every width, pointers, maps,
// interfaces, a type with its own UnmarshalJSON, embedding, and the claim itself.
type (
	leaf struct {
		N    int64          `json:"n"`
		P    *int64         `json:"p"`
		I8   int8           `json:"i8"`
		S    string         `json:"s"`
		B    *bool          `json:"b"`
		Tags []int32        `json:"tags"`
		Day  damages.Date   `json:"day"`
		DayP *damages.Date  `json:"day_p"`
		Any  any            `json:"any"`
		Map  map[string]int `json:"map"`
	}
	tree struct {
		leaf
		Leaves []leaf  `json:"leaves"`
		One    *leaf   `json:"one"`
		S      []byte  `json:"s"`
		Skip   string  `json:"-"`
		Plain  float64 // no tag: its Go name
	}
)

// FuzzFastPath holds Decode's fast path to its checked path: whatever the strict v2 pass
// accepts, the checked path accepts too, into the same value. Were it not so, a claim's meaning
// would depend on which path decoded it.
func FuzzFastPath(f *testing.F) {
	for _, s := range []string{
		`{"n":1,"p":null,"i8":-128,"s":"x","b":true,"tags":[1,2],"day":"2022-10-15","day_p":null,"any":[1,"x",{"a":null}],"map":{"a":1}}`,
		`{"leaves":[{"n":1},{"day":"2022-02-30"}],"one":{"s":"é"},"s":"aGk=","Plain":1.5,"n":2}`,
		`{"N":1}`, `{"n":1,"n":2}`, `{"s":"\ud800"}`, `{"tags":[]}`, `{"map":{}}`, `{"day":null}`, `{"one":null}`,
		`{"n":1.0}`, `{"i8":128}`, `{"plain":1}`, `{"-":1}`, `{"leaf":{}}`, "{\"s\":\"\xff\"}", `{} `, ` {"n":1}`,
		`{"claimant":{"name":"홍길동","email":"a@b.co","phone":"010-1234-5678","locale":"ko"},"consent":true,"external_ref":"A-1","items":[` +
			`{"kind":"taxi_booking","service":"kakao_t","feature":"taxi","occurred_at":"2022-10-15T18:01:00+09:00","failure":"booking_failed","expected_fare_krw":12000,"alternative_cost_krw":31000,"documented":true,"description":"판교역"},` +
			`{"kind":"message","occurred_at":"2022-10-15 20:00","ended_at":"2022-10-16 03:00","purpose":"business","loss_krw":10001}]}`,
	} {
		f.Add([]byte(s))
	}
	// The claim decoder's own corpus (internal/intake) seeds this one too.
	corpus, _ := filepath.Glob("../intake/testdata/fuzz/FuzzClaim/*")
	for _, p := range corpus {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// A corpus file is "go test fuzz v1" and a line []byte("...") in Go syntax.
		_, lit, _ := strings.Cut(strings.TrimSpace(string(b)), "[]byte(")
		v, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameOnBothPaths[leaf](t, data)
		sameOnBothPaths[tree](t, data)
		sameOnBothPaths[intake.ClaimInput](t, data)
	})
}

func sameOnBothPaths[T any](t *testing.T, data []byte) {
	t.Helper()
	var fast, checked T
	if bytes.Contains(data, escapedNUL) || jsonv2.Unmarshal(data, &fast, jsonv2.RejectUnknownMembers(true)) != nil {
		return // Decode leaves it to the checked path
	}
	if err := decodeChecked(data, &checked); err != nil {
		t.Fatalf("%T: the fast path accepts %q, the checked path refuses it: %v", fast, data, err)
	}
	if !reflect.DeepEqual(fast, checked) {
		t.Fatalf("%T: %q decodes to\n%#v on the fast path,\n%#v on the checked path", fast, data, fast, checked)
	}
}

// BenchmarkDecodeClaim decodes a three-item claim, as intake does, with Decode and with the
// checked path alone, and prints Decode's time as a share of the checked path's: for a valid
// claim (the fast path answers) and for one with an unknown field (the fast pass fails and the
// checked path runs after it).
func BenchmarkDecodeClaim(b *testing.B) {
	valid := `{"claimant":{"name":"홍길동1","email":"user1@example.com","phone":"01000000001","locale":"ko"},"consent":true,"items":[` +
		`{"kind":"taxi_booking","service":"kakao_t","feature":"taxi","occurred_at":"2022-10-15T18:01:00+09:00","failure":"booking_failed","expected_fare_krw":12000,"alternative_cost_krw":31000,"documented":true,"description":"판교역에서 택시 호출이 되지 않아 모범택시를 이용함 (호출 1)"},` +
		`{"kind":"payment","service":"kakao_pay","occurred_at":"2022-10-16 09:01","failure":"double_charged","amount_krw":1001,"documented":true},` +
		`{"kind":"message","occurred_at":"2022-10-15 20:00","ended_at":"2022-10-16 03:00","purpose":"business","loss_krw":10001,"description":"카페 거래처 주문 메시지를 받지 못함 (주문번호 1)"}]}`
	for _, body := range []struct {
		name string
		data []byte
		ok   bool
	}{{"valid", []byte(valid), true}, {"unknown field", []byte(strings.Replace(valid, `"consent"`, `"consnet"`, 1)), false}} {
		per := map[string]time.Duration{}
		for _, path := range []struct {
			name   string
			decode func([]byte, any) error
		}{{"checked", decodeChecked}, {"Decode", Decode}} {
			b.Run(body.name+"/"+path.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var in intake.ClaimInput
					if err := path.decode(body.data, &in); (err == nil) != body.ok {
						b.Fatalf("%s: %v", body.name, err)
					}
				}
				per[path.name] = b.Elapsed() / time.Duration(b.N)
			})
		}
		if per["checked"] > 0 {
			fmt.Printf("decode a claim, %s: Decode %s, checked path alone %s: %.2fx\n", body.name, per["Decode"], per["checked"],
				float64(per["Decode"])/float64(per["checked"]))
		}
	}
}
