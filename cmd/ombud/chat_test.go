package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ombud/bot"
	"ombud/dialog"
	"ombud/policies"
	"ombud/store"
)

// script is what a consumer types to file a complaint with issuer: the
// questions before the fields, a good answer to each field, then Send.
func script(t *testing.T, issuer string, contacted bool) []string {
	t.Helper()
	set, err := policies.Load(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := set.Get(issuer)
	if !ok {
		t.Fatalf("no policy %s", issuer)
	}
	lines := []string{"1"} // Continue after the privacy notice
	if contacted {
		lines = append(lines, "1", "2026-11-02", "2") // yes; first complaint; they said no
	} else {
		lines = append(lines, "2", "1") // no; file now anyway
	}
	chosen := map[string]string{}
	for _, f := range p.Fields {
		if f.AskIf != nil && chosen[f.AskIf.Field] != f.AskIf.Equals {
			continue // a follow-up the answers so far rule out
		}
		switch f.Type {
		case policies.FieldText:
			lines = append(lines, "Anna Andersson")
		case policies.FieldLongText:
			lines = append(lines, "Jag debiterades två gånger för samma köp i november.")
		case policies.FieldDate:
			lines = append(lines, "1/11/2026")
		case policies.FieldEmail:
			lines = append(lines, "anna@example.se")
		case policies.FieldPhone:
			lines = append(lines, "+46 70 123 45 67")
		case policies.FieldAmount:
			lines = append(lines, "1 250 kr")
		case policies.FieldReference:
			if f.Required {
				lines = append(lines, "198504121234")
			} else {
				lines = append(lines, "1") // Skip
			}
		case policies.FieldChoice:
			lines = append(lines, "1")
			chosen[f.ID] = f.Choices[0].ID
		case policies.FieldYesNo:
			lines = append(lines, "2") // No
			chosen[f.ID] = "no"
		case policies.FieldAttachments:
			lines = append(lines, "/attach kvitto.pdf", "1") // a file, then Done
		}
	}
	return append(lines, "1") // Send
}

func chat(t *testing.T, dir string, stdin string, args ...string) result {
	t.Helper()
	return runIn(t, nil, stdin, append([]string{"chat", "--data", dir, "--now", "2026-12-18T10:00:00+01:00"}, args...)...)
}

func TestChatFilesComplaints(t *testing.T) {
	tests := []struct {
		issuer, lang string
		contacted    bool
		wants        []string
	}{
		{"amex-se", "sv", true, []string{"Ärendenummer: AXSE-2026-00001", "2027-01-15", "2027-02-12"}},
		{"klarna-dk", "da", false, []string{"KLDK-2026-00001", "2027-01-14"}},
		{"billender", "en", true, []string{"Case number: BIL-2026-00001", "2027-01-01", "2026-12-19"}},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			in := strings.Join(script(t, tt.issuer, tt.contacted), "\n") + "\n"
			got := chat(t, t.TempDir(), in, "--issuer", tt.issuer, "--lang", tt.lang)
			if got.code != 0 {
				t.Fatalf("exit %d: %s", got.code, got.stderr)
			}
			for _, want := range tt.wants {
				if !strings.Contains(got.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, got.stdout)
				}
			}
			if strings.Contains(got.stdout, "<no value>") || regexp.MustCompile(`\b(intake|case|validate|button)\.[a-z_]+\b`).MatchString(got.stdout) {
				t.Errorf("output shows a raw message id:\n%s", got.stdout)
			}
		})
	}
}

func TestChatAgentDesk(t *testing.T) {
	lines := append(script(t, "amex-se", true),
		"/agent claim",
		"/agent note Kolla med kortavdelningen.",
		"/agent reply Vi tittar på saken.",
		"/agent extend Vi väntar på underlag från butiken.",
		"/agent decide rejected Vi kan tyvärr inte återbetala.",
		"/status",
	)
	got := chat(t, t.TempDir(), strings.Join(lines, "\n")+"\n", "--issuer", "amex-se", "--lang", "sv", "--agent", "Eva")
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	for _, want := range []string{
		"desk>  New case AXSE-2026-00001",
		"Eva (American Express Sverige) i ärende AXSE-2026-00001:",
		"Vi tittar på saken.",
		"2027-02-12", // the extended date
		"Allmänna reklamationsnämnden",
		"2027-11-02", // ARN: one year from the first complaint
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, got.stdout)
		}
	}
	if strings.Contains(got.stdout, "ombud> Kolla med kortavdelningen") {
		t.Error("an internal note reached the consumer")
	}
}

// Ending the input mid-conversation and starting again resumes at the same
// question with every answer kept.
func TestChatResumesAcrossRuns(t *testing.T) {
	dir := t.TempDir()
	lines := script(t, "amex-dk", true)
	cut := 6 // privacy, contacted, first complaint, prior answer, two fields
	first := chat(t, dir, strings.Join(lines[:cut], "\n")+"\n", "--issuer", "amex-dk", "--lang", "en")
	if first.code != 0 {
		t.Fatalf("first run: exit %d: %s", first.code, first.stderr)
	}
	lastQuestion := lastMatch(t, first.stdout, `Question \d+ of \d+: [^\n]+`)

	second := chat(t, dir, strings.Join(lines[cut:], "\n")+"\n", "--issuer", "amex-dk", "--lang", "en")
	if second.code != 0 {
		t.Fatalf("second run: exit %d: %s", second.code, second.stderr)
	}
	if !strings.Contains(second.stdout, "Welcome back") || firstMatch(t, second.stdout, `Question \d+ of \d+: [^\n]+`) != lastQuestion {
		t.Fatalf("did not resume at %q:\n%s", lastQuestion, second.stdout)
	}
	if !strings.Contains(second.stdout, "AXDK-2026-00001") {
		t.Fatalf("complaint not filed after resuming:\n%s", second.stdout)
	}
	assertFiledAnswers(t, dir, "AXDK-2026-00001", 2)
}

func TestChatRefusesALockedDataDirectory(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := chat(t, dir, "", "--issuer", "amex-se")
	if got.code == 0 || !strings.Contains(got.stderr, "in use by another process") {
		t.Fatalf("exit %d, stderr %q; want a clear lock error", got.code, got.stderr)
	}
}

// assertFiledAnswers checks the stored complaint has at least n answers.
func assertFiledAnswers(t *testing.T, dir, id string, n int) {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.View(func(tx bot.Tx) error {
		c, err := tx.Complaint(id)
		if err != nil {
			return err
		}
		if len(c.Answers) < n {
			t.Errorf("complaint %s has %d answers, want at least %d", id, len(c.Answers), n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func firstMatch(t *testing.T, s, re string) string {
	t.Helper()
	return regexp.MustCompile(re).FindString(s)
}

func lastMatch(t *testing.T, s, re string) string {
	t.Helper()
	all := regexp.MustCompile(re).FindAllString(s, -1)
	if len(all) == 0 {
		t.Fatalf("no %s in:\n%s", re, s)
	}
	return all[len(all)-1]
}

// TestChatSurvivesKill runs ombud chat as a process, kills it with SIGKILL
// while it waits for the next answer, and starts it again.
func TestChatSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program as a process")
	}
	dir := t.TempDir()
	lines := script(t, "klarna-dk", true)
	start := func() (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "OMBUD_RUN_MAIN=1",
			"OMBUD_ARGS=chat\x1f--data\x1f"+dir+"\x1f--issuer\x1fklarna-dk\x1f--lang\x1fda\x1f--now\x1f2026-12-18")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, stdin, bufio.NewReader(stdout)
	}
	waitFor := func(r *bufio.Reader, re *regexp.Regexp) string {
		t.Helper()
		done := make(chan string, 1)
		go func() {
			var seen strings.Builder
			for {
				line, err := r.ReadString('\n')
				seen.WriteString(line)
				if m := re.FindString(line); m != "" {
					done <- m
					return
				}
				if err != nil {
					done <- "EOF after:\n" + seen.String()
					return
				}
			}
		}()
		select {
		case m := <-done:
			if strings.HasPrefix(m, "EOF after") {
				t.Fatalf("program ended before %s: %s", re, m)
			}
			return m
		case <-time.After(30 * time.Second): // a failure bound, not a timing assertion
			t.Fatalf("no %s within 30s", re)
			return ""
		}
	}
	question := regexp.MustCompile(`Spørgsmål \d+ af \d+: .+`)

	cmd, stdin, out := start()
	for _, l := range lines[:5] { // up to and including the first field
		io.WriteString(stdin, l+"\n")
	}
	var asked string
	for i := 0; i < 2; i++ {
		asked = waitFor(out, question) // the first field, then the second
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("killed process: %v", err)
	}

	cmd, stdin, out = start()
	resumed := waitFor(out, question)
	if resumed != asked {
		t.Fatalf("resumed at %q, want %q", resumed, asked)
	}
	for _, l := range lines[5:] {
		io.WriteString(stdin, l+"\n")
	}
	stdin.Close()
	waitFor(out, regexp.MustCompile(`KLDK-2026-00001`))
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second run: %v", err)
	}
	assertFiledAnswers(t, dir, "KLDK-2026-00001", 2)
}

func TestMain(m *testing.M) {
	if os.Getenv("OMBUD_RUN_MAIN") == "1" {
		os.Args = append([]string{"ombud"}, strings.Split(os.Getenv("OMBUD_ARGS"), "\x1f")...)
		main()
		return
	}
	os.Exit(m.Run())
}

func TestChatWithAWrongEncryptionKey(t *testing.T) {
	dir := t.TempDir()
	key := map[string]string{"OMBUD_ENCRYPTION_KEY": strings.Repeat("ab", 32)}
	if got := runIn(t, key, "hej\n", "chat", "--data", dir, "--lang", "en"); got.code != 0 {
		t.Fatalf("encrypted chat: %s", got.stderr)
	}
	wrong := map[string]string{"OMBUD_ENCRYPTION_KEY": strings.Repeat("cd", 32)}
	got := runIn(t, wrong, "hej\n", "chat", "--data", dir, "--lang", "en")
	if got.code == 0 || !strings.Contains(got.stderr, "encryption key does not match") {
		t.Errorf("wrong key: exit %d, %q", got.code, got.stderr)
	}
	if got := runIn(t, nil, "hej\n", "chat", "--data", dir, "--lang", "en"); got.code == 0 {
		t.Error("an encrypted store opened without its key")
	}
	malformed := map[string]string{"OMBUD_ENCRYPTION_KEY": "short"}
	for _, args := range [][]string{
		{"chat", "--data", dir},
		{"complaints", "list", "--data", dir},
		{"backup", filepath.Join(t.TempDir(), "b"), "--data", dir},
		{"restore", filepath.Join(t.TempDir(), "b"), "--data", filepath.Join(t.TempDir(), "new")},
	} {
		if got := runIn(t, malformed, "", args...); got.code != 2 || !strings.Contains(got.stderr, "OMBUD_ENCRYPTION_KEY") {
			t.Errorf("%v with a malformed key: exit %d %q", args[0], got.code, got.stderr)
		}
	}
}

func TestChatMyDataAndDelete(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	lines := append(script(t, "billender", false), "/mydata")
	got := chat(t, dir, strings.Join(lines, "\n")+"\n", "--issuer", "billender", "--lang", "en")
	path := lastMatch(t, got.stdout, `\S+ombud-mydata\.json`)
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "BIL-2026-00001") || !strings.Contains(string(b), "Anna Andersson") {
		t.Fatalf("export %s: %v\n%s", path, err, b)
	}
	got = chat(t, dir, "/delete\n1\n", "--lang", "en")
	if !strings.Contains(got.stdout, "Your data is erased") {
		t.Fatalf("delete:\n%s", got.stdout)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("the export survived the erasure")
	}
}

// A number typed where no options are shown is an answer, not a press of
// an earlier keyboard's button; piped lines are echoed.
func TestChatNumbersAnswerOnlyTheOptionsShown(t *testing.T) {
	dir := t.TempDir()
	// Continue, contacted: no, file now, topic 1 (terms), then "3" as the name.
	got := chat(t, dir, "1\n2\n1\n1\n3\nAnna Andersson\n", "--issuer", "billender", "--lang", "en")
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	if !strings.Contains(got.stdout, "at least 2 characters") {
		t.Errorf("3 as a name was not taken as text:\n%s", got.stdout)
	}
	if !strings.Contains(got.stdout, "you>   3\n") {
		t.Errorf("piped input is not echoed:\n%s", got.stdout)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.View(func(tx bot.Tx) error {
		s, err := tx.Session(dialog.SessionKey("console", "local"))
		if err != nil || s.Answers["full_name"].Value != "Anna Andersson" || s.Answers["topic"].Value != "terms" {
			t.Errorf("answers %+v, %v", s.Answers, err)
		}
		return nil
	})
}

// Running the README's demo twice files two complaints; the second script
// does not land in the first case.
func TestChatIssuerFlagStartsANewComplaint(t *testing.T) {
	dir := t.TempDir()
	in := strings.Join(script(t, "amex-se", true), "\n") + "\n"
	for i, want := range []string{"AXSE-2026-00001", "AXSE-2026-00002"} {
		got := chat(t, dir, in, "--issuer", "amex-se", "--lang", "sv")
		if got.code != 0 || !strings.Contains(got.stdout, "Ärendenummer: "+want) {
			t.Fatalf("run %d: exit %d, want %s filed:\n%s", i+1, got.code, want, got.stdout)
		}
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.View(func(tx bot.Tx) error {
		c, err := tx.Complaint("AXSE-2026-00001")
		for _, e := range c.History {
			if e.Kind == "consumer" {
				t.Errorf("the second run wrote into the first case: %q", e.Text)
			}
		}
		return err
	})
}

// Ctrl-C (the context ending) ends a chat that waits for a line.
func TestChatEndsOnInterrupt(t *testing.T) {
	stdin, typing := io.Pipe()
	defer typing.Close()
	greeted := make(chan struct{})
	out := &watchWriter{want: "Continue", seen: greeted}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Env{Stdin: stdin, Stdout: out, Stderr: out, Getenv: func(string) string { return "" },
		Now: func() time.Time { return time.Date(2026, 12, 18, 9, 0, 0, 0, time.UTC) }}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, e, []string{"chat", "--data", t.TempDir(), "--lang", "en"}) }()
	io.WriteString(typing, "hej\n")
	select {
	case <-greeted: // now it waits for the next line
	case code := <-done:
		t.Fatalf("chat ended early (%d)", code)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after Ctrl-C", code)
		}
	case <-time.After(10 * time.Second): // a failure bound, not a timing assertion
		t.Fatal("ombud chat did not end on Ctrl-C")
	}
}

// watchWriter closes seen once want has been written to it.
type watchWriter struct {
	mu   sync.Mutex
	b    strings.Builder
	want string
	seen chan struct{}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if w.seen != nil && strings.Contains(w.b.String(), w.want) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}
