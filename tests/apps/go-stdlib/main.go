// A small legacy inventory service (standard library only).
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
)

type item struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

var stock = map[string]int{"bolts": 120, "nuts": 80, "washers": 300}

func inventoryHandler(w http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(stock))
	for name := range stock {
		names = append(names, name)
	}
	sort.Strings(names)
	items := make([]item, 0, len(names))
	for _, name := range names {
		items = append(items, item{Name: name, Count: stock[name]})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(items)
}

func selfTest() {
	recorder := httptest.NewRecorder()
	inventoryHandler(recorder, httptest.NewRequest("GET", "/items", nil))
	body := strings.TrimSpace(recorder.Body.String())
	fmt.Printf("go-app: GET /items -> %d %s\n", recorder.Code, body)
	fmt.Printf("go-app: sha256 %x\n", sha256.Sum256([]byte(body)))
}

func main() {
	test := flag.Bool("self-test", false, "run the self-test and exit")
	flag.Parse()
	if *test {
		selfTest()
		return
	}
	http.HandleFunc("/items", inventoryHandler)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
