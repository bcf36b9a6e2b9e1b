package damages

import (
	"slices"
	"time"
)

// Service is one service of a case: the item kinds a claimant may report against it and its
// features (the units outage windows are recorded for).
type Service struct {
	Slug     string
	Kinds    []string
	Features []string
}

// Case is what the domain needs to know of a case: its zone (local times without an offset are
// read in it, and interest days are counted in it) and its services.
type Case struct {
	Slug     string
	Location *time.Location
	Services []Service
}

// Service returns the service with slug.
func (c *Case) Service(slug string) (Service, bool) {
	for _, s := range c.Services {
		if s.Slug == slug {
			return s, true
		}
	}
	return Service{}, false
}

// HasService reports whether the case has the service.
func (c *Case) HasService(slug string) bool { _, ok := c.Service(slug); return ok }

// HasFeature reports whether the service of the case has the feature.
func (c *Case) HasFeature(service, feature string) bool {
	s, ok := c.Service(service)
	return ok && slices.Contains(s.Features, feature)
}
