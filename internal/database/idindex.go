package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// idExpr is the expression FerretDB v1.24's SQLite backend puts in its WHERE clause when a
// query, update or findAndModify filters on _id alone (backends/sqlite.collection.Query
// and UpdateAll). An index is only used when its expression is written exactly so.
const idExpr = `_ferretdb_sjson->'$._id'`

// IndexIDLookups makes the embedded FerretDB answer a filter on _id alone from an index.
//
// FerretDB v1.24 indexes _id as `_ferretdb_sjson->"_id"` but looks documents up with
// `_ferretdb_sjson->'$._id'`. SQLite does not treat these as the same expression. So
// without this index, every `{_id: x}` find, and the write of every update, scans the
// whole table: 13 ms at 5,000 documents instead of 0.5 ms. IndexIDLookups adds an index
// on the exact expression FerretDB queries to the table of every collection that exists.
// It opens FerretDB's SQLite file beside FerretDB, which SQLite allows (WAL, busy timeout).
// Call it after the collections are created, that is after the indexes are ensured, and
// again now and then for collections created later by their first insert. It is
// idempotent (an index that exists costs nothing) and does nothing on MongoDB. Errors wrap
// the SQLite error.
func (db *DB) IndexIDLookups(ctx context.Context) error {
	if !db.Embedded {
		return nil
	}
	path := filepath.Join(db.sqliteDir, db.Database.Name()+".sqlite")
	sq, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)")
	if err != nil {
		return fmt.Errorf("database: open %s: %w", path, err)
	}
	defer sq.Close()
	tables, err := ferretTables(ctx, sq)
	if err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, t+"_hoctap_id_lookup", t, idExpr)
		if _, err := sq.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("database: index _id lookups of %s: %w", t, err)
		}
	}
	return nil
}

// ferretTables lists the SQLite tables that hold FerretDB collections, from FerretDB's
// own catalogue; an empty database has no catalogue yet and no tables.
func ferretTables(ctx context.Context, sq *sql.DB) ([]string, error) {
	var n int
	if err := sq.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_ferretdb_collections'`).Scan(&n); err != nil {
		return nil, fmt.Errorf("database: read the FerretDB catalogue: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := sq.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return nil, fmt.Errorf("database: read the FerretDB catalogue: %w", err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("database: read the FerretDB catalogue: %w", err)
		}
		tables = append(tables, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("database: read the FerretDB catalogue: %w", err)
	}
	return tables, nil
}

// fewIDs is the most ids FindByIDs reads one by one; more are read with one $in query.
const fewIDs = 16

// FindByIDs returns the documents of coll with the given _ids, decoded as T, in no
// particular order; missing ids are skipped. A few ids are read one by one (FindEachByID);
// more go in one `$in` query, which embedded FerretDB answers by scanning the collection.
// Errors are the driver's.
func FindByIDs[T any](ctx context.Context, coll *mongo.Collection, ids []string) ([]T, error) {
	if len(ids) <= fewIDs {
		return FindEachByID[T](ctx, coll, ids)
	}
	cur, err := coll.Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
	if err != nil {
		return nil, err
	}
	out := []T{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// FindEachByID returns the documents of coll with the given _ids, decoded as T, in the
// order of ids, reading them one by one with a filter on _id alone, which embedded
// FerretDB answers from an index (see IndexIDLookups); repeated and missing ids are
// skipped. It suits a bounded list of ids in a large collection (a learner's progress in
// the lessons of one course), where `$in` would scan everything. Errors are the driver's.
func FindEachByID[T any](ctx context.Context, coll *mongo.Collection, ids []string) ([]T, error) {
	out := make([]T, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		var doc T
		err := coll.FindOne(ctx, bson.M{"_id": id}).Decode(&doc)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
}
