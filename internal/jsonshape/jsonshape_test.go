package jsonshape_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/jsonshape"
)

type inner struct {
	N    int64   `json:"n"`
	P    *int64  `json:"p"`
	S    string  `json:"s"`
	B    bool    `json:"b"`
	Tags []int32 `json:"tags"`
	F    float32 `json:"f"`
}

type outer struct {
	Items []inner         `json:"items"`
	One   *inner          `json:"one"`
	Map   map[string]int8 `json:"map"`
	Any   any             `json:"any"`
	Skip  string          `json:"-"`
	Plain string
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		in   string
		code apperr.Code
		want []string // "path code"
	}{
		{"valid", `{"items":[{"n":1,"p":null,"s":"x","b":true,"tags":[1]}],"one":{"n":2},"map":{"a":1},"any":[1,"x"],"Plain":"y"}`, "", nil},
		{"syntax", `{"items":`, apperr.Malformed, nil},
		{"two values", `{} {}`, apperr.Malformed, nil},
		{"empty", ``, apperr.Malformed, nil},
		{"unknown everywhere", `{"x":1,"items":[{"n":1},{"y":2}],"one":{"z":3},"-":1,"Skip":"no"}`, apperr.Invalid,
			[]string{"-|unknown_field", "Skip|unknown_field", "items[1].y|unknown_field", "one.z|unknown_field", "x|unknown_field"}},
		{"case matters", `{"ITEMS":[]}`, apperr.Invalid, []string{"ITEMS|unknown_field"}},
		{"types", `{"items":[{"n":"1","s":2,"b":"true","tags":{}}],"one":[],"map":{"a":"b"}}`, apperr.Invalid,
			[]string{"items[0].b|invalid_format", "items[0].n|invalid_format", "items[0].s|invalid_format", "items[0].tags|invalid_format", "map.a|invalid_format", "one|invalid_format"}},
		{"numbers", `{"items":[{"n":1.5},{"n":1e3},{"n":9223372036854775808},{"tags":[2147483648]}],"map":{"a":128}}`, apperr.Invalid,
			[]string{"items[0].n|invalid_format", "items[1].n|invalid_format", "items[2].n|out_of_range", "items[3].tags[0]|out_of_range", "map.a|out_of_range"}},
		// A float field takes any number it holds (FuzzFastPath found the checked path refusing
		// every one: the fast path took {"Plain":0}); n's error makes the checked path run.
		{"floats", `{"items":[{"f":0,"n":"x"},{"f":-1.5e3},{"f":1e39},{"f":"1"}]}`, apperr.Invalid,
			[]string{"items[0].n|invalid_format", "items[2].f|invalid_format", "items[3].f|invalid_format"}},
		{"not an object", `[]`, apperr.Invalid, []string{"|invalid_format"}},
		// Text after the value is not a second value (encoding/json's Token fails on it): the
		// body is malformed, not a document of the wrong shape.
		{"text after", `{"items":[]} x`, apperr.Malformed, nil},
		{"brace after", `{"items":[]}}`, apperr.Malformed, nil},
		// encoding/json keeps the last of two members of one name.
		{"duplicate", `{"one":{"n":1,"n":2},"items":[{},{"s":"a","s":"a"}]}`, apperr.Invalid, []string{"one.n|duplicate_field"}},
		{"duplicate in array", `{"items":[{},{"s":"a","s":"b"}]}`, apperr.Invalid, []string{"items[1].s|duplicate_field"}},
		// encoding/json would store U+FFFD for the byte.
		{"invalid UTF-8", "{\"items\":[{\"s\":\"\xff\"}]}", apperr.Malformed, nil},
		{"NUL", `{"items":[{"s":"a\u0000b"}],"one":{"s":"\u0000"},"Plain":"\\u0000"}`, apperr.Invalid,
			[]string{"items[0].s|invalid_format", "one.s|invalid_format"}},
	}
	for _, c := range cases {
		var v outer
		err := jsonshape.Decode([]byte(c.in), &v)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if apperr.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
			continue
		}
		var got []string
		if e, ok := err.(*apperr.Error); ok {
			for _, f := range e.Fields {
				got = append(got, f.Path+"|"+f.Code)
			}
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", c.name, diff)
		}
	}
}

// A document with shape errors still fills what fits, so callers can validate the rest.
func TestDecodeFillsWhatFits(t *testing.T) {
	var v outer
	err := jsonshape.Decode([]byte(`{"items":[{"n":"bad","s":"kept"}],"extra":1}`), &v)
	if !apperr.Is(err, apperr.Invalid) || len(v.Items) != 1 || v.Items[0].S != "kept" {
		t.Errorf("%v %+v", err, v)
	}
}

// Names are matched exactly when filling, too: encoding/json would fill s from an unknown "S"
// given after it.
func TestDecodeFillsByExactName(t *testing.T) {
	var v outer
	err := jsonshape.Decode([]byte(`{"items":[{"s":"kept","S":"not this"}]}`), &v)
	if !apperr.Is(err, apperr.Invalid) || len(v.Items) != 1 || v.Items[0].S != "kept" {
		t.Errorf("%v %+v", err, v)
	}
}

// embedding is read as encoding/json reads it: the embedded struct's fields are the outer's,
// and the outer's own field of a name wins.
type embedding struct {
	inner
	S     []string `json:"s"`
	Extra string   `json:"extra"`
}

func TestDecodeEmbedded(t *testing.T) {
	var v embedding
	if err := jsonshape.Decode([]byte(`{"n":1,"tags":[2],"s":["x"],"extra":"y"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.N != 1 || len(v.Tags) != 1 || len(v.S) != 1 || v.Extra != "y" {
		t.Fatalf("%+v", v)
	}
	err := jsonshape.Decode([]byte(`{"n":"1","s":"x","inner":{},"b":true}`), &v)
	var got []string
	if e, ok := err.(*apperr.Error); ok {
		for _, f := range e.Fields {
			got = append(got, f.Path+"|"+f.Code)
		}
	}
	if want := []string{"inner|unknown_field", "n|invalid_format", "s|invalid_format"}; !cmp.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

// priced declares the range of its price, as intake's items declare their amounts'.
type priced struct {
	Price int64  `json:"price"`
	Count *int32 `json:"count"`
}

func (priced) FieldBounds(name string) (lo, hi int64, ok bool) { return 0, 1000, name == "price" }

// A number too large for its field's type is out of the range the field's struct declares, when
// it declares one (a price of 1e20 is not "between -9223372036854775808 and ..."), else out of
// the type's; a fraction or an exponent is a format error whatever the range.
func TestDecodeDeclaredBounds(t *testing.T) {
	cases := []struct {
		in   string
		want []apperr.FieldError
	}{
		{`{"items":[{"price":99999999999999999999}]}`, []apperr.FieldError{{Path: "items[0].price", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "0", "max": "1000"}}}},
		{`{"items":[{"price":-99999999999999999999}]}`, []apperr.FieldError{{Path: "items[0].price", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "0", "max": "1000"}}}},
		{`{"items":[{"count":2147483648}]}`, []apperr.FieldError{{Path: "items[0].count", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "-2147483648", "max": "2147483647"}}}},
		{`{"items":[{"price":1.5},{"price":1e30},{"count":1E3}]}`, []apperr.FieldError{
			{Path: "items[0].price", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_digits"}},
			{Path: "items[1].price", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_digits"}},
			{Path: "items[2].count", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_digits"}}}},
	}
	for _, c := range cases {
		var v struct {
			Items []priced `json:"items"`
		}
		err := jsonshape.Decode([]byte(c.in), &v)
		var got []apperr.FieldError
		if e, ok := err.(*apperr.Error); ok {
			got = e.Fields
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", c.in, diff)
		}
	}
}

// caps declares one range for the numbers of its map and of its slice, as the rules declare the
// range of every item cap (item_cap_krw.<kind>).
type caps struct {
	Caps  map[string]*int64 `json:"caps"`
	Steps []int32           `json:"steps"`
	Tiers []priced          `json:"tiers"`
	Other map[string]int64  `json:"other"`
}

func (caps) FieldBounds(name string) (lo, hi int64, ok bool) {
	switch name {
	case "caps":
		return 0, 500, true
	case "steps":
		return 1, 9, true
	}
	return 0, 0, false
}

// The range a struct declares for a map or slice of integers is each element's: every number of
// it too large for its type is out of that range (not only when it is the field's one problem),
// and a struct held in a slice keeps the range its own fields declare.
func TestDecodeDeclaredBoundsOfElements(t *testing.T) {
	capsRange := map[string]string{"min": "0", "max": "500"}
	stepsRange := map[string]string{"min": "1", "max": "9"}
	cases := []struct {
		in   string
		want []apperr.FieldError
	}{
		{`{"caps":{"a":1,"b":99999999999999999999,"c":-99999999999999999999,"d":1.5,"e":"x"}}`, []apperr.FieldError{
			{Path: "caps.b", Code: apperr.FieldOutOfRange, Params: capsRange},
			{Path: "caps.c", Code: apperr.FieldOutOfRange, Params: capsRange},
			{Path: "caps.d", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_digits"}},
			{Path: "caps.e", Code: apperr.FieldInvalidFormat, Params: map[string]string{"type": "int"}}}},
		{`{"caps":{"with.dot":99999999999999999999}}`, []apperr.FieldError{
			{Path: "caps.with.dot", Code: apperr.FieldOutOfRange, Params: capsRange}}},
		{`{"steps":[2147483648,3,-2147483649]}`, []apperr.FieldError{
			{Path: "steps[0]", Code: apperr.FieldOutOfRange, Params: stepsRange},
			{Path: "steps[2]", Code: apperr.FieldOutOfRange, Params: stepsRange}}},
		{`{"tiers":[{"price":99999999999999999999}],"other":{"k":99999999999999999999}}`, []apperr.FieldError{
			{Path: "other.k", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "-9223372036854775808", "max": "9223372036854775807"}},
			{Path: "tiers[0].price", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "0", "max": "1000"}}}},
		{`{"caps":"x","steps":{}}`, []apperr.FieldError{
			{Path: "caps", Code: apperr.FieldInvalidFormat, Params: map[string]string{"type": "object"}},
			{Path: "steps", Code: apperr.FieldInvalidFormat, Params: map[string]string{"type": "array"}}}},
	}
	for _, c := range cases {
		var v caps
		err := jsonshape.Decode([]byte(c.in), &v)
		var got []apperr.FieldError
		if e, ok := err.(*apperr.Error); ok {
			got = e.Fields
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", c.in, diff)
		}
	}
}
