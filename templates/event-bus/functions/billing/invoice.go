package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// paymentTerms is how long a customer has to pay an invoice.
const paymentTerms = 14 * 24 * time.Hour

// notice builds the invoice for an order. The total is recomputed from the
// lines rather than trusted from the event.
func notice(o Order) (Notice, error) {
	if o.OrderID == "" || o.Email == "" || len(o.Lines) == 0 {
		return Notice{}, errors.New("order needs an id, an email and at least one line")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Invoice for order %s\n\n", o.OrderID)
	var total int64
	for _, l := range o.Lines {
		sub := int64(l.Quantity) * l.PriceCents
		total += sub
		fmt.Fprintf(&b, "%-20s %4d × %10s = %10s\n", l.SKU, l.Quantity, money(l.PriceCents), money(sub))
	}
	fmt.Fprintf(&b, "\nTotal: %s\nDue:   %s\n", money(total), o.PlacedAt.Add(paymentTerms).UTC().Format("2006-01-02"))
	return Notice{
		Kind:    "invoice",
		OrderID: o.OrderID,
		To:      o.Email,
		Subject: fmt.Sprintf("Invoice for order %s: %s", o.OrderID, money(total)),
		Body:    b.String(),
	}, nil
}
