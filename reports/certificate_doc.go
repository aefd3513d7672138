package reports

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"time"

	"github.com/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/text/unicode/norm"

	"hoctap/accounts"
)

// DejaVu Sans covers Vietnamese (every precomposed letter with its tone marks); see
// fonts/LICENSE. The PDF embeds only the glyphs it uses.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

// dateVN writes a time as a Vietnamese date, dd/mm/yyyy, in Vietnam's time zone.
func dateVN(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vnZone).Format("02/01/2006")
}

// CertificatePDF returns a certificate as an A4 landscape PDF with a QR code pointing at
// its public verification page. Who may get it and the errors are those of
// GetCertificate.
func (s *Service) CertificatePDF(ctx context.Context, actor accounts.Principal, id string) ([]byte, Certificate, error) {
	c, err := s.GetCertificate(ctx, actor, id)
	if err != nil {
		return nil, Certificate{}, err
	}
	pdf, err := RenderCertificatePDF(c, s.issuer, s.VerifyURL(c.Number))
	return pdf, c, err
}

// RenderCertificatePDF draws c. Text is normalised to NFC, the form DejaVu's precomposed
// Vietnamese glyphs match, so names typed with combining marks print correctly.
func RenderCertificatePDF(c Certificate, issuer, verifyURL string) ([]byte, error) {
	nfc := norm.NFC.String
	png, err := qrcode.Encode(verifyURL, qrcode.Medium, 512)
	if err != nil {
		return nil, fmt.Errorf("reports: QR code: %w", err)
	}
	p := fpdf.New("L", "mm", "A4", "")
	p.SetCompression(true)
	p.SetCreationDate(c.IssuedAt)
	p.SetModificationDate(c.IssuedAt)
	p.SetTitle(nfc("Giấy chứng nhận "+c.Number), true)
	p.SetAuthor(nfc(issuer), true)
	p.AddUTF8FontFromBytes("dejavu", "", fontRegular)
	p.AddUTF8FontFromBytes("dejavu", "B", fontBold)
	p.SetMargins(20, 15, 20)
	p.SetAutoPageBreak(false, 0)
	p.AddPage()
	w, h := p.GetPageSize()

	// Double frame.
	p.SetDrawColor(26, 35, 126)
	p.SetLineWidth(1.2)
	p.Rect(8, 8, w-16, h-16, "D")
	p.SetLineWidth(0.4)
	p.Rect(11, 11, w-22, h-22, "D")

	center := func(y float64, style string, size float64, text string) {
		p.SetFont("dejavu", style, size)
		p.SetXY(20, y)
		p.CellFormat(w-40, size*0.5, nfc(text), "", 0, "C", false, 0, "")
	}
	p.SetTextColor(33, 33, 33)
	center(20, "B", 12, "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM")
	center(27, "", 11, "Độc lập – Tự do – Hạnh phúc")
	center(40, "B", 13, issuer)
	p.SetTextColor(183, 28, 28)
	center(55, "B", 30, "GIẤY CHỨNG NHẬN")
	p.SetTextColor(33, 33, 33)
	center(72, "", 13, "Chứng nhận ông/bà")
	p.SetTextColor(26, 35, 126)
	center(82, "B", 24, c.LearnerName)
	p.SetTextColor(33, 33, 33)
	line := c.UnitName
	if c.Position != "" {
		line = c.Position + " – " + c.UnitName
	}
	center(97, "", 12, line)
	center(109, "", 13, "Đã hoàn thành khoá bồi dưỡng")
	center(119, "B", 17, c.CourseTitle)
	center(131, "", 12, fmt.Sprintf("Lớp: %s, từ ngày %s đến ngày %s", c.ClassName, dateVN(c.StartsAt), dateVN(c.EndsAt)))
	center(140, "", 12, fmt.Sprintf("Kết quả: %s (ngày hoàn thành %s)", c.Result, dateVN(c.CompletedAt)))

	// Number, date and QR code along the bottom.
	p.SetFont("dejavu", "", 11)
	p.SetXY(24, h-52)
	p.CellFormat(120, 6, nfc("Số: "+c.Number), "", 2, "L", false, 0, "")
	p.SetX(24)
	p.CellFormat(120, 6, nfc("Cấp ngày "+dateVN(c.IssuedAt)), "", 2, "L", false, 0, "")
	p.SetX(24)
	p.SetFont("dejavu", "", 8)
	p.CellFormat(160, 5, nfc("Tra cứu: "+verifyURL), "", 2, "L", false, 0, "")
	p.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	p.ImageOptions("qr", w-62, h-62, 40, 40, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")

	if c.Revoked {
		p.SetTextColor(211, 47, 47)
		p.SetAlpha(0.35, "Normal")
		p.TransformBegin()
		p.TransformRotate(20, w/2, h/2)
		center(h/2-10, "B", 60, "ĐÃ THU HỒI")
		p.TransformEnd()
		p.SetAlpha(1, "Normal")
		center(h-30, "B", 11, "Giấy chứng nhận đã bị thu hồi: "+c.RevokeNote)
	}
	var out bytes.Buffer
	if err := p.Output(&out); err != nil {
		return nil, fmt.Errorf("reports: render certificate PDF: %w", err)
	}
	return out.Bytes(), nil
}

// certificateHTML is the printable data form of a certificate. html/template escapes
// every field.
var certificateHTML = template.Must(template.New("cert").Parse(`<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Giấy chứng nhận {{.C.Number}}</title>
<style>
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:0;padding:1rem;color:#212121}
.cert{max-width:60rem;margin:auto;border:4px double #1a237e;padding:2rem;text-align:center}
h1{color:#b71c1c;font-size:2rem;margin:.5rem 0}
.name{color:#1a237e;font-size:1.6rem;font-weight:bold}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;text-align:left;margin:1.5rem auto;max-width:40rem}
dt{font-weight:bold}
.revoked{color:#d32f2f;font-weight:bold;font-size:1.3rem;border:2px solid #d32f2f;padding:.5rem}
@media print{body{padding:0}.noprint{display:none}}
</style></head><body>
<div class="cert">
<p><strong>CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM</strong><br>Độc lập – Tự do – Hạnh phúc</p>
<p><strong>{{.Issuer}}</strong></p>
<h1>GIẤY CHỨNG NHẬN</h1>
{{if .C.Revoked}}<p class="revoked">ĐÃ THU HỒI{{with .C.RevokeNote}}: {{.}}{{end}}</p>{{end}}
<p>Chứng nhận ông/bà</p>
<p class="name">{{.C.LearnerName}}</p>
<dl>
<dt>Số</dt><dd>{{.C.Number}}</dd>
<dt>Đơn vị</dt><dd>{{.C.UnitName}}</dd>
<dt>Chức vụ</dt><dd>{{.C.Position}}</dd>
<dt>Khoá học</dt><dd>{{.C.CourseTitle}} ({{.C.CourseCode}})</dd>
<dt>Lớp</dt><dd>{{.C.ClassName}}</dd>
<dt>Thời gian</dt><dd>{{.Starts}} – {{.Ends}}</dd>
<dt>Ngày hoàn thành</dt><dd>{{.Completed}}</dd>
<dt>Kết quả</dt><dd>{{.C.Result}}</dd>
<dt>Ngày cấp</dt><dd>{{.Issued}}</dd>
<dt>Tra cứu</dt><dd><a href="{{.VerifyURL}}">{{.VerifyURL}}</a></dd>
</dl>
<p class="noprint"><button onclick="window.print()">In giấy chứng nhận</button></p>
</div></body></html>
`))

// CertificateHTML returns a certificate as a printable HTML page (the data form). Who may
// get it and the errors are those of GetCertificate.
func (s *Service) CertificateHTML(ctx context.Context, actor accounts.Principal, id string) ([]byte, error) {
	c, err := s.GetCertificate(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	return RenderCertificateHTML(c, s.issuer, s.VerifyURL(c.Number))
}

// RenderCertificateHTML renders the printable data form of c.
func RenderCertificateHTML(c Certificate, issuer, verifyURL string) ([]byte, error) {
	var b bytes.Buffer
	err := certificateHTML.Execute(&b, map[string]any{
		"C": c, "Issuer": issuer, "VerifyURL": verifyURL,
		"Starts": dateVN(c.StartsAt), "Ends": dateVN(c.EndsAt), "Completed": dateVN(c.CompletedAt), "Issued": dateVN(c.IssuedAt),
	})
	if err != nil {
		return nil, fmt.Errorf("reports: render certificate page: %w", err)
	}
	return b.Bytes(), nil
}
