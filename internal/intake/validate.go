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
// the custom tags registered: krw (an amount in won, 0 to MaxAmountKRW), nocontrol (one line of
// UTF-8 text) and multiline (UTF-8 text, tabs and line breaks allowed).
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
		must(v.RegisterValidation("krw", func(fl validator.FieldLevel) bool {
			n := fl.Field().Int()
			return n >= 0 && n <= MaxAmountKRW
		}))
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
	case "krw":
		f.Code, f.Params = apperr.FieldOutOfRange, map[string]string{"min": "0", "max": strconv.Itoa(MaxAmountKRW)}
	case "oneof":
		f.Code, f.Params = apperr.FieldInvalidValue, map[string]string{"allowed": strings.ReplaceAll(fe.Param(), " ", ", ")}
	case "email":
		f.Code, f.Params = apperr.FieldInvalidFormat, map[string]string{"hint": "hint_email"}
	case "nocontrol", "multiline":
		f.Code, f.Params = apperr.FieldInvalidFormat, map[string]string{"hint": "hint_name"}
	default:
		f.Code = apperr.FieldInvalidValue
	}
	return f
}
