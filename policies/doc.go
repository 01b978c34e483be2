// Package policies is Ombud's rulebook: one YAML file per issuer describing
// its escalation ladder, its deadlines and the complaint fields it asks for.
//
// The package owns the bundled policy files (embedded), their JSON Schema,
// strict loading with file:line:column errors, validation that reports every
// problem at once, non-blocking lint warnings, a Registry that hot-reloads a
// folder and keeps the last good set, and the business-day calendars of
// Sweden and Denmark that turn a policy's periods into dates.
//
// It imports no chat SDK, no storage engine and no net/http: the same rules
// serve the terminal, Telegram, Slack and the tests.
package policies
