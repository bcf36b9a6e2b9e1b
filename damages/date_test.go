package damages

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{"2023-10-15", Date{2023, time.October, 15}, false},
		{"2024-02-29", Date{2024, time.February, 29}, false},
		{"2023-02-29", Date{}, true},
		{"2023-13-01", Date{}, true},
		{"2023-1-5", Date{}, true},
		{"2023-10-15T00:00:00Z", Date{}, true},
		{"", Date{}, true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		AsOf   *Date `json:"as_of"`
		Served Date  `json:"served"`
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"as_of": null, "served": "2023-03-02"}`), &d); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doc{Served: date("2023-03-02")}, d); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"as_of": "2023-10-15", "served": null}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.AsOf == nil || *d.AsOf != date("2023-10-15") || d.Served != date("2023-03-02") {
		t.Errorf("decoded %+v", d)
	}
	b, err := json.Marshal(doc{AsOf: ptr(date("2024-02-29"))})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"as_of":"2024-02-29","served":null}`; got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
	for _, bad := range []string{`{"as_of": "2023-02-30"}`, `{"as_of": 20231015}`, `{"as_of": "15.10.2023"}`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("decoding %s: no error", bad)
		}
	}
	if _, err := json.Marshal(Date{2023, 2, 30}); err == nil {
		t.Error("encoding an invalid date: no error")
	}
}

func TestDaysInclusive(t *testing.T) {
	tests := []struct {
		from, to string
		want     int64
	}{
		{"2022-10-15", "2023-03-02", 139},
		{"2023-03-03", "2023-10-15", 227},
		{"2023-03-03", "2023-03-03", 1},
		{"2023-03-03", "2023-03-02", 0},
		{"2023-03-03", "2020-01-01", 0},
		{"2024-02-28", "2024-03-01", 3},
		{"2023-02-28", "2023-03-01", 2},
		{"2000-02-28", "2000-03-01", 3}, // 2000 is a leap year
		{"1900-02-28", "1900-03-01", 2}, // 1900 is not
		{"0001-01-01", "9999-12-31", 3652059},
	}
	for _, tt := range tests {
		if got := DaysInclusive(date(tt.from), date(tt.to)); got != tt.want {
			t.Errorf("DaysInclusive(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

// TestDateArithmeticMatchesTime checks the integer calendar against package time over every
// day of several centuries.
func TestDateArithmeticMatchesTime(t *testing.T) {
	start := time.Date(1899, time.December, 25, 0, 0, 0, 0, time.UTC)
	first := Date{1899, time.December, 25}
	for n := int64(0); n < 200*366; n++ {
		tt := start.AddDate(0, 0, int(n))
		want := Date{tt.Year(), tt.Month(), tt.Day()}
		got := first.AddDays(n)
		if got != want {
			t.Fatalf("AddDays(%d) = %v, want %v", n, got, want)
		}
		if !got.Valid() {
			t.Fatalf("%v not valid", got)
		}
		if d := DaysInclusive(first, got); d != n+1 {
			t.Fatalf("DaysInclusive(%v, %v) = %d, want %d", first, got, d, n+1)
		}
	}
}

func TestDateCompare(t *testing.T) {
	a, b := date("2023-03-02"), date("2023-03-03")
	if !a.Before(b) || a.After(b) || !b.After(a) || a.Compare(a) != 0 || a.Compare(b) != -1 || b.Compare(a) != 1 {
		t.Error("comparisons wrong")
	}
	if got := a.AddDays(-1); got != date("2023-03-01") {
		t.Errorf("AddDays(-1) = %v", got)
	}
	if got := date("2024-02-28").AddDays(1); got != date("2024-02-29") {
		t.Errorf("AddDays across leap day = %v", got)
	}
	if (Date{}).Valid() || !(Date{}).IsZero() || (Date{2023, 2, 29}).Valid() {
		t.Error("Valid/IsZero wrong")
	}
}

func TestDateOf(t *testing.T) {
	instant := time.Date(2022, time.October, 15, 23, 59, 0, 0, time.UTC) // 10-16 08:59 KST
	if got := DateOf(instant, kst); got != date("2022-10-16") {
		t.Errorf("DateOf KST = %v", got)
	}
	if got := DateOf(instant, nil); got != date("2022-10-15") {
		t.Errorf("DateOf nil = %v", got)
	}
}

func TestFormatWon(t *testing.T) {
	for in, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 19000: "19,000", 244029: "244,029",
		1000000: "1,000,000", -1234567: "-1,234,567", 9223372036854775807: "9,223,372,036,854,775,807",
	} {
		if got := FormatWon(in); got != want {
			t.Errorf("FormatWon(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{500: "5", 1200: "12", 1250: "12.5", 525: "5.25", 5000: "50", 10000: "100", 1: "0.01", 0: "0"} {
		if got := formatBPS(in); got != want {
			t.Errorf("formatBPS(%d) = %q, want %q", in, got, want)
		}
	}
}
