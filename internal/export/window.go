package export

import "time"

// describeWindow names a window in codes and local times, the same in every language:
// "kakao_t/taxi down 2022-10-15 15:30 – 2022-10-16 14:00 KST".
func describeWindow(service, feature, severity string, start, end time.Time, loc *time.Location) string {
	const layout = "2006-01-02 15:04"
	s, e := start.In(loc), end.In(loc)
	zone, _ := s.Zone()
	return service + "/" + feature + " " + severity + " " + s.Format(layout) + " – " + e.Format(layout) + " " + zone
}
