package damages

import (
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// outcome is what a test checks of a Decision: its status, code and the IDs of its windows
// (-1 for none).
type outcome struct {
	Status  Status
	Code    string
	Window  int64
	Nearest int64
}

func outcomeOf(d Decision) outcome {
	o := outcome{Status: d.Status, Code: d.Code, Window: -1, Nearest: -1}
	if d.Window != nil {
		o.Window = d.Window.ID
	}
	if d.Nearest != nil {
		o.Nearest = d.Nearest.ID
	}
	return o
}

func instant(s string) Period       { return Period{Start: at(s)} }
func period(from, to string) Period { return Period{Start: at(from), End: at(to)} }

func TestDecideBoundaries(t *testing.T) {
	taxi := Applicable(PerFeature, "kakao_t", "taxi", kakaoWindows()) // [10-15 15:30, 10-16 14:00)
	in := outcome{Eligible, CodeInDownWindow, 4, -1}
	out := outcome{Ineligible, CodeOutsideWindows, -1, 4}
	tests := []struct {
		name string
		p    Period
		want outcome
	}{
		{"instant one second before start", instant("2022-10-15 15:29:59"), out},
		{"instant at start", instant("2022-10-15 15:30:00"), in},
		{"instant one second before end", instant("2022-10-16 13:59:59"), in},
		{"instant at end", instant("2022-10-16 14:00:00"), out},
		{"instant one nanosecond before end", Period{Start: at("2022-10-16 14:00").Add(-1)}, in},
		{"period ending at start", period("2022-10-15 15:00", "2022-10-15 15:30"), out},
		{"period ending one second after start", period("2022-10-15 15:00", "2022-10-15 15:30:01"), in},
		{"period starting at end", period("2022-10-16 14:00", "2022-10-16 15:00"), out},
		{"period starting one second before end", period("2022-10-16 13:59:59", "2022-10-16 15:00"), in},
		{"period covering the window", period("2022-10-15 00:00", "2022-10-17 00:00"), in},
		{"period inside the window", period("2022-10-15 18:00", "2022-10-15 19:00"), in},
		{"end before start is an instant", Period{Start: at("2022-10-15 18:00"), End: at("2022-10-15 17:00")}, in},
		{"end equal to start is an instant", Period{Start: at("2022-10-16 14:00"), End: at("2022-10-16 14:00")}, out},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, outcomeOf(Decide(tt.p, taxi))); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideChoice(t *testing.T) {
	talk := Applicable(PerService, "kakaotalk", "", kakaoWindows()) // text down 1, text degraded 2, media down 3
	w := func(id int64, sev Severity, from, to string) Window {
		return Window{ID: id, Service: "s", Feature: "f", Severity: sev, Start: at(from), End: at(to)}
	}
	tests := []struct {
		name    string
		p       Period
		windows []Window
		want    outcome
	}{
		{"down before degraded even with less overlap", period("2022-10-16 01:00", "2022-10-16 09:00"),
			Applicable(PerFeature, "kakaotalk", "text", kakaoWindows()), outcome{Eligible, CodeInDownWindow, 1, -1}},
		{"instant on the down/degraded boundary is degraded", instant("2022-10-16 01:31"),
			Applicable(PerFeature, "kakaotalk", "text", kakaoWindows()), outcome{EligibleDegraded, CodeInDegradedWindow, 2, -1}},
		{"only degraded", period("2022-10-16 02:00", "2022-10-16 03:00"),
			Applicable(PerFeature, "kakaotalk", "text", kakaoWindows()), outcome{EligibleDegraded, CodeInDegradedWindow, 2, -1}},
		{"most overlap among down windows", period("2022-10-16 01:00", "2022-10-16 03:00"), talk,
			outcome{Eligible, CodeInDownWindow, 3, -1}},
		{"instant in two down windows: earliest start", instant("2022-10-15 16:00"),
			[]Window{w(7, Down, "2022-10-15 15:00", "2022-10-16 00:00"), w(8, Down, "2022-10-15 14:00", "2022-10-15 17:00")},
			outcome{Eligible, CodeInDownWindow, 8, -1}},
		{"equal overlap and start: lowest ID", instant("2022-10-15 16:00"),
			[]Window{w(9, Down, "2022-10-15 15:00", "2022-10-16 00:00"), w(8, Down, "2022-10-15 15:00", "2022-10-15 17:00")},
			outcome{Eligible, CodeInDownWindow, 8, -1}},
		{"nearest window after", instant("2022-10-15 12:00"),
			[]Window{w(1, Down, "2022-10-15 13:00", "2022-10-15 14:00"), w(2, Down, "2022-10-15 16:00", "2022-10-15 17:00")},
			outcome{Ineligible, CodeOutsideWindows, -1, 1}},
		{"nearest window before", instant("2022-10-15 18:00"),
			[]Window{w(1, Down, "2022-10-15 13:00", "2022-10-15 14:00"), w(2, Down, "2022-10-15 16:00", "2022-10-15 17:00")},
			outcome{Ineligible, CodeOutsideWindows, -1, 2}},
		{"nearest between two", instant("2022-10-15 14:50"),
			[]Window{w(1, Down, "2022-10-15 13:00", "2022-10-15 14:00"), w(2, Down, "2022-10-15 15:00", "2022-10-15 17:00")},
			outcome{Ineligible, CodeOutsideWindows, -1, 2}},
		{"nearest tie: lowest ID", instant("2022-10-15 18:00"),
			[]Window{w(5, Down, "2022-10-15 13:00", "2022-10-15 17:00"), w(4, Degraded, "2022-10-15 13:00", "2022-10-15 17:00")},
			outcome{Ineligible, CodeOutsideWindows, -1, 4}},
		{"period nearest", period("2022-10-16 14:30", "2022-10-16 15:00"),
			Applicable(PerService, "kakao_t", "", kakaoWindows()), outcome{Ineligible, CodeOutsideWindows, -1, 4}},
		{"no windows", instant("2022-10-15 16:00"), nil, outcome{Ineligible, CodeNoWindows, -1, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, outcomeOf(Decide(tt.p, tt.windows))); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
			// The outcome never depends on the order of the windows.
			rng := rand.New(rand.NewSource(1))
			for range 10 {
				ws := append([]Window(nil), tt.windows...)
				rng.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
				if diff := cmp.Diff(tt.want, outcomeOf(Decide(tt.p, ws))); diff != "" {
					t.Fatalf("Decide on shuffled windows (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestApplicable(t *testing.T) {
	ids := func(ws []Window) []int64 {
		var out []int64
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	all := kakaoWindows()
	if diff := cmp.Diff([]int64{4}, ids(Applicable(PerFeature, "kakao_t", "taxi", all))); diff != "" {
		t.Errorf("per_feature (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{1, 3, 2}, ids(Applicable(PerService, "kakaotalk", "text", all))); diff != "" {
		t.Errorf("per_service sorted by start (-want +got):\n%s", diff)
	}
	if got := Applicable(PerFeature, "kakao_t", "bike", all); len(got) != 0 {
		t.Errorf("per_feature of a feature without windows = %v", got)
	}
	whole := Applicable(WholeIncident, "kakao_map", "map", all)
	want := []Window{{Service: "kakao_map", Feature: "map", Severity: Down, Start: at("2022-10-15 15:30"), End: at("2022-10-20 23:00"), Source: "whole incident"}}
	if diff := cmp.Diff(want, whole); diff != "" {
		t.Errorf("whole_incident (-want +got):\n%s", diff)
	}
	if got := Applicable(WholeIncident, "kakao_map", "map", nil); got != nil {
		t.Errorf("whole_incident without windows = %v", got)
	}
}

func TestValidateWindows(t *testing.T) {
	w := func(svc, feat string, sev Severity, from, to string) Window {
		x := Window{Service: svc, Feature: feat, Severity: sev}
		if from != "" {
			x.Start = at(from)
		}
		if to != "" {
			x.End = at(to)
		}
		return x
	}
	tests := []struct {
		name string
		ws   []Window
		want []Problem
	}{
		{"kakao windows are valid", kakaoWindows(), nil},
		{"empty set", nil, nil},
		{"touching windows allowed", []Window{
			w("kakaotalk", "text", Down, "2022-10-15 15:30", "2022-10-16 01:31"),
			w("kakaotalk", "text", Degraded, "2022-10-16 01:31", "2022-10-17 09:00"),
		}, nil},
		{"overlap", []Window{
			w("kakaotalk", "text", Down, "2022-10-15 15:30", "2022-10-16 01:31"),
			w("kakaotalk", "text", Degraded, "2022-10-16 01:30", "2022-10-17 09:00"),
		}, []Problem{{Path: "[1].start", Code: "window_overlap", Params: map[string]string{"other": "[0]"}}}},
		{"overlap with a long window that is not the previous one", []Window{
			w("daum", "mail", Down, "2022-10-15 00:00", "2022-10-20 00:00"),
			w("daum", "mail", Down, "2022-10-16 00:00", "2022-10-16 01:00"),
			w("daum", "mail", Down, "2022-10-17 00:00", "2022-10-17 01:00"),
		}, []Problem{
			{Path: "[1].start", Code: "window_overlap", Params: map[string]string{"other": "[0]"}},
			{Path: "[2].start", Code: "window_overlap", Params: map[string]string{"other": "[0]"}},
		}},
		{"same times in other features do not overlap", []Window{
			w("kakaotalk", "text", Down, "2022-10-15 15:30", "2022-10-16 01:31"),
			w("kakaotalk", "media", Down, "2022-10-15 15:30", "2022-10-16 21:30"),
			w("kakao_t", "taxi", Down, "2022-10-15 15:30", "2022-10-16 14:00"),
		}, nil},
		{"end before start", []Window{w("kakao_t", "taxi", Down, "2022-10-16 14:00", "2022-10-15 15:30")},
			[]Problem{{Path: "[0].end", Code: "end_before_start"}}},
		{"end equal to start", []Window{w("kakao_t", "taxi", Down, "2022-10-16 14:00", "2022-10-16 14:00")},
			[]Problem{{Path: "[0].end", Code: "end_before_start"}}},
		{"unknown service", []Window{w("line", "chat", Down, "2022-10-15 15:30", "2022-10-16 14:00")},
			[]Problem{{Path: "[0].service", Code: "unknown_service", Params: map[string]string{"value": "line"}}}},
		{"unknown feature", []Window{w("kakao_t", "bike", Down, "2022-10-15 15:30", "2022-10-16 14:00")},
			[]Problem{{Path: "[0].feature", Code: "unknown_feature", Params: map[string]string{"value": "bike"}}}},
		{"required fields and severity", []Window{w("", "", "", "", "")}, []Problem{
			{Path: "[0].service", Code: "required"},
			{Path: "[0].severity", Code: "invalid_value", Params: map[string]string{"allowed": "down, degraded"}},
			{Path: "[0].start", Code: "required"},
			{Path: "[0].end", Code: "required"},
		}},
		{"feature required", []Window{w("kakao_t", "", Down, "2022-10-15 15:30", "2022-10-16 14:00")},
			[]Problem{{Path: "[0].feature", Code: "required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ValidateWindows(tt.ws, kakaoCatalog)); diff != "" {
				t.Errorf("ValidateWindows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWindowContains(t *testing.T) {
	w := Window{Start: at("2022-10-15 15:30"), End: at("2022-10-16 14:00")}
	for _, tt := range []struct {
		t    time.Time
		want bool
	}{
		{at("2022-10-15 15:29:59"), false},
		{at("2022-10-15 15:30:00"), true},
		{at("2022-10-16 13:59:59"), true},
		{at("2022-10-16 14:00:00"), false},
	} {
		if got := w.Contains(tt.t); got != tt.want {
			t.Errorf("Contains(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
}
