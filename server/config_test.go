package server

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig(nil, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || !c.Embedded() || c.S3Endpoint != "" ||
		c.SessionTTL != 12*time.Hour || c.MaxUploadMB != 2048 || c.PublicURL != "http://localhost:8080" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadConfigFlagBeatsEnvAndSecretsFromFiles(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(secret, []byte("from-a-file-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig([]string{"-addr", ":9090"}, envOf(map[string]string{
		"HOCTAP_ADDR": ":7070", "HOCTAP_ADMIN_PASSWORD_FILE": secret, "HOCTAP_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9090" || c.AdminPassword != "from-a-file-123" || !slices.Equal(c.TrustedProxies, []string{"10.0.0.1", "10.0.0.2"}) {
		t.Fatalf("got %+v", c)
	}
}

func TestLoadConfigNamesTheBadSetting(t *testing.T) {
	tests := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"HOCTAP_SESSION_TTL": "forever"}, nil, "HOCTAP_SESSION_TTL"},
		{map[string]string{"HOCTAP_MAX_UPLOAD_MB": "-1"}, nil, "HOCTAP_MAX_UPLOAD_MB"},
		{map[string]string{"HOCTAP_PUBLIC_URL": "localhost"}, nil, "HOCTAP_PUBLIC_URL"},
		{map[string]string{"HOCTAP_S3_USE_TLS": "maybe"}, nil, "HOCTAP_S3_USE_TLS"},
		{map[string]string{"HOCTAP_LOG_LEVEL": "loud"}, nil, "HOCTAP_LOG_LEVEL"},
		{map[string]string{"HOCTAP_SECRET_KEY": "short"}, nil, "HOCTAP_SECRET_KEY"},
		{map[string]string{"HOCTAP_ADMIN_PASSWORD": "short"}, nil, "HOCTAP_ADMIN_PASSWORD"},
		{map[string]string{"HOCTAP_ADMIN_PASSWORD_FILE": "/does/not/exist"}, nil, "HOCTAP_ADMIN_PASSWORD_FILE"},
		{map[string]string{"HOCTAP_S3_ENDPOINT": "localhost:9000"}, nil, "HOCTAP_S3_ACCESS_KEY"},
		{nil, []string{"-login-max-failures-per-ip", "0"}, "HOCTAP_LOGIN_MAX_FAILURES_PER_IP"},
		{nil, []string{"stray"}, "stray"},
	}
	for _, tt := range tests {
		_, err := LoadConfig(tt.args, envOf(tt.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("env %v args %v: err %v, want it to name %s", tt.env, tt.args, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "short") && strings.Contains(tt.want, "PASSWORD") {
			t.Errorf("the error repeats a secret: %v", err)
		}
	}
}

// settingsTable renders the README's configuration table from the settings table.
func settingsTable() []string {
	var rows []string
	for _, s := range settings() {
		name := "`" + s.env + "`"
		if s.secret {
			name += " (also `" + s.env + "_FILE`)"
		}
		def := "—"
		if s.def != "" {
			def = "`" + s.def + "`"
		}
		rows = append(rows, fmt.Sprintf("| %s | `-%s` | %s | %s |", name, s.flag, def, strings.ReplaceAll(s.doc, "|", `\|`)))
	}
	return rows
}

// TestREADMEListsEverySetting keeps the README's table equal to the settings; run it with
// HOCTAP_UPDATE_README=1 to rewrite the table after adding a setting.
func TestREADMEListsEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out, table []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "| `HOCTAP_") {
			if table == nil {
				table = settingsTable()
				out = append(out, table...)
			}
			continue
		}
		out = append(out, line)
	}
	if table == nil {
		t.Fatal("README.md has no configuration table (rows starting with | `HOCTAP_)")
	}
	updated := strings.Join(out, "\n")
	if updated == string(raw) {
		return
	}
	if os.Getenv("HOCTAP_UPDATE_README") == "1" {
		if err := os.WriteFile("../README.md", []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("README.md's configuration table differs from the settings; run HOCTAP_UPDATE_README=1 go test ./server -run TestREADMEListsEverySetting")
}

func TestDockerComposeWiresTheServer(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck map[string]any    `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mongo", "minio", "hoctap"} {
		if _, ok := compose.Services[name]; !ok {
			t.Fatalf("docker-compose.yml has no %s service", name)
		}
	}
	mongo := compose.Services["mongo"]
	if !strings.HasPrefix(mongo.Image, "mongo:8") || !slices.Contains(mongo.Command, "--replSet") || mongo.Healthcheck == nil {
		t.Errorf("mongo must be MongoDB 8 as a replica set with a health check: %+v", mongo)
	}
	hoctap := compose.Services["hoctap"]
	if hoctap.Build == nil {
		t.Error("hoctap must be built from the Dockerfile")
	}
	known := map[string]bool{}
	for _, s := range settings() {
		known[s.env] = true
	}
	for k := range hoctap.Environment {
		if !known[k] {
			t.Errorf("hoctap's environment sets %s, which the server does not read", k)
		}
	}
	for _, k := range []string{"HOCTAP_MONGODB_URI", "HOCTAP_S3_ENDPOINT", "HOCTAP_S3_ACCESS_KEY", "HOCTAP_S3_SECRET_KEY",
		"HOCTAP_S3_BUCKET", "HOCTAP_DATA_DIR", "HOCTAP_PUBLIC_URL", "HOCTAP_SECRET_KEY"} {
		if _, ok := hoctap.Environment[k]; !ok {
			t.Errorf("hoctap's environment lacks %s", k)
		}
	}
	if !strings.Contains(hoctap.Environment["HOCTAP_MONGODB_URI"], "mongo:27017") {
		t.Errorf("HOCTAP_MONGODB_URI does not point at the mongo service: %q", hoctap.Environment["HOCTAP_MONGODB_URI"])
	}
	if !strings.HasPrefix(hoctap.Environment["HOCTAP_S3_ENDPOINT"], "minio:") {
		t.Errorf("HOCTAP_S3_ENDPOINT does not point at the minio service")
	}
}
