package intake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/jsonshape"
	"github.com/claimdesk/claimdesk/internal/messages"
)

var seoul = mustZone("Asia/Seoul")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// kakao is the Kakao case as intake sees it (services, kinds, features).
var kakao = &damages.Case{Slug: "kakao-2022", Location: seoul, Services: []damages.Service{
	{Slug: "kakaotalk", Kinds: []string{"message", "other"}, Features: []string{"text", "media", "pc", "channel"}},
	{Slug: "kakao_t", Kinds: []string{"taxi_booking", "other"}, Features: []string{"taxi", "designated_driver"}},
	{Slug: "kakao_pay", Kinds: []string{"payment", "other"}, Features: []string{"payments", "transfers"}},
	{Slug: "daum", Kinds: []string{"other"}, Features: []string{"mail", "cafe"}},
}}

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestNormalizePhone(t *testing.T) {
	cases := []struct{ in, want string }{
		{"010-1234-5678", "+821012345678"},
		{"01012345678", "+821012345678"},
		{"010 1234 5678", "+821012345678"},
		{"010.1234.5678", "+821012345678"},
		{"(010) 1234-5678", "+821012345678"},
		{"+82 10-1234-5678", "+821012345678"},
		{"+82-10-1234-5678", "+821012345678"},
		{"+821012345678", "+821012345678"},
		{"82 10 1234 5678", "+821012345678"},
		{"+82 (0)10 1234 5678", "+821012345678"},
		{"011-123-4567", "+82111234567"},
		{"02-123-4567", "+8221234567"},
		{"031-123-4567", "+82311234567"},
		{"+1 415 555 2671", "+14155552671"},
		{"010-1234-567", ""},
		{"010-1234-56789", ""},
		{"012-1234-5678", ""},
		{"1234-5678", ""},
		{"010-1234-5678 ext 2", ""},
		{"+0 123 456 789", ""},
		{"", ""},
		{"++821012345678", ""},
	}
	for _, c := range cases {
		got, err := intake.NormalizePhone(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %q", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %q %v, want %q", c.in, got, err, c.want)
		}
	}
}

func TestParseInstant(t *testing.T) {
	want := time.Date(2022, 10, 15, 9, 30, 0, 0, time.UTC)
	for _, in := range []string{"2022-10-15T18:30", "2022-10-15T18:30:00", "2022-10-15 18:30", "2022-10-15 18:30:00",
		" 2022-10-15 18:30 ", "2022-10-15T18:30:00+09:00", "2022-10-15T09:30:00Z", "2022-10-15 09:30:00Z", "2022-10-15T09:30:00.000Z"} {
		got, err := intake.ParseInstant(in, seoul)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "2022-10-15", "18:30", "2022/10/15 18:30", "2022-10-15T25:00", "2022-13-01T00:00", "2022-10-15T18:30+0900", "yesterday"} {
		if got, err := intake.ParseInstant(in, seoul); err == nil {
			t.Errorf("%q accepted as %v", in, got)
		}
	}
	// Sub-second precision is kept to the microsecond, as PostgreSQL stores it.
	got, _ := intake.ParseInstant("2022-10-15T09:30:00.1234567Z", seoul)
	if got.Nanosecond() != 123456000 {
		t.Errorf("fraction %d", got.Nanosecond())
	}
}

func TestNormalizeDefaultsAndCleaning(t *testing.T) {
	tr := true
	in := intake.ClaimInput{
		Claimant: intake.ClaimantInput{Name: "  홍길동 ", Email: "Hong@Example.COM", Phone: "010-1234-5678"},
		Consent:  &tr,
		Items: []intake.ItemInput{
			{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:30", Failure: "no_driver"},
			{Kind: "payment", OccurredAt: "2022-10-16 09:00", Failure: "double_charged", AmountKRW: ptr(int64(50000))},
			{Kind: "message", OccurredAt: "2022-10-15 20:00", EndedAt: "2022-10-16 03:00", Purpose: "business"},
		},
	}
	c, err := intake.Normalize(in, kakao, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Claimant.Name != "홍길동" || c.Claimant.Email != "hong@example.com" || c.Claimant.Phone != "+821012345678" || c.Claimant.Locale != "ko" {
		t.Errorf("claimant %+v", c.Claimant)
	}
	for i, w := range [][2]string{{"kakao_t", "taxi"}, {"kakao_pay", "payments"}, {"kakaotalk", "text"}} {
		if c.Items[i].Service != w[0] || c.Items[i].Feature != w[1] {
			t.Errorf("item %d: %s/%s, want %s/%s", i, c.Items[i].Service, c.Items[i].Feature, w[0], w[1])
		}
	}
	if c.Items[2].EndedAt == nil || !c.Items[2].EndedAt.Equal(time.Date(2022, 10, 15, 18, 0, 0, 0, time.UTC)) {
		t.Errorf("ended_at %v", c.Items[2].EndedAt)
	}
	// Decomposed Hangul (as macOS keyboards send it) is stored composed, so it hashes the same.
	in2 := in
	in2.Claimant.Name = "\u1112\u1169\u11bc\u1100\u1175\u11af\u1103\u1169\u11bc"
	c2, err := intake.Normalize(in2, kakao, now)
	if err != nil || c2.Claimant.Name != "홍길동" || c2.ContentHash() != c.ContentHash() {
		t.Errorf("NFC: %q %v", c2.Claimant.Name, err)
	}
	// So is an external_ref: the same reference typed on a Mac names the same claim.
	in2.ExternalRef = ptr(" 홍-1 ")
	if c2, err := intake.Normalize(in2, kakao, now); err != nil || c2.ExternalRef != "홍-1" {
		t.Errorf("external_ref %q %v", c2.ExternalRef, err)
	}
}

func ptr[T any](v T) *T { return &v }

// fieldsOf lists an error's fields as "path|code".
func fieldsOf(err error) []string {
	var ae *apperr.Error
	if !asAppErr(err, &ae) {
		return nil
	}
	var out []string
	for _, f := range ae.Fields {
		out = append(out, f.Path+"|"+f.Code)
	}
	return out
}

// A claim over MaxItems items is refused for that alone: each of 100,000 empty items used to be
// validated and reported (several errors each, and a scan of the errors so far for each one).
func TestNormalizeTooManyItems(t *testing.T) {
	tr := true
	in := intake.ClaimInput{Claimant: intake.ClaimantInput{Name: "홍길동", Email: "a@b.co"}, Consent: &tr,
		Items: make([]intake.ItemInput, 100_000)}
	_, err := intake.Normalize(in, kakao, now)
	if got := fieldsOf(err); len(got) != 1 || got[0] != "items|too_many" {
		t.Fatalf("%d errors, first %v", len(got), got[:min(3, len(got))])
	}
}

// Text is judged as it will be stored: trimmed and composed. Limits count the characters
// typed, an email is valid with a space around it, and the caller's input is left as sent.
func TestNormalizeJudgesTidiedText(t *testing.T) {
	tr := true
	syllables := strings.Repeat("한", 800) // 2,400 jamo when decomposed, as a Mac sends them
	decomposed := strings.Repeat("\u1112\u1161\u11ab", 800)
	in := intake.ClaimInput{
		Claimant: intake.ClaimantInput{Name: strings.Repeat("\u1112\u1169\u11bc", 60), Email: " Hong@Example.com "},
		Consent:  &tr,
		Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:30", Failure: "no_driver",
			Description: " " + decomposed + "\n줄바꿈\t탭 "}},
	}
	c, err := intake.Normalize(in, kakao, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Items[0].Description != syllables+"\n줄바꿈\t탭" || c.Claimant.Name != strings.Repeat("홍", 60) || c.Claimant.Email != "hong@example.com" {
		t.Errorf("stored %q %q %q", c.Claimant.Name, c.Claimant.Email, c.Items[0].Description[:12])
	}
	if in.Items[0].Description[0] != ' ' || in.Claimant.Email != " Hong@Example.com " {
		t.Errorf("the caller's input changed: %q %q", in.Claimant.Email, in.Items[0].Description[:3])
	}
}

// PostgreSQL's text cannot hold NUL, and a form field can carry bytes that are not UTF-8: both
// are field errors, on either database, where PostgreSQL failed the insert (500).
func TestNormalizeRefusesNULAndInvalidText(t *testing.T) {
	tr := true
	base := func() intake.ClaimInput {
		return intake.ClaimInput{Claimant: intake.ClaimantInput{Name: "홍길동", Email: "a@b.co"}, Consent: &tr,
			Items: []intake.ItemInput{{Kind: "message", OccurredAt: "2022-10-15 20:00", Purpose: "personal"}}}
	}
	for _, c := range []struct {
		name string
		edit func(*intake.ClaimInput)
		want string
	}{
		{"NUL in description", func(in *intake.ClaimInput) { in.Items[0].Description = "a\x00b" }, "items[0].description|invalid_format"},
		{"bell in description", func(in *intake.ClaimInput) { in.Items[0].Description = "a\ab" }, "items[0].description|invalid_format"},
		{"invalid UTF-8 in description", func(in *intake.ClaimInput) { in.Items[0].Description = "a\xffb" }, "items[0].description|invalid_format"},
		{"NUL in name", func(in *intake.ClaimInput) { in.Claimant.Name = "홍\x00" }, "claimant.name|invalid_format"},
		{"invalid UTF-8 in name", func(in *intake.ClaimInput) { in.Claimant.Name = "홍\xff\xfe" }, "claimant.name|invalid_format"},
		{"NUL in reference", func(in *intake.ClaimInput) { in.ExternalRef = ptr("A\x00") }, "external_ref|invalid_format"},
	} {
		in := base()
		c.edit(&in)
		_, err := intake.Normalize(in, kakao, now)
		if got := fieldsOf(err); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: %v, want [%s]", c.name, got, c.want)
		}
	}
}

// FuzzClaim feeds arbitrary bytes to the claim decoder and validator: whatever comes in, the
// answer is a claim that obeys every invariant, or a client error whose every field has a code
// and a message in both languages. Never a panic, never an internal error.
func FuzzClaim(f *testing.F) {
	f.Add([]byte(`{"claimant":{"name":"홍길동","phone":"010-1234-5678"},"consent":true,"items":[{"kind":"taxi_booking","occurred_at":"2022-10-15 18:30","failure":"no_driver"}]}`))
	f.Add([]byte(`{"claimant":{"name":"a","email":"a@b.co"},"consent":true,"items":[{"kind":"message","occurred_at":"2022-10-15T20:00","ended_at":"2022-10-16T03:00","purpose":"business","loss_krw":400000}]}`))
	f.Add([]byte(`{"items":[{"kind":"payment","amount_krw":1e30}]}`))
	f.Add([]byte(`{"items":[{"kind":"taxi_booking","expected_fare_krw":99999999999999999999,"loss_krw":-99999999999999999999}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in intake.ClaimInput
		err := jsonshape.Decode(data, &in)
		if err != nil && !apperr.Is(err, apperr.Invalid) {
			if !apperr.Is(err, apperr.Malformed) {
				t.Fatalf("decode error without a client code: %v", err)
			}
			return
		}
		c, nerr := intake.Normalize(in, kakao, now)
		if err == nil && nerr == nil {
			checkClaim(t, c)
			return
		}
		err = apperr.MergeFields(err, nerr)
		var ae *apperr.Error
		if !asAppErr(err, &ae) || ae.Code != apperr.Invalid || len(ae.Fields) == 0 {
			t.Fatalf("rejection is not a validation error with fields: %v", err)
		}
		for _, fe := range ae.Fields {
			key := fe.Message
			if key == "" {
				key = fe.Code
			}
			if !messages.Has(key) {
				t.Fatalf("field %s: code %s has no message", fe.Path, key)
			}
		}
	})
}

func asAppErr(err error, target **apperr.Error) bool {
	e, ok := err.(*apperr.Error)
	*target = e
	return ok
}

func checkClaim(t *testing.T, c intake.Claim) {
	t.Helper()
	if c.Claimant.Name == "" || (c.Claimant.Email == "" && c.Claimant.Phone == "") {
		t.Fatalf("claimant %+v", c.Claimant)
	}
	if c.Claimant.Phone != "" && !strings.HasPrefix(c.Claimant.Phone, "+") {
		t.Fatalf("phone %q not E.164", c.Claimant.Phone)
	}
	if len(c.Items) == 0 || len(c.Items) > intake.MaxItems {
		t.Fatalf("%d items", len(c.Items))
	}
	for _, it := range c.Items {
		if !kakao.HasFeature(it.Service, it.Feature) {
			t.Fatalf("item %s/%s not in the case", it.Service, it.Feature)
		}
		if it.OccurredAt.After(now) || it.OccurredAt.Location() != time.UTC {
			t.Fatalf("occurred_at %v", it.OccurredAt)
		}
		if it.EndedAt != nil && it.EndedAt.Before(it.OccurredAt) {
			t.Fatalf("ended before it started")
		}
		for _, a := range []int64{it.ExpectedFareKRW, it.AlternativeCostKRW, it.AmountKRW, it.LossKRW} {
			if a < 0 || a > intake.MaxAmountKRW {
				t.Fatalf("amount %d", a)
			}
		}
	}
}

// FuzzParseInstant: any string is an instant in UTC or an error, never a panic; a parsed
// instant formatted in RFC 3339 parses back to itself.
func FuzzParseInstant(f *testing.F) {
	for _, s := range []string{"2022-10-15T18:30", "2022-10-15 18:30:00", "2022-10-15T09:30:00Z", "2022-10-15T18:30:00.123456+09:00", "", "2022-13-45T99:99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := intake.ParseInstant(s, seoul)
		if want, ok := parseEveryWay(s); ok != (err == nil) || ok && !want.Equal(got) {
			t.Fatalf("%q: %v %v, trying every layout in turn gives %v %v", s, got, err, want, ok)
		}
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("%q: not UTC", s)
		}
		if got.Year() < 1 || got.Year() > 9999 {
			return // RFC 3339 cannot write it; Normalize rejects anything before 2000 anyway
		}
		again, err := intake.ParseInstant(got.Format(time.RFC3339Nano), seoul)
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q: %v does not round-trip: %v %v", s, got, again, err)
		}
	})
}

// parseEveryWay is ParseInstant's reference: RFC 3339 (with a T or a space), then every local
// layout in turn, with no shortcut.
func parseEveryWay(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	layouts := []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"}
	if len(s) > 10 && s[10] == ' ' {
		if t, err := time.Parse(time.RFC3339Nano, s[:10]+"T"+s[11:]); err == nil {
			return t.UTC().Truncate(time.Microsecond), true
		}
	}
	for i, l := range layouts {
		loc := seoul
		if i == 0 {
			loc = time.UTC
		}
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC().Truncate(time.Microsecond), true
		}
	}
	return time.Time{}, false
}

// FuzzNormalizePhone: a normalized number is E.164 (+ and 8 to 15 digits) and normalizing it
// again changes nothing.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"010-1234-5678", "+82 10 1234 5678", "(02) 123-4567", "+1 415 555 2671", "82-10-1234-5678", "+82 (0)10-1234-5678", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := intake.NormalizePhone(s)
		if err != nil {
			return
		}
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("%q -> %q is not E.164", s, got)
		}
		if again, err := intake.NormalizePhone(got); err != nil || again != got {
			t.Fatalf("%q -> %q -> %q %v", s, got, again, err)
		}
	})
}

// An amount too large for int64 is out of the amount's range, in the words of one just over
// the limit (it was out of int64's, "-9223372036854775808 … 9223372036854775807"); a fraction or
// an exponent is a format error that says what the format is (1e30 and 1e3 are whole numbers:
// "must be a whole number" was untrue of them). The errors are gathered as the API gathers them
// (claims.Problems): the decoder's, then Normalize's, one per path.
func TestAmountErrors(t *testing.T) {
	const (
		rangeKo  = "0에서 1000000000 사이여야 합니다."
		rangeEn  = "Must be between 0 and 1000000000."
		digitsKo = "형식이 올바르지 않습니다. 소수점이나 지수(e) 없이 숫자로만 쓴 정수여야 합니다."
		digitsEn = "The format is invalid. Must be a whole number written in digits, without a decimal point or exponent."
	)
	cases := []struct {
		name, field, value string
		code, ko, en       string
	}{
		{"over the limit", "expected_fare_krw", "1000000001", apperr.FieldOutOfRange, rangeKo, rangeEn},
		{"negative", "expected_fare_krw", "-1", apperr.FieldOutOfRange, rangeKo, rangeEn},
		{"over int64", "expected_fare_krw", "99999999999999999999", apperr.FieldOutOfRange, rangeKo, rangeEn},
		{"just over int64", "alternative_cost_krw", "9223372036854775808", apperr.FieldOutOfRange, rangeKo, rangeEn},
		{"under int64", "expected_fare_krw", "-99999999999999999999", apperr.FieldOutOfRange, rangeKo, rangeEn},
		// amount_krw is required of a payment: the decoder's error stands for the amount it
		// could not store.
		{"over int64, required amount", "amount_krw", "99999999999999999999", apperr.FieldOutOfRange, rangeKo, rangeEn},
		{"fraction", "expected_fare_krw", "1.5", apperr.FieldInvalidFormat, digitsKo, digitsEn},
		{"exponent", "expected_fare_krw", "1e30", apperr.FieldInvalidFormat, digitsKo, digitsEn},
		{"exponent in range", "loss_krw", "1E3", apperr.FieldInvalidFormat, digitsKo, digitsEn},
		{"whole with a point", "amount_krw", "12000.0", apperr.FieldInvalidFormat, digitsKo, digitsEn},
		{"negative exponent", "expected_fare_krw", "-1e-30", apperr.FieldInvalidFormat, digitsKo, digitsEn},
		{"wrong type", "expected_fare_krw", `"12000"`, apperr.FieldInvalidFormat, "형식이 올바르지 않습니다. 정수 값이어야 합니다.", "The format is invalid. Must be a whole number."},
	}
	items := map[string]string{
		"expected_fare_krw":    `{"kind":"taxi_booking","occurred_at":"2022-10-15 18:30","failure":"no_driver","expected_fare_krw":%s}`,
		"alternative_cost_krw": `{"kind":"taxi_booking","occurred_at":"2022-10-15 18:30","failure":"no_driver","alternative_cost_krw":%s}`,
		"amount_krw":           `{"kind":"payment","occurred_at":"2022-10-16 09:00","failure":"double_charged","amount_krw":%s}`,
		"loss_krw":             `{"kind":"message","occurred_at":"2022-10-15 20:00","purpose":"business","loss_krw":%s}`,
	}
	for _, c := range cases {
		item := strings.Replace(items[c.field], "%s", c.value, 1)
		body := `{"claimant":{"name":"홍길동","email":"a@b.co"},"consent":true,"items":[{"kind":"other","service":"daum","feature":"mail","occurred_at":"2022-10-15 18:30"},` + item + `]}`
		var in intake.ClaimInput
		decodeErr := jsonshape.Decode([]byte(body), &in)
		if decodeErr != nil && !apperr.Is(decodeErr, apperr.Invalid) {
			t.Fatalf("%s: %v", c.name, decodeErr)
		}
		_, err := intake.Normalize(in, kakao, now)
		var ae *apperr.Error
		if !asAppErr(apperr.MergeFields(decodeErr, err), &ae) || len(ae.Fields) != 1 {
			t.Errorf("%s: %v, want one field error", c.name, fieldsOf(apperr.MergeFields(decodeErr, err)))
			continue
		}
		fe := ae.Fields[0]
		got := []string{fe.Path, fe.Code, messages.Field(messages.Ko, fe), messages.Field(messages.En, fe)}
		want := []string{"items[1]." + c.field, c.code, c.ko, c.en}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (%s: %s): (-want +got)\n%s", c.name, c.field, c.value, diff)
		}
	}
}
