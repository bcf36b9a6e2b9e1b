package export_test

import (
	"testing"

	"github.com/claimdesk/claimdesk/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
