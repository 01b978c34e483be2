//go:build !race

package dialog

const raceDetector = false
