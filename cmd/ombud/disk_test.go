package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ombud/store"
)

// smallDisk mounts a tmpfs of sizeMiB for the test, or skips the test when
// this process may not mount one (it needs root, or CAP_SYS_ADMIN).
func smallDisk(t *testing.T, sizeMiB int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(sizeMiB)+"m"); err != nil {
		t.Skipf("cannot mount a small filesystem for the full-disk test (%v); run the tests as root to include it", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillDisk takes the free space on dir's filesystem down to leave bytes
// and returns how to give it back.
func fillDisk(t *testing.T, dir string, leave int64) (release func()) {
	t.Helper()
	free, err := store.FreeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, free-leave); err != nil {
		t.Fatalf("fill the disk: %v", err)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// metric reads one unlabelled value from /metrics.
func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// httpStatus is a GET's status code and body, or 0 when nothing answers.
func httpStatus(url string) (int, string) {
	resp, err := http.Get("http://" + url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitFor polls cond, for conditions on a server the test cannot be
// told about, such as its HTTP answers.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond) // polling a server's state, not asserting time
	}
	return cond()
}

// TestServeSurvivesAFullDisk starts Ombud on a full disk, then fills the
// disk under it while it runs. It must stay up, answer /healthz, report
// not ready, confirm nothing it could not store, and carry on by itself
// each time space returns.
func TestServeSurvivesAFullDisk(t *testing.T) {
	disk := smallDisk(t, 128)
	tg := newFake(t)
	const chat = 5151

	release := fillDisk(t, disk, 0)
	tg.Text(chat, "en", "/start")
	addr, logs, stop := launchServe(t, tg, filepath.Join(disk, "data"), nil, "--disk-reserve", "32")
	t.Cleanup(stop)
	if !waitFor(10*time.Second, func() bool { code, _ := httpStatus(addr + "/healthz"); return code == http.StatusOK }) {
		t.Fatalf("no /healthz on a full disk:\n%s", logs)
	}
	if code, body := httpStatus(addr + "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "disk is full") {
		t.Fatalf("/readyz on a full disk: %d %q", code, body)
	}
	if !waitFor(10*time.Second, func() bool { return strings.Contains(logs.String(), "waiting for space before starting") }) {
		t.Fatalf("no word of the full disk at start:\n%s", logs)
	}
	if n := len(tg.SentTo(chat)); n != 0 || tg.Pending() != 1 {
		t.Fatalf("on a full disk at start: %d messages sent, %d updates pending", n, tg.Pending())
	}

	release()
	if !waitHTTP(addr+"/readyz", 15*time.Second) {
		t.Fatalf("not ready after space returned at start:\n%s", logs)
	}
	if !tg.Wait(10*time.Second, func() bool { return len(tg.SentTo(chat)) > 0 && tg.Pending() == 0 }) {
		t.Fatalf("the message sent before start was not answered: %d sent, %d pending", len(tg.SentTo(chat)), tg.Pending())
	}
	answered := len(tg.SentTo(chat))

	// Full again while running.
	release = fillDisk(t, disk, 0)
	if code, body := httpStatus(addr + "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "disk is full") {
		t.Fatalf("/readyz with the disk full: %d %q", code, body)
	}
	tg.Text(chat, "en", "/help")
	if !waitFor(10*time.Second, func() bool { return metric(t, addr, "ombud_disk_writes_refused_total") > 0 }) {
		t.Fatal("no write was refused: the update was never fetched")
	}
	if code, _ := httpStatus(addr + "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with the disk full: %d", code)
	}
	if got := metric(t, addr, "ombud_disk_full"); got != 1 {
		t.Errorf("ombud_disk_full = %v with the disk full", got)
	}
	if tg.Pending() != 1 {
		t.Errorf("%d updates pending with the disk full, want 1: an update was confirmed without being stored", tg.Pending())
	}
	if n := len(tg.SentTo(chat)); n != answered {
		t.Errorf("%d messages sent with the disk full", n-answered)
	}

	release()
	if !tg.Wait(15*time.Second, func() bool { return len(tg.SentTo(chat)) > answered && tg.Pending() == 0 }) {
		t.Fatalf("not answered after space returned: %d pending\n%s", tg.Pending(), logs)
	}
	if code, _ := httpStatus(addr + "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after space returned: %d", code)
	}
	if got := metric(t, addr, "ombud_disk_full"); got != 0 {
		t.Errorf("ombud_disk_full = %v after space returned", got)
	}
	for _, want := range []string{"the data disk is full: not confirming", "the data disk has space again"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
	stop()
	if v := tg.Violations(); len(v) > 0 {
		t.Errorf("sends during a pause: %v", v)
	}
}
