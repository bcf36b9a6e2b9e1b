package importer

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// GenOptions shapes a synthetic file.
type GenOptions struct {
	Rows int // item rows to write
	// InvalidShare is the share of claims with one broken row (default 0.02; negative: none).
	InvalidShare float64
	Seed         uint64
}

// GenStats counts what Generate wrote.
type GenStats struct {
	Rows, Claims, InvalidClaims int
}

var (
	surnames = []string{"김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신", "권", "황", "안", "송", "류", "홍", "전", "고", "문", "양", "손"}
	given    = []string{"민준", "서연", "도윤", "지우", "하준", "서윤", "시우", "지민", "주원", "하은", "예준", "수아", "지호", "지유",
		"준서", "채원", "건우", "다은", "현우", "은서", "우진", "예린", "선우", "수빈", "연우", "소율", "정우", "윤서", "승현", "민서"}
	mailHosts    = []string{"example.com", "example.net", "example.org", "mail.example.kr"}
	descriptions = []string{"택시 호출이 되지 않아 다른 교통편을 이용함", "결제가 두 번 승인됨", "거래처와 연락이 끊겨 주문을 놓침",
		"메일을 받지 못해 마감 기한을 넘김", "지도 앱이 열리지 않아 길을 잃음", "송금이 되지 않아 \"긴급\" 대금 지급 지연",
		"단체 채팅방 공지 전달 실패, 행사 취소", "", "", ""}
	places = []string{"판교", "강남역", "서울역", "부산 해운대", "대전 둔산동", "광주 상무지구", "인천공항", "수원역", "제주시", "대구 동성로",
		"일산", "분당", "잠실", "홍대입구", "여의도"}
	outageStart = time.Date(2022, 10, 15, 15, 30, 0, 0, kst)
	kst         = time.FixedZone("KST", 9*3600)
)

// Generate writes a realistic synthetic CSV of claims for the Kakao 2022 case: Korean names,
// the four item kinds, times mostly inside the outage, and a share of claims with one broken
// row (bad time, unknown service, negative amount...), for demos and benchmarks.
func Generate(w io.Writer, o GenOptions) (GenStats, error) {
	if o.InvalidShare == 0 {
		o.InvalidShare = 0.02
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x636c61696d64736b))
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := csv.NewWriter(bw)
	cw.Write(Columns)
	var st GenStats
	rec := make([]string, len(Columns))
	for st.Rows < o.Rows {
		st.Claims++
		ref := fmt.Sprintf("P%08d", st.Claims)
		name := surnames[r.IntN(len(surnames))] + given[r.IntN(len(given))]
		email, phone := "", ""
		if r.IntN(10) < 8 {
			email = fmt.Sprintf("user%d@%s", st.Claims, mailHosts[r.IntN(len(mailHosts))])
		}
		if email == "" || r.IntN(2) == 0 {
			phone = fmt.Sprintf("010-%04d-%04d", r.IntN(10000), r.IntN(10000))
		}
		locale := "ko"
		if r.IntN(20) == 0 {
			locale = "en"
		}
		n := min(1+r.IntN(4), o.Rows-st.Rows)
		bad := -1
		if o.InvalidShare > 0 && r.Float64() < o.InvalidShare {
			bad = r.IntN(n)
			st.InvalidClaims++
		}
		for i := range n {
			for j := range rec {
				rec[j] = ""
			}
			rec[0], rec[1], rec[2], rec[3], rec[4] = ref, name, email, phone, locale
			item(r, rec)
			if i == bad {
				breakRow(r, rec)
			}
			if err := cw.Write(rec); err != nil {
				return st, err
			}
			st.Rows++
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return st, err
	}
	return st, bw.Flush()
}

// column indexes in Columns.
const (
	cKind = 5 + iota
	cService
	cFeature
	cOccurred
	cEnded
	cFailure
	cPurpose
	cFare
	cAlt
	cAmount
	cLoss
	cDocumented
	cDescription
)

func item(r *rand.Rand, rec []string) {
	at := outageStart.Add(time.Duration(r.IntN(5*24*60)) * time.Minute)
	if r.IntN(10) == 0 {
		at = outageStart.Add(time.Duration(6*24*60+r.IntN(5*24*60)) * time.Minute) // after the outage
	}
	rec[cOccurred] = at.Format("2006-01-02 15:04")
	if r.IntN(3) == 0 {
		rec[cOccurred] = at.Format(time.RFC3339)
	}
	rec[cDocumented] = []string{"y", "n", "true", "false", "1", "0"}[r.IntN(6)]
	// People describe their losses in their own words: mostly different texts, some empty.
	if d := descriptions[r.IntN(len(descriptions))]; d != "" {
		rec[cDescription] = fmt.Sprintf("%s (%s, %d분)", d, places[r.IntN(len(places))], 10+r.IntN(3000))
	}
	switch k := r.IntN(20); {
	case k < 6:
		rec[cKind], rec[cService], rec[cFeature] = "taxi_booking", "kakao_t", "taxi"
		rec[cFailure] = []string{"booking_failed", "no_driver", "payment_failed", "trip_cancelled"}[r.IntN(4)]
		fare := 5000 + r.IntN(35000)
		rec[cFare], rec[cAlt] = strconv.Itoa(fare), strconv.Itoa(fare*(15+r.IntN(15))/10)
	case k < 11:
		rec[cKind], rec[cService], rec[cFeature] = "payment", "kakao_pay", []string{"payments", "transfers"}[r.IntN(2)]
		rec[cFailure] = []string{"payment_failed", "transfer_failed", "double_charged", "balance_unavailable"}[r.IntN(4)]
		rec[cAmount] = strconv.Itoa(1000 + r.IntN(500000))
	case k < 17:
		rec[cKind], rec[cService], rec[cFeature] = "message", "kakaotalk", []string{"text", "media", "pc", "channel"}[r.IntN(4)]
		rec[cPurpose] = []string{"personal", "business"}[r.IntN(2)]
		rec[cEnded] = at.Add(time.Duration(30+r.IntN(600)) * time.Minute).Format("2006-01-02 15:04")
		rec[cLoss] = strconv.Itoa(r.IntN(1000) * 1000)
	default:
		svc := [][2]string{{"daum", "mail"}, {"daum", "cafe"}, {"kakao_map", "map"}}[r.IntN(3)]
		rec[cKind], rec[cService], rec[cFeature] = "other", svc[0], svc[1]
		rec[cLoss] = strconv.Itoa(r.IntN(300) * 1000)
	}
}

// breakRow makes one mistake partners make.
func breakRow(r *rand.Rand, rec []string) {
	switch r.IntN(7) {
	case 0:
		rec[cOccurred] = "2022/10/15 6pm"
	case 1:
		rec[cService] = "kakao_bank"
	case 2:
		rec[cLoss], rec[cAmount], rec[cFare] = "", "", "-5000"
		rec[cKind], rec[cService], rec[cFeature], rec[cFailure], rec[cPurpose], rec[cEnded], rec[cAlt] = "taxi_booking", "kakao_t", "taxi", "no_driver", "", "", ""
	case 3:
		rec[cDocumented] = "maybe"
	case 4:
		rec[3] = "12345" // a phone number that is none
	case 5:
		rec[cOccurred] = "2031-01-01 10:00"
	default:
		rec[cKind] = "refund"
	}
}
