// Package dialog is Ombud's domain core: the consumer's complaint intake
// and each complaint's life after it is filed, as two looplab/fsm state
// machines driven by the issuer's policy.
//
// The package is pure. Engine.Handle takes the stored state of one
// conversation, one input and the current time, and returns the new state,
// the messages to send and the timers to set; it does no I/O and reads no
// clock. The bot package loads and saves the state, in one transaction with
// the outbox, and the adapters turn platform updates into Inputs and
// Outputs into platform messages. A machine is rebuilt from the stored state
// on every turn, so nothing is held in memory for an idle conversation.
package dialog
