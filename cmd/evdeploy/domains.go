package main

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/hashicorp/hcl/v2"

	awsprov "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/spec"
)

// lookupZones finds the Route 53 zone of every api domain before anything
// is lowered or written: a zone that does not exist is an error at the
// domain block that names it.
func lookupZones(ctx context.Context, app *spec.App, cfg aws.Config) (map[string]string, hcl.Diagnostics) {
	blocks := map[string][]*spec.Domain{}
	for _, a := range app.APIs {
		if a.Domain != nil && a.Domain.Zone != "" {
			blocks[a.Domain.Zone] = append(blocks[a.Domain.Zone], a.Domain)
		}
	}
	if len(blocks) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(blocks))
	for z := range blocks {
		names = append(names, z)
	}
	sort.Strings(names)
	zones := map[string]string{}
	var diags hcl.Diagnostics
	for _, z := range names {
		id, err := awsprov.HostedZoneID(ctx, cfg, z)
		if err != nil {
			summary := "Hosted zone not found"
			if !errors.Is(err, awsprov.ErrNoZone) {
				summary = "Hosted zone lookup failed"
			}
			for _, d := range blocks[z] {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  summary,
					Detail:   fmt.Sprintf("%v. Nothing was changed.", err),
					Subject:  d.Range.Ptr(),
				})
			}
			continue
		}
		zones[z] = id
	}
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		return a.Filename < b.Filename || a.Filename == b.Filename && a.Start.Line < b.Start.Line
	})
	return zones, diags
}
