// Package internal holds the shared plumbing that every domain package may use and that
// carries no business rules of its own: see its sub-packages.
//
//   - errs: the error vocabulary (invalid, not found, conflict, …) that the HTTP edge maps
//     to status codes.
//   - database: the MongoDB connection, either to a server or to FerretDB embedded in-process.
//   - dbtest: a fresh database for each test, embedded or on HOCTAP_TEST_MONGODB_URI.
//   - textfold: Vietnamese text folding for diacritic-insensitive search.
//   - ids: opaque random identifiers and secrets.
//   - clock: the injectable time source.
package internal
