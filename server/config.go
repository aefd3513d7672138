package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of the server. Each one is an environment variable with a flag of
// the same meaning (the flag wins); secrets may instead name a file in VAR_FILE, which is
// how Docker and Kubernetes secrets arrive.
type Config struct {
	Addr      string
	PublicURL string
	DataDir   string
	// MediaAddr and MediaPublicURL are where the disk media store serves its signed URLs when
	// no MinIO is configured: on a listener of its own, so that lecture bytes stream through
	// net/http without passing through the API server's memory.
	MediaAddr       string
	MediaPublicURL  string
	LogLevel        string
	ShutdownTimeout time.Duration

	MongoURI      string
	MongoDatabase string

	// NATSURL joins this process's live-session rooms to those of the other server
	// processes through NATS; empty for a single process.
	NATSURL string

	S3Endpoint string
	// S3PublicEndpoint is the host:port browsers reach MinIO at, when it differs from
	// S3Endpoint (inside docker-compose, minio:9000 is not reachable from outside).
	S3PublicEndpoint string
	S3AccessKey      string
	S3SecretKey      string
	S3Bucket         string
	S3UseTLS         bool
	S3Region         string

	// SecretKey signs the disk store's download and upload URLs; when empty one is made
	// on first start and kept in the data directory, so URLs survive a restart.
	SecretKey     string
	AdminPassword string

	SessionTTL              time.Duration
	LoginMaxFailuresPerUser int
	LoginMaxFailuresPerIP   int
	LoginFailureWindow      time.Duration

	MaxBodyMB      int
	MaxJSONKB      int
	MaxUploadMB    int
	TrustedProxies []string
}

// setting describes one configuration value: its environment variable, flag, default,
// documentation and where it goes. The same table drives parsing and the README's table
// (see TestREADMEListsEverySetting).
type setting struct {
	env, flag, def, doc string
	secret              bool
	set                 func(c *Config, v string) error
}

func settings() []setting {
	str := func(dst func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *dst(c) = v; return nil }
	}
	return []setting{
		{"HOCTAP_ADDR", "addr", ":8080", "address the HTTP server listens on", false, str(func(c *Config) *string { return &c.Addr })},
		{"HOCTAP_PUBLIC_URL", "public-url", "http://localhost:8080", "URL people reach Hoctap at; used in links, signed media URLs and the websocket Origin check", false, func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an absolute http(s) URL")
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
		{"HOCTAP_DATA_DIR", "data-dir", "./data", "directory for the embedded database, the disk media store and the generated secret key", false, str(func(c *Config) *string { return &c.DataDir })},
		{"HOCTAP_MEDIA_ADDR", "media-addr", ":8081", "address the disk media store serves uploads and downloads on (only without HOCTAP_S3_ENDPOINT)", false, str(func(c *Config) *string { return &c.MediaAddr })},
		{"HOCTAP_MEDIA_PUBLIC_URL", "media-public-url", "", "URL browsers reach the disk media store at; empty means the host of HOCTAP_PUBLIC_URL with the port of HOCTAP_MEDIA_ADDR", false, func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an absolute http(s) URL")
			}
			c.MediaPublicURL = strings.TrimRight(v, "/")
			return nil
		}},
		{"HOCTAP_LOG_LEVEL", "log-level", "info", "debug, info, warn or error", false, func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return errors.New("must be debug, info, warn or error")
		}},
		{"HOCTAP_SHUTDOWN_TIMEOUT", "shutdown-timeout", "15s", "how long SIGINT/SIGTERM waits for requests in flight", false, duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
		{"HOCTAP_MONGODB_URI", "mongodb-uri", "", "MongoDB connection string; empty runs FerretDB embedded under the data directory", true, str(func(c *Config) *string { return &c.MongoURI })},
		{"HOCTAP_MONGODB_DATABASE", "mongodb-database", "hoctap", "database name", false, str(func(c *Config) *string { return &c.MongoDatabase })},
		{"HOCTAP_NATS_URL", "nats-url", "", "NATS server (nats://host:4222) through which several server processes share live sessions; empty for one process", true, str(func(c *Config) *string { return &c.NATSURL })},
		{"HOCTAP_S3_ENDPOINT", "s3-endpoint", "", "MinIO/S3 host:port; empty stores media on disk under the data directory", false, str(func(c *Config) *string { return &c.S3Endpoint })},
		{"HOCTAP_S3_PUBLIC_ENDPOINT", "s3-public-endpoint", "", "MinIO/S3 host:port that browsers reach for presigned upload and download URLs; empty means HOCTAP_S3_ENDPOINT", false, str(func(c *Config) *string { return &c.S3PublicEndpoint })},
		{"HOCTAP_S3_ACCESS_KEY", "s3-access-key", "", "MinIO/S3 access key", true, str(func(c *Config) *string { return &c.S3AccessKey })},
		{"HOCTAP_S3_SECRET_KEY", "s3-secret-key", "", "MinIO/S3 secret key", true, str(func(c *Config) *string { return &c.S3SecretKey })},
		{"HOCTAP_S3_BUCKET", "s3-bucket", "hoctap", "bucket for lectures and other media (created when missing)", false, str(func(c *Config) *string { return &c.S3Bucket })},
		{"HOCTAP_S3_USE_TLS", "s3-use-tls", "false", "reach MinIO/S3 over HTTPS", false, func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			c.S3UseTLS = b
			if err != nil {
				return errors.New("must be true or false")
			}
			return nil
		}},
		{"HOCTAP_S3_REGION", "s3-region", "", "S3 region, when the server needs one", false, str(func(c *Config) *string { return &c.S3Region })},
		{"HOCTAP_SECRET_KEY", "secret-key", "", "key that signs disk-store media URLs (at least 32 characters); generated and kept in the data directory when empty", true, func(c *Config, v string) error {
			if v != "" && len(v) < 32 {
				return errors.New("must be at least 32 characters")
			}
			c.SecretKey = v
			return nil
		}},
		{"HOCTAP_ADMIN_PASSWORD", "admin-password", "", "password of the admin account made on first start; random and logged once when empty", true, func(c *Config, v string) error {
			if v != "" && len([]rune(v)) < 8 {
				return errors.New("must be at least 8 characters")
			}
			c.AdminPassword = v
			return nil
		}},
		{"HOCTAP_SESSION_TTL", "session-ttl", "12h", "how long a login lasts", false, duration(func(c *Config) *time.Duration { return &c.SessionTTL })},
		{"HOCTAP_LOGIN_MAX_FAILURES_PER_USER", "login-max-failures-per-user", "10", "failed logins for one username within the window before it answers 429", false, positive(func(c *Config) *int { return &c.LoginMaxFailuresPerUser })},
		{"HOCTAP_LOGIN_MAX_FAILURES_PER_IP", "login-max-failures-per-ip", "200", "failed logins from one address within the window before wrong passwords answer 429 (correct ones still pass)", false, positive(func(c *Config) *int { return &c.LoginMaxFailuresPerIP })},
		{"HOCTAP_LOGIN_FAILURE_WINDOW", "login-failure-window", "15m", "the window the two limits above count in", false, duration(func(c *Config) *time.Duration { return &c.LoginFailureWindow })},
		{"HOCTAP_MAX_BODY_MB", "max-body-mb", "16", "largest request body (CSV and question imports); larger answers 413", false, positive(func(c *Config) *int { return &c.MaxBodyMB })},
		{"HOCTAP_MAX_JSON_KB", "max-json-kb", "1024", "largest JSON request body; larger answers 413", false, positive(func(c *Config) *int { return &c.MaxJSONKB })},
		{"HOCTAP_MAX_UPLOAD_MB", "max-upload-mb", "2048", "largest lecture upload", false, positive(func(c *Config) *int { return &c.MaxUploadMB })},
		{"HOCTAP_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses of reverse proxies whose X-Forwarded-For is believed", false, func(c *Config, v string) error {
			c.TrustedProxies = nil
			for p := range strings.SplitSeq(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					c.TrustedProxies = append(c.TrustedProxies, p)
				}
			}
			return nil
		}},
	}
}

func duration(dst func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 30s, 15m or 12h")
		}
		*dst(c) = d
		return nil
	}
}

func positive(dst func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("must be a positive whole number")
		}
		*dst(c) = n
		return nil
	}
}

// LoadConfig reads the settings from flags in args, then the environment through getenv,
// then defaults. It returns an error naming the setting when a value is invalid or a
// secret file cannot be read, and flag.ErrHelp after printing usage for -h.
func LoadConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	fs := flag.NewFlagSet("hoctap", flag.ContinueOnError)
	fs.SetOutput(usage)
	table := settings()
	flags := make([]*string, len(table))
	for i, s := range table {
		flags[i] = fs.String(s.flag, "", fmt.Sprintf("%s (env %s, default %q)", s.doc, s.env, s.def))
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var c Config
	for i, s := range table {
		v, err := lookup(s, *flags[i], getenv)
		if err != nil {
			return Config{}, err
		}
		if err := s.set(&c, v); err != nil {
			return Config{}, fmt.Errorf("setting %s (-%s) = %q: %w", s.env, s.flag, redact(s, v), err)
		}
	}
	if (c.S3Endpoint != "") && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		return Config{}, errors.New("setting HOCTAP_S3_ENDPOINT needs HOCTAP_S3_ACCESS_KEY and HOCTAP_S3_SECRET_KEY")
	}
	if c.MediaPublicURL == "" {
		c.MediaPublicURL = derivedMediaURL(c.PublicURL, c.MediaAddr)
	}
	if c.MaxJSONKB > c.MaxBodyMB*1024 {
		return Config{}, errors.New("setting HOCTAP_MAX_JSON_KB must not exceed HOCTAP_MAX_BODY_MB")
	}
	return c, nil
}

func lookup(s setting, flagValue string, getenv func(string) string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := getenv(s.env); v != "" {
		return v, nil
	}
	if s.secret {
		if path := getenv(s.env + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("setting %s_FILE: %w", s.env, err)
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	return s.def, nil
}

func redact(s setting, v string) string {
	if s.secret {
		return "…"
	}
	return v
}

// derivedMediaURL is the public URL's scheme and host name with the media listener's port.
func derivedMediaURL(publicURL, mediaAddr string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return publicURL
	}
	_, port, err := net.SplitHostPort(mediaAddr)
	if err != nil || port == "" || port == "0" {
		return publicURL
	}
	u.Host = net.JoinHostPort(u.Hostname(), port)
	return strings.TrimRight(u.String(), "/")
}

// Embedded reports whether the database is FerretDB in this process.
func (c Config) Embedded() bool { return c.MongoURI == "" }
