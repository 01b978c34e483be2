package storetest_test

import (
	"testing"
	"time"

	"ombud/bot"
	"ombud/bot/storetest"
)

// The in-memory store keeps the contract: the service's needs are the
// interface's, not Badger's.
func TestMemKeepsTheContract(t *testing.T) {
	storetest.Run(t, storetest.Opener{
		Open: func(t *testing.T, now func() time.Time, ttl time.Duration) bot.Store {
			return storetest.NewMem(now, ttl)
		},
	})
}
