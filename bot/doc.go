// Package bot is the service shell around the dialog: it takes inputs from
// the adapters into the durable inbox, runs each through dialog.Engine in
// one store transaction (session, complaint, outbox, timers and "input
// done" together), relays the outbox to the platforms through Senders, and
// fires deadline timers from the store's index.
//
// Adapters (bot/console, and later Telegram and Slack) turn platform
// updates into dialog.Inputs and send dialog.Outputs; they hold no domain
// logic.
package bot
