package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/internal/clock"
	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
)

// CollMediaObjects holds one document per upload: pending until the browser has sent the
// bytes and the server has checked them, then ready.
const CollMediaObjects = "media_objects"

// Upload states.
const (
	StatusPending = "pending"
	StatusReady   = "ready"
)

// Object is an uploaded file as the API shows it. URL is filled only by GetObject.
type Object struct {
	ID          string     `bson:"_id" json:"id"`
	Key         string     `bson:"key" json:"-"`
	Filename    string     `bson:"filename" json:"filename"`
	ContentType string     `bson:"content_type" json:"content_type"`
	Size        int64      `bson:"size" json:"size"`
	Status      string     `bson:"status" json:"status"`
	UploaderID  string     `bson:"uploader_id" json:"uploader_id"`
	CreatedAt   time.Time  `bson:"created_at" json:"created_at"`
	CompletedAt *time.Time `bson:"completed_at,omitempty" json:"completed_at,omitempty"`
	URL         string     `bson:"-" json:"url,omitempty"`
	URLExpires  *time.Time `bson:"-" json:"url_expires_at,omitempty"`

	// MultipartID is the store's id of a multipart upload while the object is pending.
	MultipartID string `bson:"multipart_id,omitempty" json:"-"`
}

// NewUpload is what a client declares before sending a file.
type NewUpload struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Ticket tells the browser where to send the bytes: one presigned PUT, or, for a large file,
// one presigned PUT per part of PartSize bytes (the last holds the rest), whose ETag
// response headers it hands back to CompleteUpload.
type Ticket struct {
	UploadID  string            `json:"upload_id"`
	Method    string            `json:"method"`
	URL       string            `json:"url,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	PartSize  int64             `json:"part_size,omitempty"`
	Parts     []PartTicket      `json:"parts,omitempty"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// PartTicket is the presigned request for one part of a multipart upload.
type PartTicket struct {
	Number  int               `json:"number"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// Viewers answers whether someone other than the uploader may see an object, because it is
// used by a lesson they may open. The courses service implements it.
type Viewers interface {
	MayViewMedia(ctx context.Context, actor accounts.Principal, mediaID string) (bool, error)
}

// ServiceConfig configures the upload service.
type ServiceConfig struct {
	DB    *mongo.Database
	Store Store
	Now   clock.Clock
	// MaxUploadBytes is the largest file accepted.
	MaxUploadBytes int64
	// UploadExpiry is how long upload URLs stay valid; DownloadExpiry download URLs.
	UploadExpiry, DownloadExpiry time.Duration
	// Viewers may be nil until the courses service is wired: then only uploaders and admins
	// see objects.
	Viewers Viewers
}

// Service records uploads and hands out presigned URLs; the bytes go straight between the
// browser and the store.
type Service struct {
	cfg  ServiceConfig
	coll *mongo.Collection
}

// NewService returns the upload service. Zero expiries take an hour for uploads and two
// hours for downloads (a lecture video must stay seekable while it is watched).
func NewService(cfg ServiceConfig) *Service {
	if cfg.UploadExpiry == 0 {
		cfg.UploadExpiry = time.Hour
	}
	if cfg.DownloadExpiry == 0 {
		cfg.DownloadExpiry = 2 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = clock.System
	}
	return &Service{cfg: cfg, coll: cfg.DB.Collection(CollMediaObjects)}
}

// SetViewers plugs in the courses service, which is built after this one.
func (s *Service) SetViewers(v Viewers) { s.cfg.Viewers = v }

// Store returns the object store behind the service.
func (s *Service) Store() Store { return s.cfg.Store }

// EnsureIndexes creates the indexes of media_objects.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return database.EnsureIndexes(ctx, s.coll,
		mongo.IndexModel{Keys: bson.D{{Key: "uploader_id", Value: 1}, {Key: "created_at", Value: -1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "created_at", Value: 1}}},
	)
}

func mayUpload(p accounts.Principal) bool {
	return p.Has(accounts.RoleLecturer) || p.Has(accounts.RoleTrainer) || p.Has(accounts.RoleAdmin)
}

// CreateUpload records a pending upload and returns where to send it. Only lecturers,
// trainers and admins upload (errs.ErrForbidden). A hostile file name, a type that is not a
// lecture type or a size that is not positive is errs.ErrInvalid; a size over the limit is
// errs.ErrTooLarge; an unreachable store is errs.ErrUnavailable. Nothing is stored on error.
func (s *Service) CreateUpload(ctx context.Context, actor accounts.Principal, in NewUpload) (Ticket, error) {
	if !mayUpload(actor) {
		return Ticket{}, fmt.Errorf("media: only lecturers, trainers and admins upload: %w", errs.ErrForbidden)
	}
	var fields errs.Fields
	name, err := SanitizeFilename(in.Filename)
	if err != nil {
		fields.Add("filename", err.Error())
	}
	fields.Check(!IsAllowedLectureType(in.ContentType), "content_type", "must be one of "+fmt.Sprint(AllowedLectureTypes()))
	fields.Check(in.Size <= 0, "size", "must be a positive number of bytes")
	if err := fields.Err(); err != nil {
		return Ticket{}, err
	}
	if in.Size > s.cfg.MaxUploadBytes {
		return Ticket{}, fmt.Errorf("media: %d bytes is over the %d MB limit: %w", in.Size, s.cfg.MaxUploadBytes>>20, errs.ErrTooLarge)
	}
	obj := Object{
		ID: ids.New(), Filename: name, ContentType: in.ContentType, Size: in.Size,
		Status: StatusPending, UploaderID: actor.User.ID, CreatedAt: s.cfg.Now(),
	}
	obj.Key = "lectures/" + obj.CreatedAt.Format("2006/01") + "/" + obj.ID
	// Presigning needs no network, so ask the store first: a browser must not be sent to
	// a storage server that is down.
	if err := s.cfg.Store.Ping(ctx); err != nil {
		return Ticket{}, err
	}
	ticket, err := s.presignUpload(ctx, &obj)
	if err != nil {
		return Ticket{}, err
	}
	if _, err := s.coll.InsertOne(ctx, obj); err != nil {
		// Nothing was sent yet; the only thing to undo is a multipart upload just opened.
		return Ticket{}, errors.Join(dbErr(err), s.discard(context.WithoutCancel(ctx), obj))
	}
	return ticket, nil
}

func (s *Service) presignUpload(ctx context.Context, obj *Object) (Ticket, error) {
	st := s.cfg.Store
	t := Ticket{UploadID: obj.ID, Method: "PUT", ExpiresAt: s.cfg.Now().Add(s.cfg.UploadExpiry)}
	if obj.Size <= SinglePutLimit {
		req, err := st.PresignPut(ctx, obj.Key, PutOptions{ContentType: obj.ContentType, MaxSize: obj.Size, Expiry: s.cfg.UploadExpiry})
		if err != nil {
			return Ticket{}, err
		}
		t.URL, t.Headers = req.URL, req.Headers
		return t, nil
	}
	partSize, count, err := PlanParts(obj.Size)
	if err != nil {
		return Ticket{}, err
	}
	uploadID, err := st.CreateMultipartUpload(ctx, obj.Key, MultipartOptions{ContentType: obj.ContentType, MaxSize: obj.Size})
	if err != nil {
		return Ticket{}, err
	}
	obj.MultipartID = uploadID
	t.PartSize = partSize
	for n := 1; n <= count; n++ {
		req, err := st.PresignPart(ctx, obj.Key, uploadID, n, s.cfg.UploadExpiry)
		if err != nil {
			_ = st.AbortMultipartUpload(context.WithoutCancel(ctx), obj.Key, uploadID)
			return Ticket{}, err
		}
		t.Parts = append(t.Parts, PartTicket{Number: n, URL: req.URL, Headers: req.Headers})
	}
	return t, nil
}

// CompleteUpload checks what the browser stored (size and sniffed type, never the client's
// word) and makes the object ready. Only the uploader completes (errs.ErrNotFound for
// anyone else). parts are required for a multipart upload. A rejected file is deleted from
// the store and its record removed, and the error says why (errs.ErrInvalid or
// errs.ErrTooLarge). Completing a ready object again returns it unchanged, and so does
// completing again a multipart upload whose store completion succeeded but whose record a
// crash left pending. A multipart upload the store aborted is errs.ErrConflict; its record
// stays pending until PurgeAbandonedUploads.
func (s *Service) CompleteUpload(ctx context.Context, actor accounts.Principal, uploadID string, parts []Part) (Object, error) {
	obj, err := s.find(ctx, uploadID)
	if err != nil || obj.UploaderID != actor.User.ID {
		return Object{}, fmt.Errorf("media: upload %s: %w", uploadID, errs.ErrNotFound)
	}
	if obj.Status == StatusReady {
		return obj, nil
	}
	st := s.cfg.Store
	if obj.MultipartID != "" {
		if len(parts) == 0 {
			return Object{}, errs.Field("parts", "a multipart upload needs the number and ETag of every part")
		}
		if _, err := st.CompleteMultipartUpload(ctx, obj.Key, obj.MultipartID, parts); errors.Is(err, errs.ErrNotFound) {
			// The store no longer knows the upload. A request that completed it may have
			// died before recording so: then the object is there, and is checked below like
			// any other. Otherwise the upload was aborted or purged.
			if _, serr := st.Stat(ctx, obj.Key); errors.Is(serr, errs.ErrNotFound) {
				return Object{}, fmt.Errorf("media: upload %s is no longer open: send the file again in a new upload: %w", uploadID, errs.ErrConflict)
			}
		} else if err != nil {
			return Object{}, err
		}
	}
	info, err := st.Stat(ctx, obj.Key)
	if errors.Is(err, errs.ErrNotFound) {
		return Object{}, errs.Invalid("the file has not been uploaded yet: send it to the upload URL first", nil)
	}
	if err != nil {
		return Object{}, err
	}
	head, err := readHead(ctx, st, obj.Key)
	if err != nil {
		return Object{}, err
	}
	contentType, checkErr := CheckUploaded(info, head, obj.Filename, obj.Size, s.cfg.MaxUploadBytes, AllowedLectureTypes())
	if checkErr != nil {
		// If the bytes cannot be deleted now, the pending record stays, and the purge of
		// abandoned uploads deletes them later: no object is left without a record.
		if err := s.discard(context.WithoutCancel(ctx), obj); err != nil {
			return Object{}, errors.Join(checkErr, err)
		}
		return Object{}, checkErr
	}
	now := s.cfg.Now()
	var done Object
	err = s.coll.FindOneAndUpdate(ctx,
		bson.M{"_id": obj.ID, "status": StatusPending},
		bson.M{"$set": bson.M{"status": StatusReady, "content_type": contentType, "size": info.Size, "completed_at": now},
			"$unset": bson.M{"multipart_id": ""}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&done)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return s.find(ctx, obj.ID) // completed by a racing request
	}
	if err != nil {
		return Object{}, dbErr(err)
	}
	return done, nil
}

func readHead(ctx context.Context, st Store, key string) ([]byte, error) {
	r, err := st.ReadRange(ctx, key, 0, SniffLength)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	head, err := io.ReadAll(io.LimitReader(r, SniffLength))
	if err != nil {
		return nil, fmt.Errorf("media: reading the start of %s: %w", key, errs.ErrUnavailable)
	}
	return head, nil
}

// discard removes a rejected or abandoned upload from the store, then its record. The
// record goes only once the bytes are gone, so a failure can be retried by the purge.
func (s *Service) discard(ctx context.Context, obj Object) error {
	if obj.MultipartID != "" {
		if err := s.cfg.Store.AbortMultipartUpload(ctx, obj.Key, obj.MultipartID); err != nil {
			return err
		}
	}
	if err := s.cfg.Store.Delete(ctx, obj.Key); err != nil {
		return err
	}
	if _, err := s.coll.DeleteOne(ctx, bson.M{"_id": obj.ID}); err != nil {
		return dbErr(err)
	}
	return nil
}

// GetObject returns a ready object with a short-lived download URL that supports HTTP Range.
// The uploader, admins, and whoever may open a lesson that uses the object may see it;
// anyone else gets errs.ErrNotFound, as for an object that does not exist.
func (s *Service) GetObject(ctx context.Context, actor accounts.Principal, id string) (Object, error) {
	obj, err := s.find(ctx, id)
	if err != nil {
		return Object{}, err
	}
	if err := s.checkViewer(ctx, actor, obj); err != nil {
		return Object{}, err
	}
	if obj.Status != StatusReady {
		return Object{}, fmt.Errorf("media: %s is still being uploaded: %w", id, errs.ErrConflict)
	}
	if err := s.cfg.Store.Ping(ctx); err != nil {
		return Object{}, err
	}
	req, err := s.cfg.Store.PresignGet(ctx, obj.Key, GetOptions{Expiry: s.cfg.DownloadExpiry, Filename: obj.Filename, Inline: true})
	if err != nil {
		return Object{}, err
	}
	obj.URL = req.URL
	obj.URLExpires = &req.Expires
	return obj, nil
}

func (s *Service) checkViewer(ctx context.Context, actor accounts.Principal, obj Object) error {
	if obj.UploaderID == actor.User.ID || actor.Has(accounts.RoleAdmin) {
		return nil
	}
	if s.cfg.Viewers != nil {
		ok, err := s.cfg.Viewers.MayViewMedia(ctx, actor, obj.ID)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("media: %s: %w", obj.ID, errs.ErrNotFound)
}

// FindObject returns an object without checking who asks, for other services (a lesson
// checks that its media exists and is ready). errs.ErrNotFound when there is none.
func (s *Service) FindObject(ctx context.Context, id string) (Object, error) { return s.find(ctx, id) }

func (s *Service) find(ctx context.Context, id string) (Object, error) {
	if !ids.Valid(id) {
		return Object{}, fmt.Errorf("media: %q: %w", id, errs.ErrNotFound)
	}
	var obj Object
	err := s.coll.FindOne(ctx, bson.M{"_id": id}).Decode(&obj)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Object{}, fmt.Errorf("media: %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Object{}, dbErr(err)
	}
	return obj, nil
}

// staleCleaner is a store that keeps debris of its own to clear now and then: the disk
// store's multipart uploads without a record and temporary files a crash left.
type staleCleaner interface {
	RemoveStaleUploads(olderThan time.Time) (int, error)
}

// PurgeAbandonedUploads removes uploads still pending after olderThan, with whatever bytes
// reached the store, and returns how many it removed; the uploads it could not remove stay
// for the next run, and their errors come back joined. A store that keeps debris of its
// own (the disk store) is then cleared of what is older than olderThan too.
func (s *Service) PurgeAbandonedUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	cur, err := s.coll.Find(ctx, bson.M{"status": StatusPending, "created_at": bson.M{"$lt": s.cfg.Now().Add(-olderThan)}})
	if err != nil {
		return 0, dbErr(err)
	}
	var stale []Object
	if err := cur.All(ctx, &stale); err != nil {
		return 0, dbErr(err)
	}
	removed := 0
	var failed []error
	for _, obj := range stale {
		if err := s.discard(ctx, obj); err != nil {
			failed = append(failed, err)
			continue
		}
		removed++
	}
	if c, ok := s.cfg.Store.(staleCleaner); ok {
		if _, err := c.RemoveStaleUploads(s.cfg.Now().Add(-olderThan)); err != nil {
			failed = append(failed, err)
		}
	}
	return removed, errors.Join(failed...)
}

func dbErr(err error) error {
	if database.IsUnavailable(err) {
		return fmt.Errorf("media: database: %v: %w", err, errs.ErrUnavailable)
	}
	return fmt.Errorf("media: database: %w", err)
}
