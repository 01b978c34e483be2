package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// catalogFiles holds the embedded message catalogs, one file per language.
// It is the only package-level variable: go:embed needs one.
//
//go:embed catalog/*.yaml
var catalogFiles embed.FS

// defaultLang is the language used when nothing better matches and the
// language that fills in messages missing from the other catalogs.
const defaultLang = "en"

// Catalog is the set of loaded message catalogs. It is read-only after New
// and safe for concurrent use.
type Catalog struct {
	langs    []string            // supported languages, in display order
	matcher  language.Matcher    // matches user tags against matchTag
	matchTag []string            // language of each matcher index
	printers map[string]*Printer // one printer per supported language
	ids      map[string][]string // sorted message ids per language file
}

// New loads the embedded catalogs for sv, da and en into one go-i18n bundle
// with English as the default language.
func New() (*Catalog, error) {
	return load(catalogFiles)
}

// load builds a Catalog from the files catalog/<lang>.yaml in fsys. Tests
// call it with their own file systems.
func load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{
		langs:    []string{"sv", "da", "en"},
		printers: make(map[string]*Printer),
		ids:      make(map[string][]string),
	}
	// One bundle holds every language; English fills in missing messages.
	bundle := i18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)

	for _, lang := range c.langs {
		path := "catalog/" + lang + ".yaml"
		buf, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("read catalog %s: %w", lang, err)
		}
		file, err := bundle.ParseMessageFileBytes(buf, path)
		if err != nil {
			return nil, fmt.Errorf("parse catalog %s: %w", path, err)
		}
		if got := file.Tag.String(); got != lang {
			return nil, fmt.Errorf("parse catalog %s: language %q, want %q", path, got, lang)
		}
		if len(file.Messages) == 0 {
			return nil, fmt.Errorf("parse catalog %s: no messages", path)
		}
		ids := make([]string, 0, len(file.Messages))
		for _, m := range file.Messages {
			ids = append(ids, m.ID)
		}
		slices.Sort(ids)
		c.ids[lang] = ids
	}

	// The matcher falls back to its first tag, so English goes first.
	c.matchTag = []string{defaultLang}
	tags := []language.Tag{language.Make(defaultLang)}
	for _, lang := range c.langs {
		if lang == defaultLang {
			continue
		}
		c.matchTag = append(c.matchTag, lang)
		tags = append(tags, language.Make(lang))
	}
	c.matcher = language.NewMatcher(tags)

	for _, lang := range c.langs {
		c.printers[lang] = &Printer{
			lang:      lang,
			localizer: i18n.NewLocalizer(bundle, lang),
			numbers:   message.NewPrinter(language.Make(lang)),
		}
	}
	return c, nil
}

// Languages returns the supported language codes in display order:
// "sv", "da", "en". The caller may modify the returned slice.
func (c *Catalog) Languages() []string {
	return slices.Clone(c.langs)
}

// Match returns the supported language that best fits tags, given as
// Telegram language codes ("sv", "en-GB") or Accept-Language values
// ("da-DK,da;q=0.9,en;q=0.8"). Earlier tags are preferred over later ones.
// Tags that do not parse are skipped; "_" is read as "-". Matching follows
// golang.org/x/text/language, which treats Norwegian Bokmål ("nb", "no")
// and Faroese ("fo") as close to Danish, so they give "da"; Nynorsk ("nn")
// is not, and gives "en". Empty, unknown or unmatched tags give "en".
func (c *Catalog) Match(tags ...string) string {
	var wanted []language.Tag
	for _, s := range tags {
		s = strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
		if s == "" {
			continue
		}
		parsed, _, err := language.ParseAcceptLanguage(s)
		if err != nil {
			continue
		}
		wanted = append(wanted, parsed...)
	}
	if len(wanted) == 0 {
		return defaultLang
	}
	_, index, confidence := c.matcher.Match(wanted...)
	if confidence == language.No {
		return defaultLang
	}
	return c.matchTag[index]
}

// Printer returns the printer for lang, one of Languages. Any other value,
// including "", gives the English printer. The same Printer is returned
// on every call and is safe for concurrent use.
func (c *Catalog) Printer(lang string) *Printer {
	if p, ok := c.printers[lang]; ok {
		return p
	}
	return c.printers[defaultLang]
}

// MessageIDs returns the sorted ids of the messages defined in lang's own
// catalog file, without English fallbacks. It returns nil for an
// unsupported language. The caller may modify the returned slice.
func (c *Catalog) MessageIDs(lang string) []string {
	return slices.Clone(c.ids[lang])
}
