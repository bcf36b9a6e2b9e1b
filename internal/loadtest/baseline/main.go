// Command baseline is the yardstick of the intake load benchmark: a gin server whose one
// handler decodes a claim body and inserts one row, on the same database driver and settings as
// claimdesk (store.Open) and the same garbage collector settings (config.TuneGC).
// BASELINE_DATABASE_URL and BASELINE_ADDR configure it.
package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/config"
	"github.com/claimdesk/claimdesk/internal/store"
)

func main() {
	config.TuneGC()
	url := os.Getenv("BASELINE_DATABASE_URL")
	st, err := store.Open(context.Background(), url)
	if err != nil {
		log.Fatal(err)
	}
	db := st.SQL()
	ddl := `CREATE TABLE load_baseline (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)`
	insert := `INSERT INTO load_baseline (name, body, created_at) VALUES ($1, $2, $3)`
	if st.Dialect() == store.SQLite {
		ddl = `CREATE TABLE load_baseline (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, body TEXT NOT NULL, created_at DATETIME NOT NULL)`
		insert = `INSERT INTO load_baseline (name, body, created_at) VALUES (?, ?, ?)`
	}
	if _, err := db.Exec(ddl); err != nil {
		log.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/readyz", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.POST("/baseline", func(c *gin.Context) {
		var in struct {
			Claimant struct {
				Name string `json:"name"`
			} `json:"claimant"`
			Items []map[string]any `json:"items"`
		}
		body, err := io.ReadAll(c.Request.Body)
		if err == nil {
			err = json.Unmarshal(body, &in)
		}
		if err != nil {
			c.Status(http.StatusBadRequest)
			return
		}
		if _, err := db.ExecContext(c.Request.Context(), insert, in.Claimant.Name, string(body), time.Now().UTC()); err != nil {
			c.Status(http.StatusServiceUnavailable)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"id": 1})
	})
	srv := &http.Server{Addr: os.Getenv("BASELINE_ADDR"), Handler: r, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
