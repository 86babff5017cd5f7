package aws

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSharedPolicyRoundTrip: adding evdeploy's statements to a policy someone
// else wrote and removing them again gives back the document byte for byte;
// only evdeploy's statements are reported as this resource.
func TestSharedPolicyRoundTrip(t *testing.T) {
	ours := `{"Statement":[{"Action":"sqs:SendMessage","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Resource":"arn:aws:sqs:us-east-1:1:q","Sid":"evdeploy-a-dev-route-r"}],"Version":"2012-10-17"}`
	oursSids := map[string]bool{"evdeploy-a-dev-route-r": true}
	tests := []struct {
		name, cur string
		// sameText: the document comes back byte for byte; else (a lone
		// statement written as an object comes back as a one-element
		// list) it comes back equal as JSON.
		sameText bool
	}{
		{"list", `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"Theirs","Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}`, true},
		{"single statement object", `{"Version":"2008-10-17","Statement":{"Sid":"Theirs","Effect":"Deny","Principal":"*","Action":"sqs:*","Resource":"*"}}`, false},
		{"no policy", ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			merged, err := mergePolicy(tt.cur, ours, oursSids)
			if err != nil {
				t.Fatal(err)
			}
			if got := ourStatements(merged, oursSids); got != mustCanonicalJSON(ours) {
				t.Errorf("our part of %s = %s, want %s", merged, got, ours)
			}
			if got := ourStatements(tt.cur, oursSids); got != "" {
				t.Errorf("our part of the foreign policy = %q, want none", got)
			}
			// Re-applying replaces, never duplicates.
			again, err := mergePolicy(merged, ours, oursSids)
			if err != nil {
				t.Fatal(err)
			}
			if again != merged {
				t.Errorf("merging twice changed the document:\n%s\n%s", merged, again)
			}
			back, err := mergePolicy(merged, "", oursSids)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.sameText {
				back, tt.cur = ourStatementsAll(back), ourStatementsAll(tt.cur)
			}
			if d := cmp.Diff(tt.cur, back); d != "" {
				t.Errorf("removing ours does not give the document back (-before +after):\n%s", d)
			}
		})
	}
}

// ourStatementsAll is a document with a lone statement object written as a
// one-element list, canonical.
func ourStatementsAll(doc string) string {
	d, err := parsePolicyDoc(doc)
	if err != nil {
		return doc
	}
	d.single = false
	return mustCanonicalJSON(d.String())
}
