// This module stands in for github.com/glebarez/go-sqlite (see the replace in claimdesk's
// go.mod): glebarez/sqlite, gorm's pure-Go SQLite dialector, imports that old fork of
// modernc.org/sqlite, and the two cannot be linked together (both register the driver name
// "sqlite").
module github.com/glebarez/go-sqlite

go 1.26

require modernc.org/sqlite v1.60.1
