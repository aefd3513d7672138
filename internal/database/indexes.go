package database

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// EnsureIndexes creates the indexes on coll, one createIndexes command per index, and
// returns the first failure wrapped with the collection's name. Creating an index that
// exists with the same keys and options is a no-op.
//
// Every package creates its indexes through this function rather than CreateMany: embedded
// FerretDB v1.24 panics (and drops the connection) when one createIndexes command names
// several indexes that already exist in a database it reopened, which is exactly what the
// second start of a server does. One index per command works on both backends.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("database: index on %s: %w", coll.Name(), err)
		}
	}
	return nil
}
