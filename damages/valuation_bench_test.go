package damages

import "testing"

// BenchmarkValue values the 3-item claim of the worked examples: the allocating Value, the
// reusing ValueInto (the bulk path) and ValueWithTrace. Each reports x_decide, its time per
// claim as a multiple of the bare eligibility decision of the same items, the baseline run in
// the same process.
func BenchmarkValue(b *testing.B) {
	v := defaultValuer(b)
	items := []Item{taxiItem, messageItem, doubleChargeItem}

	var base float64 // ns per claim of the baseline, measured first
	run := func(name string, valueOne func()) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				valueOne()
				n++
			}
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(max(n, 1))
			if base == 0 {
				base = perOp
			}
			b.ReportMetric(perOp/base, "x_decide")
		})
	}

	run("baseline_decide", func() {
		for i := range items {
			_ = v.Decide(items[i])
		}
	})
	run("value", func() { _ = v.Value(items) })
	var cv ClaimValuation
	run("value_into", func() { v.ValueInto(&cv, items) })
	run("value_with_trace", func() { _ = v.ValueWithTrace(items) })
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
