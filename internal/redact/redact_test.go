package redact

import "testing"

func TestMasks(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{MaskName("홍길동"), "홍*동"}, {MaskName("남궁민수"), "남**수"}, {MaskName("홍길"), "홍*"}, {MaskName("홍"), "*"}, {MaskName(" "), ""},
		{MaskEmail("hong@example.com"), "h***@example.com"}, {MaskEmail("nope"), "***"},
		{MaskPhone("+821012345678"), "+82 10-****-5678"}, {MaskPhone("+8221234567"), "+82 2-***-4567"}, {MaskPhone("+15551234567"), "********4567"},
		{Search("홍길동"), "홍*동"}, {Search("hong@example.com"), "h***@example.com"}, {Search("010-1234-5678"), "0***********8"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
