// Package store is Ombud's durable state and the only importer of Badger.
//
// It owns the consumers' sessions, the filed complaints and their
// case-number sequences, the inbox of received inputs with their dedupe
// keys and the platforms' update cursors, the outbox of messages still to
// send, and the deadline index the scheduler wakes from. Everything is kept
// in one Badger directory with synchronous commits, so a write that has
// returned survives a crash, and one handled input (new session, complaint,
// outbox entries, timers, "inbox item done") is one transaction: it happens
// completely or not at all.
//
// Records are JSON, so fields added to the dialog types need no migration.
package store
