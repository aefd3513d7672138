package accounts

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/text/encoding/unicode"

	"hoctap/internal/database"
	"hoctap/internal/errs"
	"hoctap/internal/ids"
	"hoctap/internal/textfold"
)

// Import limits: a province's whole staff list fits well inside them.
const (
	MaxImportRows  = 50_000
	MaxImportBytes = 32 << 20
)

// Import column names (canonical, after header normalisation).
const (
	ColUsername = "username"
	ColFullName = "full_name"
	ColUnitCode = "unit_code"
	ColPosition = "position"
	ColEmail    = "email"
	ColPassword = "password"
	ColRoles    = "roles"
)

var requiredColumns = []string{ColUsername, ColFullName, ColUnitCode}

// columnAliases maps normalised header names to canonical columns, so the Vietnamese
// headers personnel offices actually use are understood too.
var columnAliases = map[string]string{
	"username": ColUsername, "user_name": ColUsername, "login": ColUsername, "ten_dang_nhap": ColUsername, "tai_khoan": ColUsername,
	"full_name": ColFullName, "fullname": ColFullName, "name": ColFullName, "ho_ten": ColFullName, "ho_va_ten": ColFullName,
	"unit_code": ColUnitCode, "unit": ColUnitCode, "ma_don_vi": ColUnitCode, "don_vi": ColUnitCode,
	"position": ColPosition, "chuc_vu": ColPosition,
	"email": ColEmail, "e_mail": ColEmail, "thu_dien_tu": ColEmail,
	"password": ColPassword, "mat_khau": ColPassword,
	"roles": ColRoles, "role": ColRoles, "vai_tro": ColRoles,
}

// ImportFile is a parsed staff list: the recognised columns present and the data rows.
type ImportFile struct {
	Columns []string
	Rows    []ImportRow
}

// Has reports whether the file has column col.
func (f ImportFile) Has(col string) bool { return slices.Contains(f.Columns, col) }

// ImportRow is one data line of a staff list, cells trimmed. Problem is set when the line
// itself is malformed (more cells than the header has columns).
type ImportRow struct {
	Line     int
	Username string
	FullName string
	UnitCode string
	Position string
	Email    string
	Password string
	Roles    string
	Problem  string
}

// ImportResult reports an import: how many users were created and updated, the lines that
// were skipped and why, and the random passwords given to created users whose line had
// none (shown once to the importing administrator, never stored in clear).
type ImportResult struct {
	Created            int                 `json:"created"`
	Updated            int                 `json:"updated"`
	Errors             []ImportError       `json:"errors"`
	GeneratedPasswords []GeneratedPassword `json:"generated_passwords,omitempty"`
}

// ImportError is one skipped line.
type ImportError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// GeneratedPassword is the initial password given to a user created by an import.
type GeneratedPassword struct {
	Line     int    `json:"line"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// ParseUserCSV reads a staff list: UTF-8 with or without a byte-order mark (or UTF-16 with
// one, as Excel's "Unicode text" saves), cells separated by ';', ',' or tab as the header
// line shows, any line endings. Columns are found by header name (English or the usual
// Vietnamese ones); unknown columns are ignored. Line numbers count from the header as 1.
// It returns errs.ErrTooLarge past MaxImportBytes or MaxImportRows, and an invalid error
// naming the line for an empty file, broken quoting, text that is not UTF-8, or a header
// without username, full_name and unit_code.
func ParseUserCSV(r io.Reader) (ImportFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return ImportFile{}, fmt.Errorf("accounts: read the import file: %w", err)
	}
	if len(data) > MaxImportBytes {
		return ImportFile{}, fmt.Errorf("the file is larger than %d MiB: %w", MaxImportBytes>>20, errs.ErrTooLarge)
	}
	if data, err = decodeText(data); err != nil {
		return ImportFile{}, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return ImportFile{}, errs.Invalid("the file is empty", map[string]string{"file": "is empty"})
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte{'\n'})
		msg := fmt.Sprintf("line %d: the file is not UTF-8 text; save it as \"CSV UTF-8\"", line)
		return ImportFile{}, errs.Invalid(msg, map[string]string{"file": msg})
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = detectComma(data)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return ImportFile{}, csvError(err)
	}
	colIndex := map[string]int{}
	var file ImportFile
	for i, h := range header {
		name := normalizeHeader(h)
		col, ok := columnAliases[name]
		if !ok {
			continue
		}
		if _, dup := colIndex[col]; dup {
			msg := fmt.Sprintf("line 1: the column %s appears twice", col)
			return ImportFile{}, errs.Invalid(msg, map[string]string{"file": msg})
		}
		colIndex[col] = i
		file.Columns = append(file.Columns, col)
	}
	var missing []string
	for _, col := range requiredColumns {
		if _, ok := colIndex[col]; !ok {
			missing = append(missing, col)
		}
	}
	if len(missing) > 0 {
		msg := "line 1: the header lacks the column(s) " + strings.Join(missing, ", ") +
			"; expected username, full_name, unit_code, position, email, password, roles"
		return ImportFile{}, errs.Invalid(msg, map[string]string{"file": msg})
	}
	cell := func(rec []string, col string) string {
		i, ok := colIndex[col]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ImportFile{}, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if !slices.ContainsFunc(rec, func(c string) bool { return strings.TrimSpace(c) != "" }) {
			continue // a blank line, or one of only separators as spreadsheets write them
		}
		if len(file.Rows) == MaxImportRows {
			return ImportFile{}, fmt.Errorf("the file has more than %d rows: %w", MaxImportRows, errs.ErrTooLarge)
		}
		row := ImportRow{
			Line: line, Username: cell(rec, ColUsername), FullName: cell(rec, ColFullName),
			UnitCode: cell(rec, ColUnitCode), Position: cell(rec, ColPosition), Email: cell(rec, ColEmail),
			Password: cell(rec, ColPassword), Roles: cell(rec, ColRoles),
		}
		if len(rec) > len(header) && slices.ContainsFunc(rec[len(header):], func(c string) bool { return strings.TrimSpace(c) != "" }) {
			row.Problem = fmt.Sprintf("the line has %d cells but the header only %d columns", len(rec), len(header))
		}
		file.Rows = append(file.Rows, row)
	}
	return file, nil
}

// decodeText strips a UTF-8 byte-order mark and converts UTF-16 (recognised by its mark)
// to UTF-8.
func decodeText(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, errs.Invalid("the file is not valid UTF-16 text", map[string]string{"file": "is not valid UTF-16 text"})
		}
		return out, nil
	}
	return data, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// detectComma picks the separator that occurs most often outside quotes in the header
// line: ';' (what Excel writes in locales with a decimal comma), ',' or tab.
func detectComma(data []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range data {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if !quoted && (c == '\n' || c == '\r') {
			break
		}
		if !quoted {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// normalizeHeader turns "Họ và tên", "Full Name" or "full-name" into "ho_va_ten",
// "full_name", "full_name".
func normalizeHeader(h string) string {
	h = textfold.Fold(strings.TrimPrefix(h, "\uFEFF"))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' {
			return '_'
		}
		return r
	}, h)
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := fmt.Sprintf("line %d: the file is not valid CSV (%v)", pe.StartLine, pe.Err)
		if pe.Line != pe.StartLine {
			msg = fmt.Sprintf("line %d: the file is not valid CSV (%v, found on line %d; is a quote not closed?)",
				pe.StartLine, pe.Err, pe.Line)
		}
		return errs.Invalid(msg, map[string]string{"file": msg})
	}
	return errs.Invalid("the file is not valid CSV: "+err.Error(), map[string]string{"file": err.Error()})
}

// importOp is one validated line waiting to be written.
type importOp struct {
	line     int
	create   bool
	user     User   // the full document to insert, or the target being updated
	password string // clear password of a created user, hashed before writing
	given    bool   // the password came from the file
	set      bson.M
	unset    bson.M
}

// ImportUsers creates and updates users from a staff list (see ParseUserCSV for the
// format). A line whose username exists updates that user's full name, unit, and, where
// the columns are present, position, e-mail and roles (never the password); a new
// username creates an active user with the line's password or a random one (reported in
// GeneratedPasswords). Bad lines (invalid username, unknown unit code, a unit or user
// outside the actor's scope, bad roles, a short password, a repeated username) are
// reported by line and skipped; the other lines are applied. A file that cannot be parsed
// at all stores nothing and returns the invalid error of ParseUserCSV (or errs.ErrTooLarge).
// Only admins and unit_admins may import (errs.ErrForbidden).
func (s *Service) ImportUsers(ctx context.Context, actor Principal, r io.Reader) (ImportResult, error) {
	if !actor.Has(RoleAdmin) && !actor.Has(RoleUnitAdmin) {
		return ImportResult{}, fmt.Errorf("only administrators may import users: %w", errs.ErrForbidden)
	}
	file, err := ParseUserCSV(r)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Errors: []ImportError{}}
	fail := func(line int, msg string) { res.Errors = append(res.Errors, ImportError{Line: line, Message: msg}) }

	// Look up every unit code and existing username in a few queries.
	var codes, names []string
	for _, row := range file.Rows {
		if row.UnitCode != "" {
			codes = append(codes, row.UnitCode)
		}
		if n, err := NormalizeUsername(row.Username); err == nil {
			names = append(names, n)
		}
	}
	byCode, err := s.unitsByCode(ctx, codes)
	if err != nil {
		return ImportResult{}, err
	}
	existing, err := s.usersByUsername(ctx, names)
	if err != nil {
		return ImportResult{}, err
	}
	// The current units of existing users, for the scope check of unit_admins.
	units := map[string]Unit{}
	for _, u := range byCode {
		units[u.ID] = u
	}
	var more []string
	for _, u := range existing {
		for _, id := range append([]string{u.UnitID}, u.AdminUnitIDs...) {
			if _, ok := units[id]; !ok && id != "" {
				more = append(more, id)
			}
		}
	}
	extra, err := s.unitsByID(ctx, more...)
	if err != nil {
		return ImportResult{}, err
	}
	for id, u := range extra {
		units[id] = u
	}

	now := s.now()
	seen := map[string]int{}
	var ops []importOp
	for _, row := range file.Rows {
		op, msg := s.planImportRow(actor.User, file, row, byCode, existing, units, seen, now)
		if msg != "" {
			fail(row.Line, msg)
			continue
		}
		ops = append(ops, op)
	}
	if err := s.hashImportPasswords(ctx, ops); err != nil {
		return ImportResult{}, err
	}
	failed, err := s.writeImport(ctx, ops)
	var touched []string // units of the users created or updated, for the audit entry
	for i, op := range ops {
		msg, bad := failed[i]
		if !bad {
			touched = append(touched, op.user.UnitID)
			if id, ok := op.set["unit_id"].(string); ok {
				touched = append(touched, id)
			}
		}
		switch {
		case bad:
			fail(op.line, msg)
		case op.create:
			res.Created++
			if !op.given {
				res.GeneratedPasswords = append(res.GeneratedPasswords,
					GeneratedPassword{Line: op.line, Username: op.user.Username, Password: op.password})
			}
		default:
			res.Updated++
			s.cache.removeUser(op.user.ID)
		}
	}
	if res.Created+res.Updated > 0 {
		// Recorded also when writing failed part-way: what was written is done.
		if rerr := s.record(ctx, importEntry(actor.AuditActor(), ids.New(), res, nonEmpty(touched...))); rerr != nil {
			return res, errors.Join(err, rerr)
		}
	}
	if err != nil {
		return res, err
	}
	slices.SortStableFunc(res.Errors, func(a, b ImportError) int { return a.Line - b.Line })
	return res, nil
}

// planImportRow validates one line and turns it into a create or an update; it returns a
// message instead when the line must be skipped.
func (s *Service) planImportRow(actor User, file ImportFile, row ImportRow, byCode map[string]Unit,
	existing map[string]User, units map[string]Unit, seen map[string]int, now time.Time) (importOp, string) {
	if row.Problem != "" {
		return importOp{}, row.Problem
	}
	username, err := NormalizeUsername(row.Username)
	if err != nil {
		return importOp{}, "username: " + fieldReason(err, "username")
	}
	if first, dup := seen[username]; dup {
		return importOp{}, fmt.Sprintf("the username %s already appears on line %d", username, first)
	}
	seen[username] = row.Line
	var f errs.Fields
	fullName := cleanText(&f, "full_name", row.FullName, true, maxNameLen)
	position := cleanText(&f, "position", row.Position, false, maxPositionLen)
	email := cleanEmail(&f, row.Email)
	var roles []Role
	if row.Roles != "" {
		if roles, err = parseRoles(row.Roles); err != nil {
			f.Add("roles", fieldReason(err, "roles"))
		}
	}
	if row.Password != "" {
		if err := CheckPassword(row.Password); err != nil {
			f.Add("password", fieldReason(err, "password"))
		}
	}
	if len(f) > 0 {
		return importOp{}, fieldsMessage(f)
	}
	if row.UnitCode == "" {
		return importOp{}, "unit_code: is required"
	}
	unit, ok := byCode[row.UnitCode]
	if !ok {
		return importOp{}, fmt.Sprintf("unit_code: no unit has the code %s", quote(row.UnitCode))
	}

	old, exists := existing[username]
	if !exists {
		if roles == nil {
			roles = []Role{RoleLearner}
		}
		u := User{
			ID: ids.New(), Username: username, FullName: fullName, Email: email, UnitID: unit.ID,
			Position: position, Roles: roles, Active: true, Language: "vi", CreatedAt: now, UpdatedAt: now,
			NameFold: nameFold(fullName, username),
		}
		if err := checkGrant(actor, u, units); err != nil {
			return importOp{}, strings.TrimSuffix(err.Error(), ": "+errs.ErrForbidden.Error())
		}
		op := importOp{line: row.Line, create: true, user: u, password: row.Password, given: row.Password != ""}
		if !op.given {
			op.password = ids.Secret(generatedPasswordBytes)
		}
		return op, ""
	}
	if !CanAdminister(actor, old, units) {
		return importOp{}, fmt.Sprintf("you may not change the existing user %s", username)
	}
	next := old
	next.FullName, next.UnitID = fullName, unit.ID
	set := bson.M{"full_name": fullName, "name_fold": nameFold(fullName, username), "unit_id": unit.ID, "updated_at": now}
	unset := bson.M{}
	if file.Has(ColPosition) {
		next.Position = position
		set["position"] = position
	}
	if file.Has(ColEmail) {
		next.Email = email
		if email == "" {
			unset["email"] = ""
		} else {
			set["email"] = email
		}
	}
	if roles != nil {
		next.Roles = roles
		set["roles"] = roles
		if !next.Has(RoleUnitAdmin) && len(old.AdminUnitIDs) > 0 {
			next.AdminUnitIDs = nil
			unset["admin_unit_ids"] = ""
		}
	}
	if err := checkGrant(actor, next, units); err != nil {
		return importOp{}, strings.TrimSuffix(err.Error(), ": "+errs.ErrForbidden.Error())
	}
	if unchanged(old, next) {
		// Nothing to write: re-sending last month's staff list, or a list whose import a
		// crash cut short, costs no update per user (each is a collection scan on FerretDB).
		return importOp{line: row.Line, user: old}, ""
	}
	return importOp{line: row.Line, user: old, set: set, unset: unset}, ""
}

// unchanged reports whether an import line leaves the user as stored: the fields it may
// set are equal.
func unchanged(old, next User) bool {
	return old.FullName == next.FullName && old.NameFold == nameFold(next.FullName, next.Username) &&
		old.UnitID == next.UnitID && old.Position == next.Position && old.Email == next.Email &&
		slices.Equal(old.Roles, next.Roles) && slices.Equal(old.AdminUnitIDs, next.AdminUnitIDs)
}

func fieldsMessage(f errs.Fields) string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return strings.Join(parts, "; ")
}

// hashImportPasswords hashes the passwords of the users to create, on as many goroutines
// as there are hash slots but one, so logins still get a slot during a big import. Given
// passwords get the full cost, generated ones the cheap generatedArgon2. Nothing is
// written before every hash is done, so a cancelled import stores nothing.
func (s *Service) hashImportPasswords(ctx context.Context, ops []importOp) error {
	var todo []int
	for i, op := range ops {
		if op.create {
			todo = append(todo, i)
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range max(1, cap(s.hashSlots)-1) {
		wg.Go(func() {
			for i := range next {
				params := s.cfg.Argon2
				if !ops[i].given && generatedArgon2.Memory < params.Memory {
					params = generatedArgon2
				}
				h, err := s.hashWith(ctx, ops[i].password, params)
				if err != nil {
					mu.Lock()
					firstErr = cmpOr(firstErr, err)
					mu.Unlock()
					continue
				}
				ops[i].user.PasswordHash = h
			}
		})
	}
	for _, i := range todo {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("accounts: import cancelled: %w", ctx.Err())
	}
	return firstErr
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// Bulk write batches. FerretDB v1.24 keeps a database connection open per update of an
// update command until the command ends and stalls for good at its pool of 100, so
// updates go 25 to a bulk write; inserts have no such limit.
const (
	importInsertBatch = 1000
	bulkUpdateBatch   = 25
)

// writeImport writes ops in unordered bulk writes: the users to create a thousand at a
// time, then the updates; an update with nothing to set writes nothing. It returns the
// indexes of ops that failed with a reason (a username created meanwhile, say), and an
// error when a bulk write failed as a whole; the batches before it are stored.
func (s *Service) writeImport(ctx context.Context, ops []importOp) (map[int]string, error) {
	failed := map[int]string{}
	var creates, updates []int // indexes in ops
	for i, op := range ops {
		switch {
		case op.create:
			creates = append(creates, i)
		case len(op.set) > 0:
			updates = append(updates, i)
		}
	}
	var batches [][]int
	for start := 0; start < len(creates); start += importInsertBatch {
		batches = append(batches, creates[start:min(start+importInsertBatch, len(creates))])
	}
	for start := 0; start < len(updates); start += bulkUpdateBatch {
		batches = append(batches, updates[start:min(start+bulkUpdateBatch, len(updates))])
	}
	for b, batch := range batches {
		models := make([]mongo.WriteModel, 0, len(batch))
		for _, i := range batch {
			op := ops[i]
			if op.create {
				models = append(models, mongo.NewInsertOneModel().SetDocument(op.user))
				continue
			}
			update := bson.M{"$set": op.set}
			if len(op.unset) > 0 {
				update["$unset"] = op.unset
			}
			models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.M{"_id": op.user.ID}).SetUpdate(update))
		}
		_, err := s.users.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
		var bwe mongo.BulkWriteException
		if errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 && bwe.WriteConcernError == nil {
			for _, we := range bwe.WriteErrors {
				msg := "could not be stored"
				if database.IsDuplicateKey(we) || we.Code == 11000 {
					msg = "the username was taken while importing"
				}
				failed[batch[we.Index]] = msg
			}
			continue
		}
		if err != nil {
			stored := -len(failed)
			for _, done := range batches[:b] {
				stored += len(done)
			}
			for _, rest := range batches[b:] {
				for _, i := range rest {
					failed[i] = "not stored: the import stopped"
				}
			}
			return failed, fmt.Errorf("accounts: import users (%d of %d changes stored): %w", stored, len(creates)+len(updates), dbErr(err))
		}
	}
	return failed, nil
}

// unitsByCode loads the units with the given codes, by code.
func (s *Service) unitsByCode(ctx context.Context, codes []string) (map[string]Unit, error) {
	out := map[string]Unit{}
	codes = cleanIDs(codes)
	for start := 0; start < len(codes); start += 1000 {
		units, err := s.findUnits(ctx, bson.M{"code": bson.M{"$in": codes[start:min(start+1000, len(codes))]}}, nil)
		if err != nil {
			return nil, err
		}
		for _, u := range units {
			out[u.Code] = u
		}
	}
	return out, nil
}

// usersByUsername loads the stored users with the given usernames, by username.
func (s *Service) usersByUsername(ctx context.Context, names []string) (map[string]User, error) {
	out := map[string]User{}
	names = cleanIDs(names)
	for start := 0; start < len(names); start += 1000 {
		users, err := s.findUsers(ctx, bson.M{"username": bson.M{"$in": names[start:min(start+1000, len(names))]}}, nil)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			out[u.Username] = u
		}
	}
	return out, nil
}
