package policies

import (
	"reflect"
	"regexp"
	"strings"
)

// odrReference matches text that sends consumers to the EU online dispute
// resolution platform, which Regulation (EU) 2024/3228 closed on 20 July 2025.
var odrReference = regexp.MustCompile(`(?i)ec\.europa\.eu/consumers/odr|\bODR\b|\bOTB\b|onlineplattform för konfliktlösning|onlinetvistbilæggelse|online dispute resolution platform`)

// mentionsODR reports whether s refers to the ODR platform. A cheap
// substring test keeps the regular expression off most texts.
func mentionsODR(s string) bool {
	lower := strings.ToLower(s)
	for _, hint := range []string{"odr", "otb", "onlineplattform", "onlinetvist", "online dispute"} {
		if strings.Contains(lower, hint) {
			return odrReference.MatchString(s)
		}
	}
	return false
}

// PSD2 Art. 101(2): a final reply within 15 business days, or 35 with a
// holding reply.
const (
	psd2ReplyDays    = 15
	psd2ExtendedDays = 35
)

// lint records warnings: things that are legal YAML and a valid policy, but
// probably wrong. They never block a policy.
func (c *checker) lint(p *Policy) {
	walkStrings(reflect.ValueOf(*p), keyPath{}, func(at keyPath, s string) {
		if mentionsODR(s) {
			c.warnf(at, "refers to the EU ODR platform, which closed on 20 July 2025; name the national ADR body instead")
		}
	})
	if p.Source == "" {
		c.warnf(keyPath{"source"}, "say which issuer page the policy was written from")
	}
	for i, s := range p.Steps {
		sp := keyPath{"steps"}.index(i)
		if !s.Contact.HasChannel() {
			c.warnf(sp.key("contact"), "step %q has no address, email, phone or web: how does a consumer reach it?", s.ID)
		}
		// The issuer's own steps rest on its page (the policy's source);
		// every other body's facts need a source of their own.
		if s.Kind != KindFirstContact && s.Kind != KindComplaints && s.Source == nil {
			c.warnf(sp, "step %q tells consumers about %s without a source: add source: {ref: ..., checked: YYYY-MM-DD}", s.ID, s.Who.In("en"))
		}
	}
	if p.PSD2 {
		c.lintPSD2(p)
	}
}

// lintPSD2 warns when a payment issuer promises less than PSD2 requires.
func (c *checker) lintPSD2(p *Policy) {
	found := false
	for i, s := range p.Steps {
		if s.Kind != KindComplaints {
			continue
		}
		for j, d := range s.Deadlines {
			if d.Binds != BindsIssuer {
				continue
			}
			found = true
			at := keyPath{"steps"}.index(i).key("deadlines").index(j)
			c.psd2Period(at.key("period"), d.Period, psd2ReplyDays, "")
			if x := d.Extension; x != nil {
				c.psd2Period(at.key("extension").key("period"), x.Period, psd2ExtendedDays, " with a holding reply")
				if !x.RequiresHoldingReply {
					c.warnf(at.key("extension"), "PSD2 Art. 101 allows the extension only with a holding reply: set requires_holding_reply")
				}
			}
		}
	}
	if !found {
		c.warnf(keyPath{"psd2"}, "payment issuer without a deadline on its complaints step: PSD2 Art. 101 requires a reply within %d business days", psd2ReplyDays)
	}
}

// stale warns about facts whose source was checked longer ago than the
// policy's review interval (a year unless review_every says otherwise).
func (c *checker) stale(p *Policy, today Date) {
	every := Period{Years: 1}
	if p.ReviewEvery != nil {
		every = *p.ReviewEvery
	}
	clock := p.Clock()
	check := func(at keyPath, checked string) {
		d, err := ParseDate(checked)
		if err != nil {
			return // validate has reported it
		}
		if due := clock.DueFromDate(d, every); due.Date.Before(today) {
			c.warnf(at, "checked on %s, more than %s ago: check the source again and update the date", checked, every)
		}
	}
	if p.Reviewed != "" {
		check(keyPath{"reviewed"}, p.Reviewed)
	}
	forEachSource(reflect.ValueOf(*p), keyPath{}, func(at keyPath, s *Source) {
		check(at.key("checked"), s.Checked)
	})
}

// forEachSource calls fn for every source in v, with its path.
func forEachSource(v reflect.Value, at keyPath, fn func(keyPath, *Source)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if s, ok := v.Interface().(*Source); ok {
			fn(at, s)
			return
		}
		forEachSource(v.Elem(), at, fn)
	case reflect.Slice:
		for i := range v.Len() {
			forEachSource(v.Index(i), at.index(i), fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			forEachSource(v.Field(i), at.key(name), fn)
		}
	}
}

// psd2Period warns when an issuer's period may end after PSD2's limit of
// max business days. A promise in calendar days or hours that cannot end
// later (35 days in all, against 35 business days) is the issuer's own,
// stricter promise, and fine.
func (c *checker) psd2Period(at keyPath, p Period, max int, with string) {
	switch {
	case p.WorkingDays > max:
		c.warnf(at, "%s is longer than PSD2 Art. 101's %d business days%s", p, max, with)
	case p.WorkingDays > 0:
	case p.CalendarDays > 0 && p.CalendarDays <= max, p.Hours > 0 && p.Hours <= 24*max:
	default:
		c.warnf(at, "%s may end after PSD2 Art. 101's %d business days%s", p, max, with)
	}
}

// walkStrings calls fn for every string in v, with its path in the file.
func walkStrings(v reflect.Value, at keyPath, fn func(keyPath, string)) {
	switch v.Kind() {
	case reflect.String:
		if v.String() != "" {
			fn(at, v.String())
		}
	case reflect.Pointer:
		if !v.IsNil() {
			walkStrings(v.Elem(), at, fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkStrings(v.Index(i), at.index(i), fn)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStrings(v.MapIndex(k), at.key(k.String()), fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			walkStrings(v.Field(i), at.key(name), fn)
		}
	}
}
