package intake

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"

	"github.com/claimdesk/claimdesk/internal/apperr"
)

var (
	validateOnce sync.Once
	validate     *validator.Validate
)

// Validator returns the one validator of claimdesk, with field names taken from json tags and
// the custom tags registered: the range tags of rangeTags (krw: an amount in won, 0 to
// MaxAmountKRW), nocontrol (one line of UTF-8 text) and multiline (UTF-8 text, tabs and line
// breaks allowed).
func Validator() *validator.Validate {
	validateOnce.Do(func() {
		v := validator.New(validator.WithRequiredStructEnabled())
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				return ""
			}
			return name
		})
		for tag, r := range rangeTags {
			must(v.RegisterValidation(tag, func(fl validator.FieldLevel) bool {
				n := fl.Field().Int()
				return n >= r.min && n <= r.max
			}))
		}
		must(v.RegisterValidation("nocontrol", func(fl validator.FieldLevel) bool {
			return !hasControl(fl.Field().String())
		}))
		must(v.RegisterValidation("multiline", func(fl validator.FieldLevel) bool {
			return !hasControlInLines(fl.Field().String())
		}))
		validate = v
	})
	return validate
}

// rangeTags are the validation tags of an integer range, each with its range: what the
// validator accepts, what its out_of_range error says (FromValidator), and what the decoder says
// of a number too large for int64 (ItemInput.FieldBounds) all read it here, so an amount beyond
// int64 and one just over the limit get the same message.
var rangeTags = map[string]struct{ min, max int64 }{
	"krw": {0, MaxAmountKRW},
}

// FieldBounds gives the decoder (jsonshape.FieldBounder) the range the validation tag of an
// item's field declares.
func (ItemInput) FieldBounds(name string) (lo, hi int64, ok bool) {
	return tagRange(reflect.TypeFor[ItemInput](), name)
}

// AmountTooLarge is the error, at path, of a number too large for int64 given for the item's
// amount of JSON name name by a decoder of its own (the web form's, the CSV import's): out of
// the range the field declares (FieldBounds), in the words of a number just over it, as the JSON
// decoder says it. Every amount declares its range: a name that declares none is a bug of the
// caller.
func AmountTooLarge(path, name string) apperr.FieldError {
	lo, hi, ok := ItemInput{}.FieldBounds(name)
	if !ok {
		panic("intake: AmountTooLarge of " + name + ", which declares no range")
	}
	return apperr.FieldError{Path: path, Code: apperr.FieldOutOfRange,
		Params: map[string]string{"min": strconv.FormatInt(lo, 10), "max": strconv.FormatInt(hi, 10)}}
}

// tagRange returns the range of the range tag (rangeTags) in the validation tags of the field of
// struct type t with JSON name name.
func tagRange(t reflect.Type, name string) (lo, hi int64, ok bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if jsonName, _, _ := strings.Cut(f.Tag.Get("json"), ","); jsonName != name {
			continue
		}
		for tag := range strings.SplitSeq(f.Tag.Get("validate"), ",") {
			if r, ok := rangeTags[tag]; ok {
				return r.min, r.max, true
			}
		}
	}
	return 0, 0, false
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// validateStruct runs the struct tags and maps each failure to our codes and a JSON path.
func validateStruct(v any) []apperr.FieldError {
	err := Validator().Struct(v)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return []apperr.FieldError{{Code: apperr.FieldInvalidValue}}
	}
	out := make([]apperr.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		out = append(out, FromValidator(fe))
	}
	return out
}

// FromValidator maps one validator failure to a field error. The path drops the root struct
// name: "ClaimInput.items[2].kind" becomes "items[2].kind".
func FromValidator(fe validator.FieldError) apperr.FieldError {
	path := fe.Namespace()
	if _, rest, ok := strings.Cut(path, "."); ok {
		path = rest
	}
	f := apperr.FieldError{Path: path}
	kind := fe.Kind()
	switch fe.Tag() {
	case "required":
		f.Code = apperr.FieldRequired
	case "min":
		if kind == reflect.Slice {
			f.Code = apperr.FieldRequired
		} else {
			f.Code, f.Params = apperr.FieldOutOfRange, map[string]string{"min": fe.Param(), "max": "-"}
		}
	case "max":
		switch kind {
		case reflect.Slice:
			f.Code, f.Params = apperr.FieldTooMany, map[string]string{"max": fe.Param()}
		case reflect.String:
			f.Code, f.Params = apperr.FieldTooLong, map[string]string{"max": fe.Param()}
		default:
			f.Code, f.Params = apperr.FieldOutOfRange, map[string]string{"min": "-", "max": fe.Param()}
		}
	case "oneof":
		f.Code, f.Params = apperr.FieldInvalidValue, map[string]string{"allowed": strings.ReplaceAll(fe.Param(), " ", ", ")}
	case "email":
		f.Code, f.Params = apperr.FieldInvalidFormat, map[string]string{"hint": "hint_email"}
	case "nocontrol", "multiline":
		f.Code, f.Params = apperr.FieldInvalidFormat, map[string]string{"hint": "hint_name"}
	default:
		if r, ok := rangeTags[fe.Tag()]; ok {
			f.Code, f.Params = apperr.FieldOutOfRange, map[string]string{"min": strconv.FormatInt(r.min, 10), "max": strconv.FormatInt(r.max, 10)}
			break
		}
		f.Code = apperr.FieldInvalidValue
	}
	return f
}
