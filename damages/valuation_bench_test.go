package damages

import "testing"

// BenchmarkValue values the 3-item claim of the worked examples. The sub-benchmarks compare
// the allocating Value, the reusing ValueInto (the bulk path) and ValueWithTrace against the
// bare eligibility decision of the same items, the baseline run in the same process.
func BenchmarkValue(b *testing.B) {
	v := defaultValuer(b)
	items := []Item{taxiItem, messageItem, doubleChargeItem}

	b.Run("baseline_decide", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range items {
				_ = v.Decide(items[i])
			}
		}
	})
	b.Run("value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = v.Value(items)
		}
	})
	b.Run("value_into", func(b *testing.B) {
		b.ReportAllocs()
		var cv ClaimValuation
		for b.Loop() {
			v.ValueInto(&cv, items)
		}
	})
	b.Run("value_with_trace", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = v.ValueWithTrace(items)
		}
	})
}

// BenchmarkTotalsAdd is the aggregation of one 3-item claim into case totals.
func BenchmarkTotalsAdd(b *testing.B) {
	v := defaultValuer(b)
	cv := v.Value([]Item{taxiItem, messageItem, doubleChargeItem})
	var t Totals
	b.ReportAllocs()
	for b.Loop() {
		t.Add(cv)
	}
}
