// Package seed loads the cases that ship with claimdesk (data files in data/, embedded) into a
// store. A case is data, not code: its services, windows and default rules are in its file.
package seed

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

//go:embed data/*.json
var files embed.FS

// File is the format of a case data file.
type File struct {
	Slug     string          `json:"slug"`
	Name     Names           `json:"name"`
	TimeZone string          `json:"time_zone"`
	Services []FileService   `json:"services"`
	Windows  []FileWindow    `json:"windows"`
	Rules    json.RawMessage `json:"rules"`
}

// Names are a name in Korean and English.
type Names struct {
	Ko string `json:"ko"`
	En string `json:"en"`
}

// FileService is a service in a case file.
type FileService struct {
	Slug     string   `json:"slug"`
	Name     Names    `json:"name"`
	Kinds    []string `json:"kinds"`
	Features []struct {
		Slug string `json:"slug"`
		Name Names  `json:"name"`
	} `json:"features"`
}

// FileWindow is a window in a case file; times are local to the case zone or carry an offset.
type FileWindow struct {
	Service    string `json:"service"`
	Feature    string `json:"feature"`
	Severity   string `json:"severity"`
	Start      string `json:"start"`
	End        string `json:"end"`
	Source     string `json:"source"`
	Confidence string `json:"confidence"`
}

// Kakao2022 is the slug of the default case.
const Kakao2022 = "kakao-2022"

// Load reads the shipped case file of slug.
func Load(slug string) (store.NewCase, error) {
	b, err := files.ReadFile("data/" + slug + ".json")
	if err != nil {
		return store.NewCase{}, fmt.Errorf("case %s: %w", slug, err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return store.NewCase{}, fmt.Errorf("case %s: %w", slug, err)
	}
	loc, err := time.LoadLocation(f.TimeZone)
	if err != nil {
		return store.NewCase{}, fmt.Errorf("case %s: %w", slug, err)
	}
	nc := store.NewCase{Slug: f.Slug, NameKo: f.Name.Ko, NameEn: f.Name.En, TimeZone: f.TimeZone, Rules: string(f.Rules)}
	for _, s := range f.Services {
		sv := store.Service{Slug: s.Slug, NameKo: s.Name.Ko, NameEn: s.Name.En, Kinds: s.Kinds}
		for _, ft := range s.Features {
			sv.Features = append(sv.Features, store.Feature{Slug: ft.Slug, NameKo: ft.Name.Ko, NameEn: ft.Name.En})
		}
		nc.Services = append(nc.Services, sv)
	}
	for i, w := range f.Windows {
		start, err1 := intake.ParseInstant(w.Start, loc)
		end, err2 := intake.ParseInstant(w.End, loc)
		if err1 != nil || err2 != nil {
			return store.NewCase{}, fmt.Errorf("case %s: window %d: bad time", slug, i)
		}
		nc.Windows = append(nc.Windows, models.OutageWindow{Service: w.Service, Feature: w.Feature, Severity: w.Severity,
			StartAt: start, EndAt: end, Source: w.Source, Confidence: w.Confidence})
	}
	return nc, nil
}

// Ensure loads the shipped case slug into st unless it is there. It reports whether it did.
func Ensure(ctx context.Context, st *store.Store, slug string) (bool, error) {
	nc, err := Load(slug)
	if err != nil {
		return false, err
	}
	return st.EnsureCase(ctx, nc)
}
