package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	awsprov "github.com/evdeploy/evdeploy/providers/aws"
	"github.com/evdeploy/evdeploy/spec"
)

func init() { registerVerb(newCmdSecret) }

// SecretSetOptions are `secret set`'s flags.
type SecretSetOptions struct {
	Name     string
	FromFile string
}

func newCmdSecret(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Set and list the values of secret blocks (never shown)",
		Long: `secret writes the value of a secret block to its SSM parameter or Secrets
Manager secret, and lists the secrets with their store, version and last change.
A value is read from stdin or a file, never from an argument (arguments end up
in shell history and process lists), and is never printed.`,
		Example: `  printf %s "$STRIPE_KEY" | evdeploy secret set stripe_key
  evdeploy secret list --stage prod`,
	}
	setOpts := &SecretSetOptions{}
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Write a new version of a secret's value, read from stdin or --from-file",
		Long: `set writes a new version of the secret's value. It changes nothing else: no
function, no state, no other setting. Functions that read the secret at run time
see the new value without a deploy. The container must exist (apply first);
secrets declared with existing = … are never written.`,
		Example: `  printf %s "$STRIPE_KEY" | evdeploy secret set stripe_key
  evdeploy secret set db --from-file db-password.txt --target local`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			setOpts.Name = args[0]
			return secretSetRun(cmd.Context(), f, setOpts)
		},
	}
	set.Flags().StringVar(&setOpts.FromFile, "from-file", "", "read the value from `FILE` (default: stdin)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the secrets: name, store, whether set, version, last change (never values)",
		Long: `list shows each secret block of the spec with its store (ssm or
secretsmanager), whether it has a value, its version and when it last changed,
read from the store's metadata. It never reads or prints a value.`,
		Example: `  evdeploy secret list
  evdeploy secret list --target local`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return secretListRun(cmd.Context(), f)
		},
	}
	cmd.AddCommand(set, list)
	return cmd
}

// secretTarget is where a secret block's value lives.
type secretTarget struct {
	block    *spec.Secret
	store    string
	id       string // parameter name, secret name, or the existing ARN
	existing bool
}

func secretTargets(app *spec.App) []secretTarget {
	var out []secretTarget
	for _, s := range app.Secrets {
		t := secretTarget{block: s, store: s.Store, existing: s.Existing != ""}
		if t.existing {
			t.id = s.Existing
			if s.Store == spec.StoreSSM {
				t.id = spec.ExistingName(s.Existing)
			}
		} else {
			t.id = spec.SecretName(s.Store, app.Name, app.Stage, s.Addr.Name)
		}
		out = append(out, t)
	}
	return out
}

func findSecret(app *spec.App, name string) (secretTarget, error) {
	name = strings.TrimPrefix(name, "secret.")
	var names []string
	for _, t := range secretTargets(app) {
		if t.block.Addr.Name == name {
			return t, nil
		}
		names = append(names, t.block.Addr.Name)
	}
	if len(names) == 0 {
		return secretTarget{}, fmt.Errorf("the spec has no secret blocks; declare secret %q { } first", name)
	}
	return secretTarget{}, fmt.Errorf("the spec has no secret %q; its secrets are %s", name, strings.Join(names, ", "))
}

// maxSecretSize is Secrets Manager's limit (SSM's advanced tier allows 8 KB,
// its standard tier 4 KB: SSM answers for itself).
const maxSecretSize = 64 << 10

func secretSetRun(ctx context.Context, f *Factory, opts *SecretSetOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	app, _, err := loadApp(f)
	if err != nil {
		return err
	}
	t, err := findSecret(app, opts.Name)
	if err != nil {
		return err
	}
	if t.existing {
		return fmt.Errorf("%s is made elsewhere (existing = %s): evdeploy reads it and never writes it", t.block.Addr, t.block.Existing)
	}
	var r io.Reader = f.IO.In
	from := "stdin"
	if opts.FromFile != "" {
		file, err := os.Open(opts.FromFile)
		if err != nil {
			return fmt.Errorf("--from-file: %w", err)
		}
		defer file.Close()
		r, from = file, opts.FromFile
	} else if f.IO.InTTY {
		fmt.Fprintf(f.IO.ErrOut, "Reading the value of %s from stdin (end with Ctrl-D)…\n", t.block.Addr)
	}
	value, err := io.ReadAll(io.LimitReader(r, maxSecretSize+1))
	if err != nil {
		return fmt.Errorf("reading the value from %s: %w", from, err)
	}
	// One trailing newline is what `echo` and editors add, not part of the value.
	value = bytes.TrimSuffix(bytes.TrimSuffix(value, []byte("\n")), []byte("\r"))
	switch {
	case len(value) == 0:
		return fmt.Errorf("%s: the value read from %s is empty; nothing was written", t.block.Addr, from)
	case len(value) > maxSecretSize:
		return fmt.Errorf("%s: the value read from %s is over %d KB; nothing was written", t.block.Addr, from, maxSecretSize>>10)
	}
	// Whatever is printed from here on (an AWS error echoing the request)
	// must not show the value.
	f.redact.add(string(value))
	cfg, _, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	version, err := awsprov.PutSecretValue(ctx, cfg, t.store, t.id, value)
	if errors.Is(err, awsprov.ErrNoSecret) {
		return fmt.Errorf("%s: %s does not exist in this stage yet; run evdeploy apply first", t.block.Addr, t.id)
	}
	if err != nil {
		return fmt.Errorf("%s: writing the value: %w", t.block.Addr, err)
	}
	fmt.Fprintf(f.IO.Out, "%s: wrote a new value (version %s) to %s %s\n", t.block.Addr, version, storeLabel(t.store), t.id)
	return nil
}

func storeLabel(store string) string {
	if store == spec.StoreSecretsManager {
		return "Secrets Manager secret"
	}
	return "SSM parameter"
}

func secretListRun(ctx context.Context, f *Factory) error {
	if ctx == nil {
		ctx = context.Background()
	}
	app, _, err := loadApp(f)
	if err != nil {
		return err
	}
	targets := secretTargets(app)
	if len(targets) == 0 {
		fmt.Fprintln(f.IO.Out, "No secret blocks in the spec.")
		return nil
	}
	cfg, _, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(f.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTORE\tVALUE\tVERSION\tLAST CHANGE\tID")
	for _, t := range targets {
		info, err := awsprov.SecretStatus(ctx, cfg, t.store, t.id)
		if err != nil {
			return fmt.Errorf("%s: %w", t.block.Addr, err)
		}
		status, version, changed := "not created (apply)", "-", "-"
		if info.Exists {
			status = "set"
			if !info.HasValue {
				status = "none (secret set)"
			}
			if info.Version != "" {
				version = info.Version
			}
			if !info.LastChanged.IsZero() {
				changed = info.LastChanged.UTC().Format(time.RFC3339)
			}
		}
		if t.existing {
			status += " (existing)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.block.Addr.Name, t.store, status, version, changed, t.id)
	}
	return tw.Flush()
}

// warnUnsetSecrets tells which secrets evdeploy made have no value yet.
func warnUnsetSecrets(ctx context.Context, f *Factory, app *spec.App, cfg aws.Config) {
	for _, t := range secretTargets(app) {
		if t.existing {
			continue
		}
		info, err := awsprov.SecretStatus(ctx, cfg, t.store, t.id)
		if err != nil || info.HasValue {
			continue
		}
		fmt.Fprintf(f.IO.ErrOut, "Warning: %s\n", planner.SecretNoValueWarning(t.block.Addr.String(), t.block.Addr.Name))
	}
}

// secretDataLoss marks the deletion of a secret that has a value as data
// loss. State records whether a secret had a value when evdeploy last read
// it, but `secret set` writes values without touching state, so a plan made
// without refresh (destroy) asks the store.
func secretDataLoss(ctx context.Context, cfg aws.Config, p *planner.Plan) error {
	for _, c := range p.Changes {
		if c.DataLoss || c.Missing || c.Action != planner.Delete && c.Action != planner.Replace || c.ID == "" {
			continue
		}
		store := ""
		switch c.Addr.Type {
		case planner.TypeSSMParameter:
			store = spec.StoreSSM
		case planner.TypeSecret:
			store = spec.StoreSecretsManager
		default:
			continue
		}
		info, err := awsprov.SecretStatus(ctx, cfg, store, c.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Addr, err)
		}
		c.DataLoss = info.HasValue
	}
	return nil
}
