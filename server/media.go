package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/courses"
	"hoctap/media"
)

// openStore returns the media store the configuration names: MinIO when HOCTAP_S3_ENDPOINT
// is set, otherwise the disk store under the data directory (returned a second time, since
// its URLs must then be served by mediaServer).
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (media.Store, *media.DiskStore, error) {
	if cfg.S3Endpoint != "" {
		public := ""
		if cfg.S3PublicEndpoint != "" {
			public = "http://" + cfg.S3PublicEndpoint
			if cfg.S3UseTLS {
				public = "https://" + cfg.S3PublicEndpoint
			}
		}
		st, err := media.NewMinioStore(media.MinioConfig{
			Endpoint: cfg.S3Endpoint, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
			Bucket: cfg.S3Bucket, UseTLS: cfg.S3UseTLS, Region: cfg.S3Region, PublicURL: public,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("setting HOCTAP_S3_ENDPOINT: %w", err)
		}
		if err := st.EnsureBucket(ctx); err != nil {
			// MinIO may come up after Hoctap: serve anyway, /readyz says storage is down, and
			// media requests answer 503 until it is back.
			log.Warn("MinIO is not reachable yet; media requests will fail until it is", "endpoint", cfg.S3Endpoint, "err", err.Error())
		}
		return st, nil, nil
	}
	disk, err := media.NewDiskStore(media.DiskConfig{
		Root: filepath.Join(cfg.DataDir, "media"), PublicBaseURL: cfg.MediaPublicURL,
		Secret: []byte(cfg.SecretKey), Logger: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("setting HOCTAP_DATA_DIR: media store: %w", err)
	}
	return disk, disk, nil
}

// mediaServer serves the disk store's signed URLs on their own listener with net/http, which
// streams request and response bodies; Fiber would hold them in memory.
func mediaServer(disk *media.DiskStore) *http.Server {
	return &http.Server{Handler: disk.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
}

// serveMedia runs srv on ln until it is shut down.
func serveMedia(srv *http.Server, ln net.Listener, log *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("the media server stopped", "err", err.Error())
	}
}

func (s *Server) routeMedia(api fiber.Router) {
	api.Post("/media/uploads", requireAuth, withBody(s, http.StatusCreated, s.media.CreateUpload))
	api.Post("/media/uploads/:upload_id/complete", requireAuth, s.completeUpload)
	api.Get("/media/:id", requireAuth, byID(s.media.GetObject))
}

type completeBody struct {
	Parts []struct {
		Number int    `json:"number"`
		ETag   string `json:"etag"`
	} `json:"parts"`
}

func (s *Server) completeUpload(c *fiber.Ctx) error {
	id, err := idParam(c, "upload_id")
	if err != nil {
		return err
	}
	var b completeBody
	if len(c.Body()) > 0 {
		if err := s.decodeJSON(c, &b); err != nil {
			return err
		}
	}
	parts := make([]media.Part, len(b.Parts))
	for i, p := range b.Parts {
		parts[i] = media.Part{Number: p.Number, ETag: p.ETag}
	}
	obj, err := s.media.CompleteUpload(c.UserContext(), principal(c), id, parts)
	if err != nil {
		return err
	}
	return c.JSON(obj)
}

// mediaCatalog lets courses check a lesson's media_id against the uploads.
type mediaCatalog struct{ m *media.Service }

func (mc mediaCatalog) MediaFile(ctx context.Context, id string) (courses.MediaFile, error) {
	obj, err := mc.m.FindObject(ctx, id)
	if err != nil {
		return courses.MediaFile{}, err
	}
	return courses.MediaFile{ContentType: obj.ContentType, UploaderID: obj.UploaderID, Ready: obj.Status == media.StatusReady}, nil
}
