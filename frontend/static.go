package frontend

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var staticFiles embed.FS

// staticFile is one embedded asset, with its gzipped form when that is smaller.
type staticFile struct {
	body, gz    []byte
	contentType string
	hash        string // first 12 hex digits of the SHA-256, the cache-busting version
}

func loadStatic() (map[string]staticFile, error) {
	out := map[string]staticFile{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js", ".mjs":
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case ".svg":
			ct = "image/svg+xml"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		f := staticFile{body: body, contentType: ct, hash: hex.EncodeToString(sum[:6])}
		if strings.HasPrefix(ct, "text/") || ct == "image/svg+xml" {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if buf.Len() < len(body) {
				f.gz = buf.Bytes()
			}
		}
		out[strings.TrimPrefix(p, "static/")] = f
		return nil
	})
	return out, err
}

// staticURL is the versioned URL of an asset; a changed file gets a new URL, so browsers
// may keep each version for a year.
func (f *Frontend) staticURL(name string) string {
	s, ok := f.static[name]
	if !ok {
		panic("frontend: no static file " + name)
	}
	return "/static/" + name + "?v=" + s.hash
}

// serveStatic answers GET /static/<name>. Requests carrying the current version are
// cached for a year; others revalidate by ETag.
func (f *Frontend) serveStatic(c *fiber.Ctx) error {
	s, ok := f.static[c.Params("*")]
	if !ok {
		return fiber.ErrNotFound
	}
	etag := `"` + s.hash + `"`
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if c.Query("v") == s.hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, max-age=0, must-revalidate")
	}
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		return c.SendStatus(http.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, s.contentType)
	if s.gz != nil && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(s.gz)
	}
	return c.Send(s.body)
}
