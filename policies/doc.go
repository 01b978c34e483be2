// Package policies is Ombud's rulebook: one YAML file per issuer describing
// its escalation ladder, its deadlines and the complaint fields it asks for.
//
// The package owns the bundled policy files (embedded), their JSON Schema,
// strict loading with file:line:column errors, validation that reports every
// problem at once, non-blocking lint warnings, and the business-day
// calendars of Sweden and Denmark that turn a policy's periods into dates.
// Watching a folder for edits is I/O, and lives in policies/registry.
//
// It does no I/O of its own (it reads an fs.FS it is given): no chat SDK,
// no storage engine, no network, no os. The same rules serve the terminal,
// Telegram, Slack and the tests.
package policies
