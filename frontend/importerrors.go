package frontend

import "hoctap/assessment/importer"

// importErrorPrefix starts the catalogue key of each importer problem code
// (importer.Codes); TestImporterCodesHaveMessages keeps every code in both catalogues.
const importErrorPrefix = "qimport."

// ImportError is a question import's line error in the page's language, from its code
// and args. An error without a code the catalogues know (a newer server, an old result)
// shows its English message rather than nothing.
func (v *view) ImportError(e importer.LineError) string {
	key := importErrorPrefix + string(e.Code)
	if e.Code == "" || !v.f.msgs.has(key) || len(e.Args) != importer.ArgCount(e.Code) {
		return e.Message
	}
	args := make([]any, len(e.Args))
	for i, a := range e.Args {
		args[i] = a
	}
	return v.T(key, args...)
}
