package export_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/messages"
)

func TestZZHelperSnapshot(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		for _, lang := range []messages.Lang{messages.Ko, messages.En} {
			rep, err := export.BuildReport(context.Background(), fx.st, fx.svc, fx.cs, testNow, lang)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.MarshalIndent(rep, "", " ")
			os.WriteFile(os.Getenv("SNAPDIR")+"/"+t.Name()[len("TestZZHelperSnapshot/"):]+"-"+string(lang)+".json", b, 0o644)
		}
	})
}
