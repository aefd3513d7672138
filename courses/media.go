package courses

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

// MediaFile is what a lesson needs to know about the file it shows.
type MediaFile struct {
	ContentType string
	UploaderID  string
	Ready       bool
}

// MediaCatalog looks up uploaded files; the media service implements it. It returns an
// error wrapping errs.ErrNotFound for an unknown id.
type MediaCatalog interface {
	MediaFile(ctx context.Context, id string) (MediaFile, error)
}

// SetMediaCatalog plugs in the media service, which lessons check their media_id against.
// Without one, media ids are only checked for shape.
func (s *Service) SetMediaCatalog(m MediaCatalog) { s.media.Store(&m) }

// checkLessonMedia makes sure a lesson's media_id names a finished upload of a type that
// fits the lesson (a video for a video lesson, a PDF for a PDF or slides lesson) and that
// the author may use it: their own upload, or any upload for an admin. Otherwise a lecturer
// could expose someone else's file to their learners by guessing its id. Errors wrap
// errs.ErrInvalid (naming media_id) or errs.ErrUnavailable.
func (s *Service) checkLessonMedia(ctx context.Context, p accounts.Principal, l Lesson) error {
	catalog := s.media.Load()
	if l.MediaID == "" || catalog == nil {
		return nil
	}
	f, err := (*catalog).MediaFile(ctx, l.MediaID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && f.UploaderID != p.User.ID && !p.Has(accounts.RoleAdmin)) {
		return errs.Field("media_id", "no such uploaded file")
	}
	if err != nil {
		return err
	}
	if !f.Ready {
		return errs.Field("media_id", "the file has not finished uploading")
	}
	if !mediaFitsKind(l.Kind, f.ContentType) {
		return errs.Field("media_id", fmt.Sprintf("a %s lesson cannot show a %s file", l.Kind, f.ContentType))
	}
	return nil
}

// mediaFitsKind is the rule of which files each kind of lesson shows.
func mediaFitsKind(k Kind, contentType string) bool {
	switch k {
	case KindVideo:
		return strings.HasPrefix(contentType, "video/")
	case KindPDF, KindSlides:
		return contentType == "application/pdf"
	case KindText:
		return strings.HasPrefix(contentType, "image/") || contentType == "application/pdf"
	}
	return false
}

// MayViewMedia reports whether p may see an uploaded file because a lesson they may open
// uses it: the owner of a course whose outline shows it, a trainer of a class of such a
// course, or a learner enrolled in one. It implements media.Viewers.
func (s *Service) MayViewMedia(ctx context.Context, p accounts.Principal, mediaID string) (bool, error) {
	uses := bson.M{"modules.lessons.media_id": mediaID}
	owned, err := s.db.Collection(CollCourses).CountDocuments(ctx, bson.M{"modules.lessons.media_id": mediaID, "owner_id": p.User.ID}, options.Count().SetLimit(1))
	if err != nil {
		return false, dbErr(err)
	}
	if owned > 0 {
		return true, nil
	}
	// A find rather than distinct: FerretDB answers distinct on a missing collection with a
	// reply the driver cannot decode.
	cur, err := s.db.Collection(CollRevisions).Find(ctx, uses, options.Find().SetProjection(bson.M{"course_id": 1}))
	if err != nil {
		return false, dbErr(err)
	}
	var revs []struct {
		CourseID string `bson:"course_id"`
	}
	if err := cur.All(ctx, &revs); err != nil {
		return false, dbErr(err)
	}
	ids := make([]string, 0, len(revs))
	for _, r := range revs {
		ids = append(ids, r.CourseID)
	}
	if len(ids) == 0 {
		return false, nil
	}
	inCourses := bson.M{"$in": ids}
	teaches, err := s.db.Collection(CollClasses).CountDocuments(ctx, bson.M{"course_id": inCourses, "trainer_ids": p.User.ID}, options.Count().SetLimit(1))
	if err != nil {
		return false, dbErr(err)
	}
	if teaches > 0 {
		return true, nil
	}
	// Through the enrolment cache: every lesson a learner opens asks this, and a count of
	// enrolments scans them all on the embedded database.
	for _, courseID := range ids {
		if learns, err := s.IsEnrolledInCourse(ctx, p.User.ID, courseID); err != nil || learns {
			return learns, err
		}
	}
	return false, nil
}
