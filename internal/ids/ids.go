// Package ids makes opaque identifiers and secrets.
package ids

import (
	"crypto/rand"
	"encoding/base64"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// New returns a new document id: the hex form of a MongoDB ObjectID, which sorts roughly by
// creation time.
func New() string { return bson.NewObjectID().Hex() }

// Secret returns n random bytes encoded as unpadded URL-safe base64, for tokens and
// passwords that people or programs must carry around.
func Secret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24.
	return base64.RawURLEncoding.EncodeToString(b)
}

// Valid reports whether s looks like an id made by New. Handlers use it to answer 404 for
// malformed ids without a database round trip.
func Valid(s string) bool {
	_, err := bson.ObjectIDFromHex(s)
	return err == nil
}
