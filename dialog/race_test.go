//go:build race

package dialog

// raceDetector: the race detector makes the walker about eight times
// slower, so the suite's run under it walks fewer conversations.
const raceDetector = true
