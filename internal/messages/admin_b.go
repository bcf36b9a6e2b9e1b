package messages

// adminB holds the texts of the dashboard, duplicates, audit and users pages of the lawyers'
// workspace (api/admin, part B of issue 5).
var adminB = map[string][2]string{
	// Dashboard.
	"admin_as_of":              {"{at} 기준 수치 (30초마다 다시 계산)", "Figures as of {at} (recomputed every 30 seconds)"},
	"admin_report_link":        {"인쇄용 사건 보고서", "Printable case report"},
	"admin_headline":           {"주요 수치", "Headline figures"},
	"admin_stat_claimants":     {"청구인", "Claimants"},
	"admin_stat_deficient_due": {"이번 주 보완 기한 도래", "Cure deadlines this week"},
	"admin_benchmark":          {"카카오 보상안과 비교", "Against Kakao's scheme"},
	"admin_charts":             {"차트", "Charts"},
	"admin_windows":            {"장애 구간", "Outage windows"},
	"admin_windows_caption":    {"현재 장애 구간과 근거 (한국 시간)", "Current windows and their sources (Korea time)"},
	"admin_windows_edit":       {"장애 구간 변경", "Change the windows"},
	"admin_windows_hint":       {"모든 구간을 한 번에 교체합니다. 시각은 한국 시간(예: 2022-10-15 15:30) 또는 오프셋이 있는 RFC 3339로 적습니다. 빈 행은 무시되고, '삭제'를 표시한 행은 지워집니다. 저장하면 모든 청구가 다시 판정됩니다.", "Replaces every window at once. Times in Korea time (e.g. 2022-10-15 15:30) or RFC 3339 with an offset. Blank rows are ignored; rows marked 'remove' are deleted. Saving re-decides every claim."},
	"admin_windows_save":       {"구간 저장", "Save the windows"},
	"admin_windows_saved":      {"장애 구간을 저장했고 모든 청구를 다시 판정했습니다.", "The windows are saved and every claim was decided again."},
	"admin_windows_invalid":    {"장애 구간에 잘못된 값이 있습니다. 표시된 칸을 확인해 주세요.", "Some windows are invalid. Please check the marked fields."},
	"admin_col_service":        {"서비스", "Service"},
	"admin_col_feature":        {"기능", "Feature"},
	"admin_col_severity":       {"정도", "Severity"},
	"admin_col_start":          {"시작", "Start"},
	"admin_col_end":            {"종료", "End"},
	"admin_col_source":         {"근거", "Source"},
	"admin_col_confidence":     {"신뢰도", "Confidence"},
	"admin_col_remove":         {"삭제", "Remove"},
	"admin_severity_down":      {"전면 장애", "down"},
	"admin_severity_degraded":  {"부분 장애", "degraded"},
	"admin_rules":              {"손해 산정 규칙", "Damages rules"},
	"admin_rules_edit":         {"규칙 변경 (현재 버전 {version})", "Change the rules (active version {version})"},
	"admin_rules_field":        {"규칙 (JSON)", "Rules (JSON)"},
	"admin_rules_hint":         {"API와 같은 검증을 거쳐 새 버전이 되며, 저장된 청구는 백그라운드에서 다시 산정됩니다.", "Checked as the API checks it, it becomes the next version; stored claims are re-valued in the background."},
	"admin_rules_save":         {"새 버전으로 저장", "Save as the next version"},
	"admin_rules_saved":        {"규칙을 새 버전으로 저장했습니다.", "The rules are saved as the next version."},
	"admin_rules_invalid":      {"규칙에 잘못된 값이 있습니다.", "The rules are invalid."},

	// Duplicates.
	"admin_dup_caption":              {"중복 후보 쌍", "Candidate pairs"},
	"admin_dup_filter":               {"상태", "State"},
	"admin_dup_open":                 {"미결정", "Open"},
	"admin_dup_decided":              {"결정됨", "Decided"},
	"admin_dup_all":                  {"전체", "All"},
	"admin_dup_first":                {"먼저 접수된 청구", "First claim"},
	"admin_dup_second":               {"나중 접수된 청구", "Later claim"},
	"admin_dup_matched":              {"일치 항목", "What matched"},
	"admin_dup_state":                {"결정", "Decision"},
	"admin_dup_decide":               {"결정", "Decide"},
	"admin_dup_keep_first":           {"중복: 먼저 청구 유지 (기본)", "Duplicate: keep the first (default)"},
	"admin_dup_keep_second":          {"중복: 나중 청구 유지", "Duplicate: keep the later"},
	"admin_dup_not":                  {"중복 아님", "Not a duplicate"},
	"admin_dup_note":                 {"메모", "Note"},
	"admin_dup_save":                 {"결정 저장", "Save the decision"},
	"admin_dup_done":                 {"결정을 저장했습니다.", "The decision is saved."},
	"admin_dup_status_candidate":     {"미결정", "open"},
	"admin_dup_status_duplicate":     {"중복 확인", "duplicate"},
	"admin_dup_status_not_duplicate": {"중복 아님", "not a duplicate"},
	"admin_dup_none":                 {"중복 후보가 없습니다.", "No candidate pairs."},
	"admin_dup_by":                   {"{by}, {at}", "{by}, {at}"},

	// Audit trail.
	"admin_audit_entity":   {"대상", "Entity"},
	"admin_audit_actor":    {"행위자 (이름)", "Actor (name)"},
	"admin_audit_action":   {"행위", "Action"},
	"admin_audit_from":     {"시작 (한국 시간)", "From (Korea time)"},
	"admin_audit_to":       {"종료 (한국 시간, 미포함)", "To (Korea time, excluded)"},
	"admin_audit_caption":  {"감사 기록 (최신순)", "Audit trail (newest first)"},
	"admin_audit_none":     {"조건에 맞는 기록이 없습니다.", "No records match."},
	"admin_audit_csv":      {"CSV로 내려받기 (같은 조건)", "Download as CSV (same filters)"},
	"admin_col_at":         {"시각", "When"},
	"admin_col_entity":     {"대상", "Entity"},
	"admin_col_from":       {"접속 위치", "From"},
	"admin_col_details":    {"변경 내용", "Change"},
	"admin_audit_bad_time": {"시각은 2022-10-15 또는 2022-10-15 15:30 형식으로 적어 주세요.", "Write times as 2022-10-15 or 2022-10-15 15:30."},

	// Users.
	"admin_users_caption":      {"직원 사용자", "Staff users"},
	"admin_col_email":          {"이메일", "Email"},
	"admin_col_role":           {"역할", "Role"},
	"admin_col_created":        {"생성", "Created"},
	"admin_col_last_sign_in":   {"최근 로그인", "Last sign-in"},
	"admin_col_state":          {"상태", "State"},
	"admin_user_active":        {"사용 중", "active"},
	"admin_user_disabled":      {"사용 중지 ({at})", "disabled ({at})"},
	"admin_user_disable":       {"사용 중지", "Disable"},
	"admin_user_disable_label": {"{email} 사용 중지", "Disable {email}"},
	"admin_user_disabled_done": {"{email} 사용자를 중지했습니다. 로그인 세션도 끝났습니다.", "{email} is disabled; their sessions have ended."},
	"admin_user_invite":        {"사용자 초대", "Invite a user"},
	"admin_user_invite_submit": {"초대", "Invite"},
	"admin_user_invite_hint":   {"초기 비밀번호는 이 화면에 한 번만 표시됩니다. 안전한 경로로 전달해 주세요.", "The initial password is shown on this page once. Pass it on by a safe channel."},
	"admin_user_created":       {"{email} 사용자를 만들었습니다. 초기 비밀번호 (한 번만 표시):", "{email} is created. Initial password (shown once):"},
	"admin_user_self":          {"본인", "you"},
}

func init() {
	for k, v := range adminB {
		if _, dup := catalogue[k]; dup {
			panic("messages: key " + k + " defined twice")
		}
		catalogue[k] = v
	}
}
