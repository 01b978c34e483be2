// Package locales owns Ombud's own user-facing text: every line the bot
// says that is not policy content.
//
// The package holds the go-i18n message catalogs for Swedish (sv), Danish
// (da) and English (en) as YAML files embedded in the binary
// (catalog/sv.yaml, catalog/da.yaml, catalog/en.yaml), picks the best of
// those languages for a user's language tags, and hands out a Printer per
// language that renders messages, plurals and full dates.
//
// English is the default language: a message missing in Swedish or Danish
// is printed in English, and a message id that no catalog knows is printed
// as the id itself, so a Printer never returns an empty string.
//
// Message ids are flat, dotted lower_snake strings such as "explain.title".
// A plain message is a string; a plural message is a map with the CLDR
// categories "one" and "other". Templates use Go text/template syntax, for
// example "{{.Count}} working days".
package locales
