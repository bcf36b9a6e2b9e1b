// Package sqlite puts modernc.org/sqlite's driver where gorm's dialector github.com/glebarez/sqlite
// expects github.com/glebarez/go-sqlite, an old fork of it that compiles every statement at each
// execution and binds parameters in time quadratic in their number. The store hands the
// dialector a database it opened itself with modernc's connector; the two drivers cannot both
// be linked (each registers the name "sqlite").
//
// The dialector uses one thing of the fork: it recognises SQLite's constraint errors by their
// type, *Error, in Translate (duplicate key, foreign key). The alias keeps that working on
// modernc's errors.
package sqlite

import "modernc.org/sqlite"

// Error is the error the driver returns for a failed SQLite call; Code is SQLite's extended
// result code.
type Error = sqlite.Error
