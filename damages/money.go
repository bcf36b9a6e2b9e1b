package damages

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// Bounds of the inputs the valuation is specified for. Amounts are int64 won (KRW has no minor
// unit) and rates integer basis points (1 bp = 0.01%), so no value is ever rounded except where
// a rule says "floor".
//
// Within these bounds no sum in a claim can overflow: an item's raw loss is at most
// 2 x MaxAmountKRW, interest is computed with 128-bit intermediates (see mulDiv), and
// MaxItemsPerClaim such items stay far below math.MaxInt64. The bounds are enforced where the
// input enters (rules: Rules.Validate; items: the importer and the API); the arithmetic here
// saturates at math.MaxInt64 instead of wrapping if they are ever exceeded.
const (
	// MaxAmountKRW is the largest amount in won a single field may hold. It is untyped, as
	// MaxItemsPerClaim is, so the packages that repeat it as their own limit (intake) can use it
	// as an int too.
	MaxAmountKRW = 1_000_000_000
	// MaxBPS is the largest rate or factor in basis points (1000%).
	MaxBPS int64 = 100_000
	// MaxItemsPerClaim is the largest number of items in one claim.
	MaxItemsPerClaim = 50

	bpsOne = 10_000 // 100% in basis points
)

// mulDiv returns floor(a x b / d) for a, b >= 0 and d > 0 without intermediate overflow: the
// product is formed in 128 bits. It saturates at math.MaxInt64 when the quotient does not fit.
// It is how every "floor(x * y / z)" of the methodology (rules 2, 3 and 4) is computed.
func mulDiv(a, b, d int64) int64 {
	if a <= 0 || b <= 0 || d <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(d) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(d))
	return clampU(q)
}

// mulDiv3 returns floor(a x b x c / d) for non-negative a, b, c and d > 0: the interest formula
// of rule 4 (principal x rate_bps x days / 3,650,000). The product of the three can exceed
// 64 bits (1e9 won x 100,000 bps x 10,000 days = 1e18, near math.MaxInt64), so it is formed in
// 128 bits, and in math/big only when even that is not enough.
func mulDiv3(a, b, c, d int64) int64 {
	if a <= 0 || b <= 0 || c <= 0 || d <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi == 0 {
		return mulDivU(lo, uint64(c), uint64(d))
	}
	x := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	x.Mul(x, big.NewInt(c))
	x.Quo(x, big.NewInt(d))
	if !x.IsInt64() {
		return math.MaxInt64
	}
	return x.Int64()
}

func mulDivU(a, b, d uint64) int64 {
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, d)
	return clampU(q)
}

func clampU(q uint64) int64 {
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

// addKRW adds two non-negative amounts, saturating at math.MaxInt64 (rule 5 sums).
func addKRW(a, b int64) int64 {
	s := a + b
	if s < a || s < b {
		return math.MaxInt64
	}
	return s
}

// nonNeg treats a negative input amount as zero: a loss can only add to a claim.
func nonNeg(x int64) int64 {
	if x < 0 {
		return 0
	}
	return x
}

// FormatWon formats an amount of won with thousands separators: 1234567 -> "1,234,567".
func FormatWon(krw int64) string {
	var buf [32]byte
	b := strconv.AppendInt(buf[:0], krw, 10)
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	n := len(digits)
	out := make([]byte, 0, len(b)+n/3)
	if neg {
		out = append(out, '-')
	}
	for i, c := range digits {
		if i > 0 && (n-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}

// formatBPS formats basis points as a percentage without trailing zeros: 500 -> "5",
// 1250 -> "12.5", 525 -> "5.25".
func formatBPS(bps int64) string {
	s := strconv.FormatInt(bps/100, 10)
	if frac := bps % 100; frac != 0 {
		if frac < 0 {
			frac = -frac
		}
		f := strconv.FormatInt(frac+100, 10)[1:] // two digits
		if f[1] == '0' {
			f = f[:1]
		}
		s += "." + f
	}
	return s
}
