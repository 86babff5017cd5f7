package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// cutoff is the hour (UTC) until which express orders leave the same day.
const cutoff = 15

// notice builds the dispatch notice for an express order. The rule routes
// only express orders here; anything else is an error, not a silent skip, so
// a wrong pattern shows up in the logs.
func notice(o Order) (Notice, error) {
	if o.Priority != "express" {
		return Notice{}, fmt.Errorf("order %s has priority %q, want express", o.OrderID, o.Priority)
	}
	if o.OrderID == "" || o.Email == "" {
		return Notice{}, errors.New("order needs an id and an email")
	}
	ship := ShipDate(o.PlacedAt)
	var skus []string
	for _, l := range o.Lines {
		skus = append(skus, fmt.Sprintf("%d × %s", l.Quantity, l.SKU))
	}
	return Notice{
		Kind:    "dispatch",
		OrderID: o.OrderID,
		To:      o.Email,
		Subject: fmt.Sprintf("Order %s ships %s", o.OrderID, ship.Format("Mon 2 Jan")),
		Body:    fmt.Sprintf("Your express order %s (%s) leaves our warehouse on %s.\n", o.OrderID, strings.Join(skus, ", "), ship.Format("Monday 2 January")),
	}, nil
}

// ShipDate is the day an express order leaves: the same day when placed before
// the cutoff on a weekday, else the next weekday.
func ShipDate(placed time.Time) time.Time {
	d := placed.UTC()
	if d.Hour() >= cutoff {
		d = d.AddDate(0, 0, 1)
	}
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}
