// Package migrations embeds the versioned SQL schema, one folder per dialect (postgres, sqlite).
// The files are applied in order by goose; never edit a file that has shipped: add a new one.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
