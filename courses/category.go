package courses

// Category is the subject area of a course, stored as its slug.
type Category string

// The categories of civil-service training.
const (
	CategoryPoliticalTheory Category = "ly_luan_chinh_tri"       // Lý luận chính trị
	CategoryStateManagement Category = "quan_ly_nha_nuoc"        // Quản lý nhà nước
	CategoryDefence         Category = "quoc_phong_an_ninh"      // Quốc phòng và an ninh
	CategoryJobSkills       Category = "ky_nang_vi_tri_viec_lam" // Kỹ năng theo vị trí việc làm
	CategoryDigitalSkills   Category = "ky_nang_so"              // Kỹ năng số
	CategoryLanguages       Category = "ngoai_ngu"               // Ngoại ngữ
)

// CategoryInfo is a category with its labels, for pickers and filters.
type CategoryInfo struct {
	Slug    Category `json:"slug"`
	LabelVI string   `json:"label_vi"`
	LabelEN string   `json:"label_en"`
}

// Categories lists every category in display order.
var Categories = []CategoryInfo{
	{CategoryPoliticalTheory, "Lý luận chính trị", "Political theory"},
	{CategoryStateManagement, "Quản lý nhà nước", "State management"},
	{CategoryDefence, "Quốc phòng và an ninh", "Defence and security"},
	{CategoryJobSkills, "Kỹ năng theo vị trí việc làm", "Job-position skills"},
	{CategoryDigitalSkills, "Kỹ năng số", "Digital skills"},
	{CategoryLanguages, "Ngoại ngữ", "Foreign languages"},
}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool {
	_, ok := c.info()
	return ok
}

// Label returns the category's name in lang ("en" for English, Vietnamese otherwise), or
// the slug itself for an unknown category.
func (c Category) Label(lang string) string {
	info, ok := c.info()
	switch {
	case !ok:
		return string(c)
	case lang == "en":
		return info.LabelEN
	default:
		return info.LabelVI
	}
}

func (c Category) info() (CategoryInfo, bool) {
	for _, info := range Categories {
		if info.Slug == c {
			return info, true
		}
	}
	return CategoryInfo{}, false
}
