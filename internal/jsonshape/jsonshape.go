// Package jsonshape decodes JSON strictly, with errors a client can act on: every unknown field
// and every value of the wrong type is reported with its path ("items[2].expected_fare_krw"),
// all at once. encoding/json stops at the first problem and names fields without indexes.
package jsonshape

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/claimdesk/claimdesk/internal/apperr"
)

// Decode parses data into v, a pointer to a struct (or map, slice). Invalid JSON (invalid
// UTF-8 included), or more than one value, is an apperr.Malformed error; a well-formed document
// of the wrong shape is an apperr.Invalid error listing each problem, with v filled as far as
// the document fits it. A member named twice and a string holding NUL (which PostgreSQL's text
// cannot store, and no field of ours means) are problems of that list, and so is a number too
// large for its integer field: out of the range its struct declares (FieldBounder; for a map or
// slice of integers, the range of each of its numbers), else out of the Go type's.
//
// A document that fits goes through one strict pass of encoding/json/v2 (the
// go-json-experiment mirror): member names matched exactly, unknown members, duplicate names and
// invalid UTF-8 refused. Whatever that pass accepts, the checked path below accepts too, with the
// same result (FuzzFastPath holds them to it); anything it refuses, the checked path decodes again
// from the start to say exactly what is wrong. Intake decodes every claim this way: the checked
// path, which reads the document three times, was a fifth of the service's CPU under load. A
// NUL can only be written \u0000 in JSON: a document with that text takes the checked path.
func Decode(data []byte, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().IsZero() && !bytes.Contains(data, escapedNUL) {
		// Only into a zero value: v2 sets a member given as null to its zero value where
		// encoding/json leaves what was there.
		if jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true)) == nil {
			return nil
		}
		rv.Elem().SetZero()
	}
	return decodeChecked(data, v)
}

var escapedNUL = []byte(`\u0000`)

// decodeChecked is Decode's checked path: the document's syntax (jsontext: one value, UTF-8,
// each name once in its object), then the document as values, checked against v's type for
// every problem at once, then decoded into v.
func decodeChecked(data []byte, v any) error {
	if !utf8.Valid(data) {
		// encoding/json would read each invalid byte as U+FFFD and store text nobody sent.
		return apperr.New(apperr.Malformed, "body_not_utf8")
	}
	problems, err := syntax(data)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return apperr.Wrap(apperr.Malformed, "", err)
	}
	check(doc, reflect.TypeOf(v), "", &problems)
	if len(problems) > 0 {
		// Fill v as far as it goes (encoding/json skips what does not fit), so the caller can
		// validate the rest and report every problem at once. check took the unknown members
		// out of doc: encoding/json matches names regardless of case, and would fill "kind"
		// from an unknown "KIND".
		if pruned, err := json.Marshal(doc); err == nil {
			_ = json.Unmarshal(pruned, v)
		}
		return apperr.Validation(problems)
	}
	if err := json.Unmarshal(data, v); err != nil {
		// check accepts only what encoding/json accepts; reaching here is a gap in check.
		return apperr.Validation([]apperr.FieldError{{Path: "", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_none"}}})
	}
	return nil
}

// syntax reads data as one JSON value with nothing after it, each member named once in its
// object (encoding/json would keep the last of two, so a claim saying consent false then true
// would be read as consenting). A name given twice is a problem at its path (the first such
// name: the reader stops there), and the rest of the document is still checked; any other
// fault makes the body malformed.
func syntax(data []byte) ([]apperr.FieldError, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	err := dec.SkipValue()
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName) {
		dup := []apperr.FieldError{{Path: pointerPath(se.JSONPointer), Code: apperr.FieldDuplicate}}
		if json.Valid(data) {
			return dup, nil
		}
	}
	if err != nil {
		return nil, apperr.Wrap(apperr.Malformed, "", err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, apperr.New(apperr.Malformed, "")
	}
	return nil, nil
}

// pointerPath turns a JSON pointer ("/items/2/kind") into the paths field errors use
// ("items[2].kind"): a token of digits is an array index (no object of ours is keyed by
// numbers).
func pointerPath(p jsontext.Pointer) string {
	path := ""
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			path += "[" + tok + "]"
			continue
		}
		path = join(path, tok)
	}
	return path
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func check(val any, t reflect.Type, path string, out *[]apperr.FieldError) {
	for t.Kind() == reflect.Pointer {
		if reflect.PointerTo(t.Elem()).Implements(unmarshalerType) && t.Elem().Kind() != reflect.Pointer {
			break
		}
		t = t.Elem()
	}
	if val == nil {
		return // null leaves the zero value (nil for pointers); required-ness is validated later
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		checkUnmarshaler(val, t, path, out)
		return
	}
	bad := func(typ string) {
		*out = append(*out, apperr.FieldError{Path: path, Code: apperr.FieldInvalidFormat, Params: map[string]string{"type": typ}})
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := val.(map[string]any)
		if !ok {
			bad("object")
			return
		}
		fields := fieldsOf(t)
		for _, key := range sortedKeys(obj) {
			f, ok := fields[key]
			if !ok {
				*out = append(*out, apperr.FieldError{Path: join(path, key), Code: apperr.FieldUnknownField})
				delete(obj, key) // see decodeChecked
				continue
			}
			n := len(*out)
			check(obj[key], f, join(path, key), out)
			if len(*out) > n {
				withDeclaredBounds((*out)[n:], t, key, f)
			}
		}
	case reflect.Map:
		obj, ok := val.(map[string]any)
		if !ok {
			bad("object")
			return
		}
		for _, key := range sortedKeys(obj) {
			check(obj[key], t.Elem(), join(path, key), out)
		}
	case reflect.Slice, reflect.Array:
		if str, ok := val.(string); ok && t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			if _, err := base64.StdEncoding.DecodeString(str); err != nil {
				bad("base64")
			}
			return // []byte is a base64 string, as encoding/json reads it
		}
		arr, ok := val.([]any)
		if !ok {
			bad("array")
			return
		}
		for i, x := range arr {
			check(x, t.Elem(), path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.String:
		switch str, ok := val.(string); {
		case !ok:
			bad("string")
		case strings.IndexByte(str, 0) >= 0:
			*out = append(*out, apperr.FieldError{Path: path, Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_text"}})
		}
	case reflect.Bool:
		if _, ok := val.(bool); !ok {
			bad("bool")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := val.(json.Number)
		if !ok {
			bad("int")
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			if strings.ContainsAny(string(n), ".eE") {
				// encoding/json takes digits only: 1e3 and 1.0 are refused as 1.5 is, so
				// "must be a whole number" would be untrue of them.
				*out = append(*out, apperr.FieldError{Path: path, Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_digits"}})
			} else {
				*out = append(*out, apperr.FieldError{Path: path, Code: apperr.FieldOutOfRange,
					Params: map[string]string{"min": strconv.FormatInt(-1<<(t.Bits()-1), 10), "max": strconv.FormatInt(1<<(t.Bits()-1)-1, 10)}})
			}
		}
	case reflect.Float32, reflect.Float64:
		// A number the type holds (encoding/json refuses one it would overflow).
		n, ok := val.(json.Number)
		if !ok {
			bad("number")
			return
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			bad("number")
		}
	case reflect.Interface:
		// anything goes
	default:
		bad(t.Kind().String())
	}
}

// FieldBounder is implemented by a struct type whose integer fields declare a narrower range
// than their Go type holds (an amount in won is an int64, of which intake takes 0 to its
// maximum). A number too large for the Go type is then reported out of the field's range, in the
// words validation uses for a number inside the type but outside the range, rather than out of
// int64's.
type FieldBounder interface {
	// FieldBounds returns the range of the field of JSON name name (of each of its numbers, for a
	// map or slice of integers), and false for a field that declares none.
	FieldBounds(name string) (lo, hi int64, ok bool)
}

var fieldBounderType = reflect.TypeFor[FieldBounder]()

// withDeclaredBounds puts the range struct type t declares for its field name, of type ft, in
// each out_of_range error of errs (the errors checking the field's value appended). It applies to
// a field that is an integer, or a map or slice of integers ("item_cap_krw.taxi_booking",
// "caps[2]": the field's range is each element's): every out_of_range error under such a field
// is a number of the field that overflowed, whatever its key. A field holding structs is left to
// them: their own fields declare their ranges. It runs only for a value with a problem, so a
// valid document never pays for it.
func withDeclaredBounds(errs []apperr.FieldError, t reflect.Type, name string, ft reflect.Type) {
	if !integers(ft) || !reflect.PointerTo(t).Implements(fieldBounderType) {
		return
	}
	lo, hi, ok := reflect.New(t).Interface().(FieldBounder).FieldBounds(name)
	if !ok {
		return
	}
	for i := range errs {
		if errs[i].Code == apperr.FieldOutOfRange {
			errs[i].Params = map[string]string{"min": strconv.FormatInt(lo, 10), "max": strconv.FormatInt(hi, 10)}
		}
	}
}

// integers reports whether t (or what it points to) is an integer, or a map, slice or array of
// them: the fields whose declared range bounds every number they hold.
func integers(t reflect.Type) bool {
	t = derefType(t)
	switch t.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		t = derefType(t.Elem())
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// checkUnmarshaler lets a type with its own UnmarshalJSON (a date, say) judge its value.
func checkUnmarshaler(val any, t reflect.Type, path string, out *[]apperr.FieldError) {
	raw, err := json.Marshal(val)
	if err == nil {
		err = json.Unmarshal(raw, reflect.New(t).Interface())
	}
	if err != nil {
		*out = append(*out, apperr.FieldError{Path: path, Code: apperr.FieldInvalidFormat, Params: map[string]string{"type": "string"}})
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order: clients and tests see the same list every time
	return keys
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// fieldsOf maps the JSON names of a struct's exported fields to their types. The fields of an
// embedded struct without a JSON name are the outer struct's, as encoding/json reads them; a
// field of the outer struct wins over an embedded one of the same name.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	var embedded []reflect.Type
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, tagged := f.Name, false
		if tag, ok := f.Tag.Lookup("json"); ok {
			tagName, _, _ := strings.Cut(tag, ",")
			if tagName == "-" {
				continue
			}
			if tagName != "" {
				name, tagged = tagName, true
			}
		}
		if et := f.Type; f.Anonymous && !tagged {
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		m[name] = f.Type
	}
	for _, et := range embedded {
		for name, ft := range fieldsOf(et) {
			if _, ok := m[name]; !ok {
				m[name] = ft
			}
		}
	}
	fieldCache.Store(t, m)
	return m
}
