package messages

import (
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
)

// Field renders a field error in lang: the API's error bodies and the web form show the same
// text. Parameters that name catalogue entries (hints, JSON types) are rendered too.
func Field(lang Lang, f apperr.FieldError) string {
	key := f.Message
	if key == "" {
		key = f.Code
	}
	params := make(map[string]string, len(f.Params)+1)
	for k, v := range f.Params {
		params[k] = v
	}
	if t, ok := params["type"]; ok {
		params["hint"] = Text(lang, "hint_type", map[string]string{"type": Text(lang, "type_"+t, nil)})
	}
	if h, ok := params["hint"]; ok && Has(h) {
		params["hint"] = Text(lang, h, nil)
	}
	if _, ok := params["hint"]; !ok {
		params["hint"] = ""
	}
	return Text(lang, key, params)
}

// Window names an outage window for people: "kakao_t/taxi 2022-10-15 15:30 – 2022-10-16 14:00
// KST (down)". label is how the caller names the service and feature (slugs in the API, names
// on the web pages).
func Window(lang Lang, label, severity string, start, end time.Time, loc *time.Location) string {
	const layout = "2006-01-02 15:04"
	start, end = start.In(loc), end.In(loc)
	zone, _ := start.Zone()
	sev := severity
	if lang == Ko {
		sev = map[string]string{"down": "중단", "degraded": "부분 장애"}[severity]
	}
	return label + " " + start.Format(layout) + " – " + end.Format(layout) + " " + zone + " (" + sev + ")"
}
