package export

import "github.com/claimdesk/claimdesk/internal/redact"

// contact holds a claimant's contact data as an export shows it.
type contact struct{ name, email, phone string }

func showContact(name, email, phone string, masked bool) contact {
	if masked {
		return contact{redact.MaskName(name), redact.MaskEmail(email), redact.MaskPhone(phone)}
	}
	return contact{name, email, redact.FormatPhone(phone)}
}
