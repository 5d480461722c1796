// A small legacy notification service (standard library only). At start-up it reads its
// settings from config.yaml, its feature flags from config.json and its message templates from
// templates/, all relative to the working directory, as many Go services are deployed.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/template"
)

type settings struct {
	values map[string]string
}

// loadSettings reads the flat `key: value` lines of a YAML file (comments and blank lines skipped).
func loadSettings(path string) (settings, error) {
	file, err := os.Open(path)
	if err != nil {
		return settings{}, err
	}
	defer file.Close()
	values := map[string]string{}
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return settings{}, fmt.Errorf("%s: not a `key: value` line: %q", path, line)
		}
		values[strings.TrimSpace(key)] = strings.Trim(strings.TrimSpace(value), `"`)
	}
	return settings{values: values}, scanner.Err()
}

type features struct {
	Channels []string        `json:"channels"`
	Flags    map[string]bool `json:"flags"`
}

func loadFeatures(path string) (features, error) {
	var f features
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	return f, json.Unmarshal(data, &f)
}

type notice struct {
	Service string
	Channel string
	Count   int
}

func main() {
	test := flag.Bool("self-test", false, "render each template once and exit")
	flag.Parse()

	config, err := loadSettings("config.yaml")
	if err != nil {
		log.Fatalf("cannot read the settings: %v", err)
	}
	feats, err := loadFeatures("config.json")
	if err != nil {
		log.Fatalf("cannot read the feature flags: %v", err)
	}
	templates, err := template.ParseGlob("templates/*.tmpl")
	if err != nil {
		log.Fatalf("cannot load the templates: %v", err)
	}

	if *test {
		keys := make([]string, 0, len(config.values))
		for key := range config.values {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			fmt.Printf("go-config: setting %s = %s\n", key, config.values[key])
		}
		flags := make([]string, 0, len(feats.Flags))
		for name, on := range feats.Flags {
			flags = append(flags, fmt.Sprintf("%s=%t", name, on))
		}
		sort.Strings(flags)
		fmt.Printf("go-config: flags %s\n", strings.Join(flags, " "))
		for i, channel := range feats.Channels {
			var out bytes.Buffer
			data := notice{Service: config.values["service"], Channel: channel, Count: i + 1}
			if err := templates.ExecuteTemplate(&out, channel+".tmpl", data); err != nil {
				log.Fatalf("cannot render %s: %v", channel, err)
			}
			fmt.Printf("go-config: %s -> %s\n", channel, strings.TrimSpace(out.String()))
		}
		return
	}
	http.HandleFunc("/notify", func(w http.ResponseWriter, r *http.Request) {
		templates.ExecuteTemplate(w, "email.tmpl", notice{Service: config.values["service"], Channel: "email", Count: 1})
	})
	log.Fatal(http.ListenAndServe(":"+config.values["port"], nil))
}
