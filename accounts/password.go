package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"hoctap/internal/errs"
)

// Password length limits. The upper bound keeps a hostile request from making the server
// hash megabytes; pass phrases of a few hundred characters still fit.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// Argon2Params are the argon2id cost parameters used for new hashes. Existing hashes carry
// their own parameters in the encoded string, so changing these never locks anyone out.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultArgon2 is OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): strong
// enough for passwords, and modest enough in memory that a provincial office signing in
// at once does not exhaust the server.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// generatedArgon2 hashes the random passwords an import generates. A slow hash protects
// guessable passwords; these carry 72 random bits, beyond any guessing at any hash speed,
// so a cheap hash lets a 50,000-line staff list import in a minute instead of an hour.
// The parameters are stored in each hash, and a password the user later chooses gets
// the full cost.
var generatedArgon2 = Argon2Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// generatedPasswordBytes is the randomness of a generated password (12 characters).
const generatedPasswordBytes = 9

// CheckPassword reports whether p is acceptable as a new password; it returns an
// errs.Field("password", …) error when it is not.
func CheckPassword(p string) error {
	n := utf8.RuneCountInString(p)
	switch {
	case n < MinPasswordLen:
		return errs.Field("password", fmt.Sprintf("must be at least %d characters", MinPasswordLen))
	case n > MaxPasswordLen:
		return errs.Field("password", fmt.Sprintf("must be at most %d characters", MaxPasswordLen))
	case !utf8.ValidString(p):
		return errs.Field("password", "must be valid UTF-8 text")
	}
	return nil
}

// HashPassword returns the PHC-style encoding of an argon2id hash of password with a fresh
// random salt: $argon2id$v=19$m=…,t=…,p=…$salt$key (unpadded standard base64).
func HashPassword(password string, p Argon2Params) string {
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails since Go 1.24.
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// errBadHash means a stored hash could not be decoded; it is an internal error, never the
// caller's fault.
var errBadHash = errors.New("accounts: malformed password hash")

// VerifyPassword reports whether password matches the encoded hash, comparing in constant
// time. It returns an error only when the encoding is malformed.
func VerifyPassword(password, encoded string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

func decodeHash(encoded string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	// Refuse absurd parameters so a corrupted document cannot make one login allocate
	// gigabytes or spin for minutes.
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 64 || p.Threads < 1 {
		return p, nil, nil, errBadHash
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}
