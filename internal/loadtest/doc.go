// Package loadtest holds the intake load benchmark (load_test.go): claimdesk's claim
// submission against a bare gin handler that only decodes the body and inserts one row, on the
// same database in the same run, with wrk at saturation and an open-loop sender at a fixed
// rate (pace_test.go). It holds benchmarks (`make bench-load`), and TestPace, the test of that
// sender.
package loadtest
