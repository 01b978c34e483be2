package main

import (
	"context"
	"fmt"
	"strings"

	"ombud/policies"
)

func runDeadline(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "deadline", "--country SE|DK --from YYYY-MM-DD (--working-days N | --calendar-days N)",
		"Prints the due date as YYYY-MM-DD and nothing else. The --from date is day 0 and never\n"+
			"counts; the due date is the N-th working day after it (Swedish or Danish calendar).")
	country := fs.String("country", "", "SE or DK")
	from := fs.String("from", "", "day of receipt, YYYY-MM-DD")
	working := fs.Int("working-days", 0, "number of working days")
	calendar := fs.Int("calendar-days", 0, "number of calendar days")
	fridayAfterAscension := fs.Bool("friday-after-ascension", false, "DK: count the bank closing day after Ascension as non-working")
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return usageError(env, fs, "unexpected argument %q", rest[0])
	}
	cal, err := policies.NewCalendar(strings.ToUpper(*country), policies.CalendarOptions{FridayAfterAscension: *fridayAfterAscension})
	if err != nil {
		return usageError(env, fs, "--country: want SE or DK, got %q", *country)
	}
	start, err := policies.ParseDate(*from)
	if err != nil {
		return usageError(env, fs, "--from: want a date like 2026-12-18, got %q", *from)
	}
	var due policies.Date
	switch {
	case *working > 0 && *calendar > 0:
		return usageError(env, fs, "give either --working-days or --calendar-days, not both")
	case *working > 0:
		due = cal.AddWorkingDays(start, *working)
	case *calendar > 0:
		due = start.AddDays(*calendar)
	case *working < 0 || *calendar < 0:
		return usageError(env, fs, "the number of days must be greater than 0")
	default:
		return usageError(env, fs, "give --working-days N or --calendar-days N")
	}
	fmt.Fprintln(env.Stdout, due)
	return exitOK
}
