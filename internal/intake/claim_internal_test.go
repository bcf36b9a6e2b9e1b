package intake

import "testing"

// A claim that needs no tidying is not copied: tidy runs for every claim of every channel, and
// copying the items only to leave the caller's as typed was an allocation per claim for nothing.
func TestTidyCopiesNothingTidy(t *testing.T) {
	ref, tr, fare := "REF-1", true, int64(15000)
	in := ClaimInput{ExternalRef: &ref, Consent: &tr,
		Claimant: ClaimantInput{Name: "홍길동", Email: "hong@example.com", Phone: "010-1234-5678"},
		Items: []ItemInput{
			{Kind: KindTaxiBooking, OccurredAt: "2022-10-15 18:30", Failure: "no_driver", ExpectedFareKRW: &fare, Description: "판교역에서 택시 호출이 되지 않음"},
			{Kind: KindMessage, OccurredAt: "2022-10-15 20:00", Purpose: "personal", Description: "Message not sent.\n두 번째 줄"},
		}}
	var out ClaimInput
	if allocs := testing.AllocsPerRun(100, func() { out = tidy(in) }); allocs != 0 {
		t.Errorf("tidy of a tidy claim: %v allocations, want 0", allocs)
	}
	if &out.Items[0] != &in.Items[0] || out.ExternalRef != in.ExternalRef {
		t.Error("tidy copied a tidy claim")
	}

	// One that needs it is tidied on copies, the caller's input left as sent.
	untidy := " REF-1 "
	in.ExternalRef, in.Items[1].Description = &untidy, " 두 번째 "
	out = tidy(in)
	if *out.ExternalRef != "REF-1" || out.Items[1].Description != "두 번째" || out.Items[0] != in.Items[0] {
		t.Errorf("tidied %q %q", *out.ExternalRef, out.Items[1].Description)
	}
	if untidy != " REF-1 " || in.Items[1].Description != " 두 번째 " {
		t.Errorf("the caller's input changed: %q %q", untidy, in.Items[1].Description)
	}
}
