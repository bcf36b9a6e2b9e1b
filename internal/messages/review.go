package messages

// review holds the texts of the lawyer workspace's API (issue 5): lifecycle errors, reason
// codes of transitions, sign-in and users.
var review = map[string][2]string{
	"invalid_transition":   {"청구 상태를 {from}에서 {to}(으)로 바꿀 수 없습니다. 가능한 상태: {allowed}", "A claim cannot move from {from} to {to}. Allowed: {allowed}"},
	"cure_period_running":  {"보완 기한이 아직 지나지 않아 거절할 수 없습니다.", "The cure period is still running: the claim cannot be rejected yet."},
	"status_changed":       {"그 사이에 청구 상태가 바뀌었습니다. 다시 불러와 주세요.", "The claim's status changed meanwhile. Reload it and try again."},
	"duplicate_of_invalid": {"같은 사건의 다른 청구 번호를 입력해 주세요.", "Give the reference of another claim of the same case."},
	"duplicate_of_excluded": {"원본으로 지정한 청구가 이미 중복 또는 철회 상태입니다. 합계에 포함되는 청구를 지정해 주세요.",
		"The claim named as the original is itself a duplicate or withdrawn: name one that counts in the totals."},
	"duplicate_not_found": {"이 두 청구는 중복 후보가 아닙니다.", "These two claims are not a candidate pair."},
	"duplicate_decided":   {"이미 결정된 중복 후보입니다.", "This pair has already been decided."},
	"sign_in_failed":      {"이메일 또는 비밀번호가 올바르지 않습니다.", "The email or password is wrong."},
	"sign_in_limited":     {"로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요.", "Too many sign-in attempts. Please try again later."},
	"user_disabled":       {"사용이 중지된 계정입니다.", "This account is disabled."},
	"user_self":           {"자기 계정은 사용 중지할 수 없습니다. 다른 관리자에게 요청하세요.", "You cannot disable your own account; ask another admin."},
	"user_exists":         {"이미 등록된 이메일입니다.", "A user with this email already exists."},
	"user_not_found":      {"사용자를 찾을 수 없습니다.", "No such user."},
	"password_length":     {"비밀번호는 {min}~{max}바이트여야 합니다.", "The password must be {min} to {max} bytes long."},

	// Reason codes of transitions (internal/lifecycle).
	"reason_missing_evidence":     {"증빙 자료 부족", "Evidence missing"},
	"reason_incomplete_items":     {"피해 내역 불완전", "Incomplete items"},
	"reason_contact_unverified":   {"연락처 확인 불가", "Contact details could not be verified"},
	"reason_identity_unverified":  {"본인 확인 불가", "Identity could not be verified"},
	"reason_amount_unsupported":   {"청구 금액의 근거 부족", "Amount not supported"},
	"reason_outside_windows":      {"장애 시간대 밖의 피해", "Outside the outage windows"},
	"reason_not_covered":          {"배상 대상이 아닌 피해", "Not covered by the action"},
	"reason_fraud_suspected":      {"부정 청구 의심", "Suspected fraud"},
	"reason_cure_deadline_passed": {"보완 기한 경과", "Cure deadline passed"},
	"reason_claimant_request":     {"청구인의 요청", "At the claimant's request"},
	"reason_duplicate_submission": {"중복 접수", "Duplicate submission"},
	"reason_documents_received":   {"보완 서류 접수", "Documents received"},
	"reason_other":                {"기타 (메모 참조)", "Other (see note)"},
}

func init() { add(review) }
