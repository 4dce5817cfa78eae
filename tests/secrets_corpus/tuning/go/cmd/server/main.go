package main

import (
	"database/sql"
	"log"
	"net/http"
	"os"

	_ "github.com/lib/pq"
)

const dsn = "postgres://catalog:⟦password⟧@catalog-db:5432/catalog?sslmode=disable"

var (
	mailchimpKey = "⟦mailchimp-key⟧"
	linearAPIKey = "⟦linear-key⟧"
	buildCommit  = "⟦~9fceb02d0ae598e95dc970b74767f19372d61af8⟧"
)

func main() {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	token := os.Getenv(⟦~"API_TOKEN"⟧)
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	log.Printf("starting with token set: %v", token != "")
	log.Fatal(http.ListenAndServe(":8080", nil))
}
