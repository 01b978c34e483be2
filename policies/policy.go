package policies

// Policy is one issuer's complaint rules, decoded from one YAML file.
type Policy struct {
	ID         string   `yaml:"id"`
	Name       Text     `yaml:"name"`
	Country    string   `yaml:"country"`
	TimeZone   string   `yaml:"time_zone"`
	Languages  []string `yaml:"languages"`
	CasePrefix string   `yaml:"case_prefix"`
	// Source is the issuer page the policy was written from; Reviewed is
	// the date (YYYY-MM-DD) someone last checked the policy against it.
	Source   string `yaml:"source,omitempty"`
	Reviewed string `yaml:"reviewed,omitempty"`
	// ReviewEvery is how long a fact's source stays fresh: policy check
	// warns about facts checked longer ago. Unset means a year.
	ReviewEvery *Period `yaml:"review_every,omitempty"`
	// Withdrawn takes the issuer off the list for new complaints; its
	// cases and drafts carry on. A policy file may be removed only once
	// withdrawn and without open cases.
	Withdrawn bool `yaml:"withdrawn,omitempty"`
	// PSD2 marks a payment-service issuer: PSD2 Art. 101 binds it to
	// answer within 15 working days, or 35 with a holding reply.
	PSD2 bool `yaml:"psd2,omitempty"`
	// AgentName, if set, signs agents' replies to consumers with the
	// issuer's team name instead of the agent's own name.
	AgentName Text `yaml:"agent_name,omitempty"`
	// Retention is how long a consumer's personal data is kept after their
	// case closes; then it is erased and the case stays in the register
	// pseudonymised. Unset keeps it until the consumer asks for erasure.
	Retention *Period         `yaml:"retention,omitempty"`
	Calendar  CalendarOptions `yaml:"calendar,omitempty"`
	Steps     []Step          `yaml:"steps"`
	Fields    []Field         `yaml:"fields"`
	Notes     []Note          `yaml:"notes,omitempty"`

	// Set by the loader, not by the file.
	File    string `yaml:"-"`
	Version string `yaml:"-"`
	clock   *Clock
	// bodyClocks count the deadlines of steps in another country, by
	// country; the loader fills it, as it sets clock.
	bodyClocks map[string]*Clock
}

// Text is a piece of consumer-facing text keyed by language code (sv, da, en).
type Text map[string]string

// In returns the text in lang, falling back to English and then to any
// language present, so a consumer never gets an empty line.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	if s := t["en"]; s != "" {
		return s
	}
	for _, l := range []string{"sv", "da"} {
		if s := t[l]; s != "" {
			return s
		}
	}
	return ""
}

// CalendarOptions adjusts the country's working-day calendar for one issuer.
type CalendarOptions struct {
	// FridayAfterAscension makes the Danish bank closing day after Ascension a
	// non-working day. Off by default: most issuers count it as a working day.
	FridayAfterAscension bool `yaml:"friday_after_ascension,omitempty"`
}

// Step kinds, in the order a consumer usually meets them.
const (
	KindFirstContact = "first_contact" // customer service
	KindComplaints   = "complaints"    // the issuer's complaints function
	KindADR          = "adr"           // an out-of-court dispute body (ARN, Det Finansielle Ankenævn)
	KindGuidance     = "guidance"      // free advice (Konsumenternas, Hallå konsument, forbrug.dk)
	KindSupervisor   = "supervisor"    // a regulator that takes reports, not cases
	KindCourt        = "court"
)

// Step is one rung of the escalation ladder.
type Step struct {
	ID   string `yaml:"id"`
	Kind string `yaml:"kind"`
	Who  Text   `yaml:"who"`
	// WhoInSentence is Who as it reads inside a sentence ("if the
	// complaints manager says no"); unset, Who is used as it is.
	WhoInSentence Text `yaml:"who_in_sentence,omitempty"`
	Description   Text `yaml:"description"`
	// Country is whose working days count the step's own deadlines: the
	// country of the body that sets them (ARN's are Swedish, whoever the
	// issuer). Unset means the policy's country.
	Country    string     `yaml:"country,omitempty"`
	Contact    Contact    `yaml:"contact"`
	Applies    Applies    `yaml:"applies"`
	Conditions Conditions `yaml:"conditions,omitempty"`
	Deadlines  []Deadline `yaml:"deadlines,omitempty"`
	// Source backs what the step says about its body: that it exists, what
	// it hears, how to reach it. The issuer's own steps may rely on the
	// policy's source.
	Source *Source `yaml:"source,omitempty"`
}

// Source is where a fact told to consumers comes from, and when someone
// last checked it there.
type Source struct {
	// Ref is a web address or a statute, such as "lag (1930:173) 2 §".
	Ref string `yaml:"ref"`
	// Checked is when the fact was last checked against Ref (YYYY-MM-DD).
	Checked string `yaml:"checked"`
	// Confirm, if set, is what a person must still confirm before the fact
	// can be relied on; policy check lists it.
	Confirm string `yaml:"confirm,omitempty"`
}

// Contact says how to reach a step. At least one channel is expected.
type Contact struct {
	Address string `yaml:"address,omitempty"`
	Email   string `yaml:"email,omitempty"`
	Phone   string `yaml:"phone,omitempty"`
	Web     string `yaml:"web,omitempty"`
	Hours   Text   `yaml:"hours,omitempty"`
}

// HasChannel reports whether the contact names any way to reach it.
func (c Contact) HasChannel() bool {
	return c.Address != "" || c.Email != "" || c.Phone != "" || c.Web != ""
}

// Applies says when a step is open to the consumer. Any true condition opens it.
type Applies struct {
	// Always: the consumer may use this step at any time, even before
	// contacting the issuer.
	Always bool `yaml:"always,omitempty"`
	// AfterStep names the step whose outcome opens this one.
	AfterStep string `yaml:"after_step,omitempty"`
	// AfterRejection: open once AfterStep rejected the complaint in whole or part.
	AfterRejection bool `yaml:"after_rejection,omitempty"`
	// NoAnswerWithin: open when AfterStep has not answered within this period
	// of receiving the complaint: a rule of this step's body (Det
	// Finansielle Ankenævn's five weeks).
	NoAnswerWithin *Period `yaml:"no_answer_within,omitempty"`
	// NoAnswerBy: open when AfterStep has not answered by its own deadline
	// of this id, as in force for the case (later after a holding reply).
	NoAnswerBy string `yaml:"no_answer_by,omitempty"`
	// AfterNoAgreement: open once AfterStep, a mediation, ended without an
	// agreement. A mediation does not say no; it fails.
	AfterNoAgreement bool `yaml:"after_no_agreement,omitempty"`
	// Source backs the rule that opens the step.
	Source *Source `yaml:"source,omitempty"`
}

// Conditions are what the consumer must meet or pay to use a step.
type Conditions struct {
	Fee       *Money   `yaml:"fee,omitempty"`
	MinAmount *Money   `yaml:"min_amount,omitempty"`
	Languages []string `yaml:"languages,omitempty"`
	Form      Text     `yaml:"form,omitempty"`
	Note      Text     `yaml:"note,omitempty"`
	// Source backs the form, languages and note.
	Source *Source `yaml:"source,omitempty"`
}

// Money is an amount in whole units of a currency (SEK, DKK, EUR).
type Money struct {
	Amount   int     `yaml:"amount"`
	Currency string  `yaml:"currency"`
	Source   *Source `yaml:"source,omitempty"`
}

// Deadline anchors: where a period starts counting.
const (
	FromReceived       = "received"        // the step received the complaint (day 0)
	FromFirstComplaint = "first_complaint" // the consumer first complained to the issuer
	FromDecision       = "decision"        // the previous step's final answer
)

// Deadline is a period that binds someone: the issuer to answer, or the
// consumer to file with the next body.
type Deadline struct {
	ID    string `yaml:"id"`
	Label Text   `yaml:"label"`
	// Binds is who must act by the date.
	Binds     Party      `yaml:"binds"`
	From      string     `yaml:"from"`
	Period    Period     `yaml:"period"`
	Extension *Extension `yaml:"extension,omitempty"`
	Source    *Source    `yaml:"source,omitempty"`
}

// Extension is a longer period the issuer may take, counted from the same
// anchor, when it sends a holding reply with its reasons.
type Extension struct {
	Period Period `yaml:"period"`
	Label  Text   `yaml:"label"`
	// RequiresHoldingReply: the extension is valid only if the issuer told
	// the consumer, with reasons, before the original date.
	RequiresHoldingReply bool `yaml:"requires_holding_reply,omitempty"`
}

// Period is a length of time; exactly one unit is set.
type Period struct {
	WorkingDays  int `yaml:"working_days,omitempty"`
	CalendarDays int `yaml:"calendar_days,omitempty"`
	Hours        int `yaml:"hours,omitempty"`
	Years        int `yaml:"years,omitempty"`
}

// Field types a policy may ask for.
const (
	FieldText        = "text"
	FieldLongText    = "long_text"
	FieldDate        = "date"
	FieldChoice      = "choice"
	FieldYesNo       = "yes_no"
	FieldEmail       = "email"
	FieldPhone       = "phone"
	FieldAmount      = "amount"
	FieldReference   = "reference"
	FieldAttachments = "attachments"
)

// Field is one piece of information the issuer asks the consumer for.
type Field struct {
	ID       string   `yaml:"id"`
	Type     string   `yaml:"type"`
	Required bool     `yaml:"required,omitempty"`
	Prompt   Text     `yaml:"prompt"`
	Help     Text     `yaml:"help"`
	Choices  []Choice `yaml:"choices,omitempty"`
	// Pattern is a regular expression a reference must match in full.
	Pattern string `yaml:"pattern,omitempty"`
	// Currency is the default currency of an amount.
	Currency  string `yaml:"currency,omitempty"`
	MinLength int    `yaml:"min_length,omitempty"`
	MaxLength int    `yaml:"max_length,omitempty"`
	// AskIf makes the field conditional on an earlier answer.
	AskIf *AskIf `yaml:"ask_if,omitempty"`
	// Register files a choice field's answer in the complaints register
	// as the case's product or cause category.
	Register RegisterRole `yaml:"register,omitempty"`
	// Mask hides all but the start of the answer wherever the agents'
	// desk shows it, such as a personal identity number the issuer needs
	// only to find the case; the full answer stays on the case.
	Mask bool `yaml:"mask,omitempty"`
	// Claim marks the amount field whose answer is what the consumer
	// claims: it is held against each body's minimum amount.
	Claim bool `yaml:"claim,omitempty"`
}

// Choice is one option of a choice field.
type Choice struct {
	ID    string `yaml:"id"`
	Label Text   `yaml:"label"`
}

// Party is who a deadline binds.
type Party string

const (
	BindsIssuer   Party = "issuer"   // the issuer must answer or decide by the date
	BindsConsumer Party = "consumer" // the consumer must act by the date, or lose the step
)

// RegisterRole is the category of the complaints register a choice
// field's answer files the case under.
type RegisterRole string

const (
	RegisterProduct RegisterRole = "product" // the financial product complained about
	RegisterCause   RegisterRole = "cause"   // what the complaint is about
)

// AskIf asks a field only when an earlier field has the given answer
// (a choice id, or "yes"/"no" for a yes/no field).
type AskIf struct {
	Field  string `yaml:"field"`
	Equals string `yaml:"equals"`
}

// Note is text shown to the consumer, such as a privacy notice.
type Note struct {
	ID     string  `yaml:"id"`
	Kind   string  `yaml:"kind"` // privacy, info or warning
	Text   Text    `yaml:"text"`
	Source *Source `yaml:"source,omitempty"`
}

// Step returns the step with the given id.
func (p *Policy) Step(id string) (Step, bool) {
	for _, s := range p.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// InSentence is the step's body named inside a sentence, in lang.
func (s Step) InSentence(lang string) string {
	if t := s.WhoInSentence.In(lang); t != "" {
		return t
	}
	return s.Who.In(lang)
}

// Field returns the field with the given id.
func (p *Policy) Field(id string) (Field, bool) {
	for _, f := range p.Fields {
		if f.ID == id {
			return f, true
		}
	}
	return Field{}, false
}

// Offers reports whether the policy is offered in lang.
func (p *Policy) Offers(lang string) bool {
	for _, l := range p.Languages {
		if l == lang {
			return true
		}
	}
	return false
}
