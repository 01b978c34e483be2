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
	for i, s := range p.Steps {
		if !s.Contact.HasChannel() {
			c.warnf(keyPath{"steps"}.index(i).key("contact"), "step %q has no address, email, phone or web: how does a consumer reach it?", s.ID)
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
			if d.Binds != "issuer" {
				continue
			}
			found = true
			at := keyPath{"steps"}.index(i).key("deadlines").index(j)
			if d.Period.WorkingDays == 0 {
				c.warnf(at.key("period"), "PSD2 Art. 101 counts business days; %s is in other units", d.Period)
			} else if d.Period.WorkingDays > psd2ReplyDays {
				c.warnf(at.key("period"), "%s is longer than PSD2 Art. 101's %d business days", d.Period, psd2ReplyDays)
			}
			if x := d.Extension; x != nil {
				if x.Period.WorkingDays == 0 {
					c.warnf(at.key("extension").key("period"), "PSD2 Art. 101 counts business days; %s is in other units", x.Period)
				} else if x.Period.WorkingDays > psd2ExtendedDays {
					c.warnf(at.key("extension").key("period"), "%s is longer than PSD2 Art. 101's %d business days with a holding reply", x.Period, psd2ExtendedDays)
				}
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
