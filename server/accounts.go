package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"hoctap/accounts"
	"hoctap/internal/errs"
)

func (s *Server) routeAccounts(api fiber.Router) {
	api.Post("/auth/login", s.login)
	api.Post("/auth/logout", requireAuth, s.logout)
	api.Get("/me", requireAuth, s.me)
	api.Patch("/me", requireAuth, s.updateMe)

	api.Post("/units", requireAuth, s.createUnit)
	api.Get("/units", requireAuth, s.listUnits)
	api.Get("/units/:id", requireAuth, s.getUnit)
	api.Patch("/units/:id", requireAuth, s.updateUnit)

	api.Post("/users", requireAuth, s.createUser)
	api.Get("/users", requireAuth, s.listUsers)
	api.Post("/users/import", requireAuth, s.importUsers)
	api.Get("/users/:id", requireAuth, byID(s.accounts.FindUserByID))
	api.Patch("/users/:id", requireAuth, s.updateUser)
}

type loginBody struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string        `json:"token"`
	CSRFToken string        `json:"csrf_token"`
	ExpiresAt time.Time     `json:"expires_at"`
	User      accounts.User `json:"user"`
}

func (s *Server) login(c *fiber.Ctx) error {
	var b loginBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	var fields errs.Fields
	fields.Check(strings.TrimSpace(b.Username) == "", "username", "required")
	fields.Check(b.Password == "", "password", "required")
	if err := fields.Err(); err != nil {
		return err
	}
	res, err := s.accounts.Login(c.UserContext(), b.Username, b.Password, c.IP())
	if err != nil {
		return err
	}
	setSessionCookie(c, res.Token, res.ExpiresAt, s.secureCookies())
	return c.JSON(loginResponse{Token: res.Token, CSRFToken: res.CSRFToken, ExpiresAt: res.ExpiresAt, User: res.User})
}

func (s *Server) logout(c *fiber.Ctx) error {
	token, _ := requestToken(c)
	if err := s.accounts.Logout(c.UserContext(), token); err != nil {
		return err
	}
	clearSessionCookie(c, s.secureCookies())
	return c.SendStatus(http.StatusNoContent)
}

type meResponse struct {
	accounts.User
	CSRFToken string `json:"csrf_token"`
}

func (s *Server) me(c *fiber.Ctx) error {
	p := principal(c)
	return c.JSON(meResponse{User: p.User, CSRFToken: p.CSRFToken})
}

type updateMeBody struct {
	Language        *string `json:"language"`
	FullName        *string `json:"full_name"`
	Email           *string `json:"email"`
	Password        *string `json:"password"`
	CurrentPassword *string `json:"current_password"`
}

func (s *Server) updateMe(c *fiber.Ctx) error {
	var b updateMeBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	p := principal(c)
	u, err := s.accounts.UpdateUser(c.UserContext(), p, p.User.ID, accounts.UserPatch{
		Language: b.Language, FullName: b.FullName, Email: b.Email, Password: b.Password,
		CurrentPassword: b.CurrentPassword,
	})
	if err != nil {
		return err
	}
	return c.JSON(u)
}

type unitBody struct {
	Name     string `json:"name"`
	Code     string `json:"code"`
	ParentID string `json:"parent_id"`
}

func (s *Server) createUnit(c *fiber.Ctx) error {
	var b unitBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	u, err := s.accounts.CreateUnit(c.UserContext(), principal(c), accounts.NewUnit{Name: b.Name, Code: b.Code, ParentID: b.ParentID})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(u)
}

func (s *Server) getUnit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, err := s.accounts.GetUnit(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	if u.Children == nil {
		u.Children = []accounts.Unit{}
	}
	return c.JSON(u)
}

func (s *Server) listUnits(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	page, err := s.accounts.ListUnits(c.UserContext(), principal(c), accounts.UnitFilter{
		ParentID: c.Query("parent_id"), Q: c.Query("q"), Limit: limit, Offset: offset,
	})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

type unitPatchBody struct {
	Name     *string `json:"name"`
	Code     *string `json:"code"`
	ParentID *string `json:"parent_id"`
}

func (s *Server) updateUnit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b unitPatchBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	u, err := s.accounts.UpdateUnit(c.UserContext(), principal(c), id, accounts.UnitPatch{Name: b.Name, Code: b.Code, ParentID: b.ParentID})
	if err != nil {
		return err
	}
	return c.JSON(u)
}

type userBody struct {
	Username     string          `json:"username"`
	Password     string          `json:"password"`
	FullName     string          `json:"full_name"`
	Email        string          `json:"email"`
	UnitID       string          `json:"unit_id"`
	Position     string          `json:"position"`
	Roles        []accounts.Role `json:"roles"`
	AdminUnitIDs []string        `json:"admin_unit_ids"`
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var b userBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	u, err := s.accounts.CreateUser(c.UserContext(), principal(c), accounts.NewUser{
		Username: b.Username, Password: b.Password, FullName: b.FullName, Email: b.Email,
		UnitID: b.UnitID, Position: b.Position, Roles: b.Roles, AdminUnitIDs: b.AdminUnitIDs,
	})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(u)
}

type userPatchBody struct {
	FullName     *string          `json:"full_name"`
	Email        *string          `json:"email"`
	UnitID       *string          `json:"unit_id"`
	Position     *string          `json:"position"`
	Password     *string          `json:"password"`
	Language     *string          `json:"language"`
	Roles        *[]accounts.Role `json:"roles"`
	AdminUnitIDs *[]string        `json:"admin_unit_ids"`
	Active       *bool            `json:"active"`
}

func (s *Server) updateUser(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b userPatchBody
	if err := s.decodeJSON(c, &b); err != nil {
		return err
	}
	u, err := s.accounts.UpdateUser(c.UserContext(), principal(c), id, accounts.UserPatch{
		FullName: b.FullName, Email: b.Email, UnitID: b.UnitID, Position: b.Position, Password: b.Password,
		Language: b.Language, Roles: b.Roles, AdminUnitIDs: b.AdminUnitIDs, Active: b.Active,
	})
	if err != nil {
		return err
	}
	return c.JSON(u)
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	limit, offset, err := pageParams(c)
	if err != nil {
		return err
	}
	subunits, err := boolQuery(c, "subunits")
	if err != nil {
		return err
	}
	role := accounts.Role(c.Query("role"))
	if role != "" && !role.Valid() {
		return errs.Field("role", "unknown role")
	}
	if len(c.Query("q")) > 200 {
		return errs.Field("q", "at most 200 characters")
	}
	page, err := s.accounts.ListUsers(c.UserContext(), principal(c), accounts.UserFilter{
		UnitID: c.Query("unit_id"), Subunits: subunits, Q: c.Query("q"), Role: role, Limit: limit, Offset: offset,
	})
	if err != nil {
		return err
	}
	return c.JSON(newList(page.Items, page.Total))
}

type importResponse struct {
	Created int                    `json:"created"`
	Updated int                    `json:"updated"`
	Errors  []accounts.ImportError `json:"errors"`
	// GeneratedPasswords are shown once, to the importer, for users created without one.
	GeneratedPasswords []accounts.GeneratedPassword `json:"generated_passwords"`
}

// importUsers takes the CSV as the raw body (text/csv) or as the multipart field "file".
func (s *Server) importUsers(c *fiber.Ctx) error {
	r, err := uploadedFile(c, "file", "text/csv")
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := s.accounts.ImportUsers(c.UserContext(), principal(c), r)
	if err != nil {
		return err
	}
	if res.Errors == nil {
		res.Errors = []accounts.ImportError{}
	}
	if res.GeneratedPasswords == nil {
		res.GeneratedPasswords = []accounts.GeneratedPassword{}
	}
	return c.JSON(importResponse{Created: res.Created, Updated: res.Updated, Errors: res.Errors, GeneratedPasswords: res.GeneratedPasswords})
}

// uploadedFile returns the request's file: the multipart field when the request is
// multipart, otherwise the raw body when its Content-Type is rawType (or text/plain).
func uploadedFile(c *fiber.Ctx, field, rawType string) (io.ReadCloser, error) {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	switch {
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		fh, err := c.FormFile(field)
		if err != nil {
			return nil, errs.Field(field, "the multipart form has no file in this field")
		}
		return fh.Open()
	case strings.HasPrefix(ct, rawType), strings.HasPrefix(ct, fiber.MIMETextPlain):
		if len(c.Body()) == 0 {
			return nil, errs.Invalid("the request body is empty", nil)
		}
		return io.NopCloser(bytes.NewReader(c.Body())), nil
	}
	return nil, errs.Invalid(fmt.Sprintf("send the file as %s or as multipart field %q", rawType, field), nil)
}
