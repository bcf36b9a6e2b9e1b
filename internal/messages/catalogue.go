package messages

// catalogue maps a key to its {Korean, English} texts.
var catalogue = map[string][2]string{
	// Request-level errors (apperr codes).
	"validation_failed":      {"입력값을 확인해 주세요. 잘못된 항목이 있습니다.", "Some fields are invalid. Please check them."},
	"malformed_request":      {"요청 본문이 올바른 JSON이 아닙니다.", "The request body is not valid JSON."},
	"unsupported_media_type": {"지원하지 않는 형식입니다. Content-Type: {expected}로 보내 주세요.", "Unsupported content type. Send Content-Type: {expected}."},
	"too_large":              {"요청이 너무 큽니다 (최대 {max}).", "The request is too large (at most {max})."},
	"not_found":              {"찾을 수 없습니다.", "Not found."},
	"conflict":               {"이미 다른 내용으로 등록된 요청입니다.", "This conflicts with what is already stored."},
	"unauthorized":           {"인증이 필요합니다.", "Authentication required."},
	"forbidden":              {"권한이 없습니다.", "You are not allowed to do this."},
	"unavailable":            {"일시적으로 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주세요.", "The service is temporarily unavailable. Please try again shortly."},
	"internal":               {"서버 오류가 발생했습니다. 요청 ID: {request_id}", "Internal error. Request id: {request_id}"},
	"rate_limited":           {"요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.", "Too many requests. Please try again shortly."},
	"invalid_cursor":         {"페이지 커서가 올바르지 않습니다.", "The page cursor is invalid."},
	"external_ref_conflict":  {"같은 external_ref로 다른 내용의 청구가 이미 있습니다.", "A claim with this external_ref and different content already exists."},
	"case_not_found":         {"사건을 찾을 수 없습니다: {case}", "No such case: {case}"},
	"claim_not_found":        {"청구를 찾을 수 없습니다.", "No such claim."},
	"token_not_found":        {"토큰을 찾을 수 없습니다.", "No such token."},
	"bad_access_code":        {"청구 번호 또는 접수 확인 코드가 올바르지 않습니다.", "The claim reference or access code is wrong."},

	// Field errors.
	"required":         {"필수 항목입니다.", "This field is required."},
	"invalid_format":   {"형식이 올바르지 않습니다. {hint}", "The format is invalid. {hint}"},
	"invalid_value":    {"허용되지 않는 값입니다. 가능한 값: {allowed}", "This value is not allowed. Allowed: {allowed}"},
	"too_long":         {"최대 {max}자까지 입력할 수 있습니다.", "At most {max} characters."},
	"out_of_range":     {"{min}에서 {max} 사이여야 합니다.", "Must be between {min} and {max}."},
	"in_future":        {"미래 시각은 입력할 수 없습니다.", "Must not be in the future."},
	"end_before_start": {"종료 시각은 시작 시각보다 뒤여야 합니다.", "The end must be after the start."},
	"unknown_field":    {"알 수 없는 항목입니다.", "Unknown field."},
	"unknown_service":  {"이 사건에 없는 서비스입니다: {value}", "This case has no such service: {value}"},
	"unknown_feature":  {"이 서비스에 없는 기능입니다: {value}", "This service has no such feature: {value}"},
	"kind_not_allowed": {"이 서비스에는 이 유형의 피해를 청구할 수 없습니다. 가능한 유형: {allowed}", "This kind of item is not accepted for this service. Allowed: {allowed}"},
	"consent_required": {"개인정보 수집·이용에 동의해야 접수할 수 있습니다.", "You must consent to the processing of your data to file a claim."},
	"too_many":         {"최대 {max}개까지 입력할 수 있습니다.", "At most {max} entries."},
	"window_overlap":   {"같은 서비스·기능의 다른 장애 구간({other})과 겹칩니다.", "Overlaps another window of the same service and feature ({other})."},
	"contact_required": {"이메일 또는 휴대전화 번호 중 하나는 입력해야 합니다.", "Give an email address or a phone number."},
	"too_early":        {"{min} 이후 시각이어야 합니다.", "Must be on or after {min}."},

	// Hints for invalid_format.
	"hint_time":   {"예: 2022-10-15T18:30:00+09:00 또는 2022-10-15 18:30 (한국 시간)", "e.g. 2022-10-15T18:30:00+09:00, or 2022-10-15 18:30 (case time zone)"},
	"hint_phone":  {"예: 010-1234-5678", "e.g. 010-1234-5678"},
	"hint_email":  {"예: name@example.com", "e.g. name@example.com"},
	"hint_type":   {"{type} 값이어야 합니다.", "Must be {type}."},
	"hint_date":   {"예: 2023-10-15", "e.g. 2023-10-15"},
	"hint_none":   {"", ""},
	"hint_name":   {"제어 문자는 사용할 수 없습니다.", "Control characters are not allowed."},
	"type_string": {"문자열", "a string"},
	"type_int":    {"정수", "a whole number"},
	"type_bool":   {"true 또는 false", "true or false"},
	"type_object": {"객체", "an object"},
	"type_array":  {"배열", "an array"},

	// Eligibility (damages decision codes).
	"in_down_window":        {"장애 구간({window})에 해당합니다.", "Inside the outage window {window}."},
	"in_degraded_window":    {"부분 장애 구간({window})에 해당합니다.", "Inside the degraded-service window {window}."},
	"outside_outage_window": {"장애 구간 밖입니다. 가장 가까운 구간: {window}", "Outside every outage window. Nearest window: {window}"},
	"no_outage_window":      {"이 서비스·기능에는 등록된 장애 구간이 없습니다.", "There is no outage window for this service and feature."},
}
