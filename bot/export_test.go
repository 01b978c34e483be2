package bot

// Internals the external tests (package bot_test) check directly.
var (
	Backoff     = backoff
	InSentOrder = inSentOrder
)

const MaxBackoff = maxBackoff
