package api_test

import (
	"bytes"
	"testing"
)

// TestWindowsReadBackUnchanged: a window edge with a fraction of a second (intake keeps
// microseconds) is answered with it, so windows read with GET and sent back with PUT stay where
// they were (answered as whole seconds, 14:00:00.5 moved to 14:00:00).
func TestWindowsReadBackUnchanged(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		body := e.windowsOf(func(w map[string]any) {
			if w["service"] == "kakao_t" && w["feature"] == "taxi" {
				w["end"] = "2022-10-16T14:00:00.5+09:00"
			}
		})
		wantStatus(t, e.do("PUT", "/api/v1/cases/kakao-2022/windows", body, bearer(e.lawyer)...), 200)
		before := e.do("GET", "/api/v1/cases/kakao-2022", nil)
		if !bytes.Contains(before.Body, []byte(`"end":"2022-10-16T14:00:00.5+09:00"`)) {
			t.Errorf("the window's end is not answered as stored: %s", before.Body)
		}
		wantStatus(t, e.do("PUT", "/api/v1/cases/kakao-2022/windows", e.windowsOf(func(map[string]any) {}), bearer(e.lawyer)...), 200)
		if after := e.do("GET", "/api/v1/cases/kakao-2022", nil); !bytes.Equal(after.Body, before.Body) {
			t.Errorf("windows sent back as read changed:\nbefore %s\nafter  %s", before.Body, after.Body)
		}
	})
}
