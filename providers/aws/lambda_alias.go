package aws

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/evdeploy/evdeploy/planner"
)

// lambdaAlias manages aws_lambda_alias, a released function's `live` alias
// (issue 19); its physical id is "<function>:<alias>". Creating it publishes
// the first version; updating it is a release: publish a version, shift the
// alias to it by the strategy (canary, linear, all at once) while watching
// alarms and the new version's error rate, roll back at once when one
// trips, and prune old versions.
type lambdaAlias struct {
	api *lambda.Client
	cw  *cloudwatch.Client
	// now and sleep are the clock (tests may shorten nothing: waits are
	// the spec's, seconds in tests).
	poll time.Duration
}

func newLambdaAlias(c *clients) *lambdaAlias {
	return &lambdaAlias{api: c.lambda, cw: cloudwatch.NewFromConfig(c.cfg), poll: 2 * time.Second}
}

func (*lambdaAlias) Schema() planner.Schema {
	return planner.Schema{
		Type:     planner.TypeAlias,
		ForceNew: []string{"function_name", "name"},
		Computed: []string{"arn", "function_version", "revision_id", "latest_version", "latest_release_key"},
		// How a release runs never makes a change by itself; the next
		// release uses it.
		NoDiff: []string{"strategy", "percent", "wait_seconds", "alarms", "max_errors", "keep_versions", "code_sha256"},
	}
}

// releaseDescPrefix starts the description evdeploy gives each version it
// publishes and the alias: the rest is the release key (a hash of the
// function's settings and code), so Read can tell which spec the alias
// serves.
const releaseDescPrefix = "evdeploy release "

func splitAliasID(id string) (function, alias string, err error) {
	i := strings.LastIndex(id, ":")
	if i <= 0 || i == len(id)-1 {
		return "", "", fmt.Errorf("invalid alias id %q: want <function>:<alias>", id)
	}
	return id[:i], id[i+1:], nil
}

// splitQualifier splits "name:qualifier" (how the lowering names a way into
// a released function) into FunctionName and Qualifier, for the APIs that
// take the qualifier as a parameter of its own.
func splitQualifier(fn string) (name string, qualifier *string) {
	if strings.HasPrefix(fn, "arn:") {
		return fn, nil
	}
	if n, q, ok := strings.Cut(fn, ":"); ok {
		return n, aws.String(q)
	}
	return fn, nil
}

// routingAttr renders an alias's additional version weights as
// "<version>=<weight>" (one entry: Lambda allows one), nil when none.
func routingAttr(rc *lambdatypes.AliasRoutingConfiguration) any {
	if rc == nil || len(rc.AdditionalVersionWeights) == 0 {
		return nil
	}
	var parts []string
	for v, w := range rc.AdditionalVersionWeights {
		parts = append(parts, v+"="+strconv.FormatFloat(w, 'f', -1, 64))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func aliasAttrs(fn string, a *lambda.GetAliasOutput) planner.Attrs {
	attrs := planner.Attrs{
		"function_name":    fn,
		"name":             aws.ToString(a.Name),
		"arn":              aws.ToString(a.AliasArn),
		"function_version": aws.ToString(a.FunctionVersion),
		"revision_id":      aws.ToString(a.RevisionId),
		"routing":          routingAttr(a.RoutingConfig),
		"release_key":      strings.TrimPrefix(aws.ToString(a.Description), releaseDescPrefix),
	}
	if !strings.HasPrefix(aws.ToString(a.Description), releaseDescPrefix) {
		attrs["release_key"] = ""
	}
	return attrs
}

func (h *lambdaAlias) get(ctx context.Context, fn, name string) (*lambda.GetAliasOutput, error) {
	out, err := h.api.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(name)})
	if isLambdaNotFound(err) {
		return nil, nil
	}
	return out, classify(err)
}

func (h *lambdaAlias) Read(ctx context.Context, id string, prior planner.Attrs) (planner.Attrs, bool, error) {
	fn, name, err := splitAliasID(id)
	if err != nil {
		return nil, false, err
	}
	out, err := h.get(ctx, fn, name)
	if err != nil || out == nil {
		return nil, false, err
	}
	attrs := aliasAttrs(fn, out)
	versions, latestKey, err := h.versionsAndKey(ctx, fn)
	if err != nil {
		return nil, false, err
	}
	if len(versions) > 0 {
		attrs["latest_version"] = strconv.Itoa(versions[len(versions)-1])
		// What the latest version was published for: a release of the same
		// settings gets it back (the plan's "→ vN").
		attrs["latest_release_key"] = latestKey
	}
	if prior.Has("provisioned_concurrency") && prior["provisioned_concurrency"] != nil {
		pc, err := h.api.GetProvisionedConcurrencyConfig(ctx, &lambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(name)})
		switch {
		case err == nil:
			attrs["provisioned_concurrency"] = int64(aws.ToInt32(pc.RequestedProvisionedConcurrentExecutions))
		case hasCode(err, "ProvisionedConcurrencyConfigNotFoundException"):
			attrs["provisioned_concurrency"] = nil
		}
		// Any other answer (an emulator without the API): not reported.
	}
	return attrs, true, nil
}

// versions lists the function's published version numbers, ascending.
func (h *lambdaAlias) versions(ctx context.Context, fn string) ([]int, error) {
	out, _, err := h.versionsAndKey(ctx, fn)
	return out, err
}

// versionsAndKey is versions plus the release key the latest version was
// published with ("" if it was not published by a release).
func (h *lambdaAlias) versionsAndKey(ctx context.Context, fn string) ([]int, string, error) {
	var out []int
	latest, key := -1, ""
	p := lambda.NewListVersionsByFunctionPaginator(h.api, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(fn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isLambdaNotFound(err) {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", classify(err)
		}
		for _, v := range page.Versions {
			if n, err := strconv.Atoi(aws.ToString(v.Version)); err == nil {
				out = append(out, n)
				if n > latest {
					latest = n
					key = ""
					if k, ok := strings.CutPrefix(aws.ToString(v.Description), releaseDescPrefix); ok {
						key = k
					}
				}
			}
		}
	}
	sort.Ints(out)
	return out, key, nil
}

// publish publishes $LATEST as a version, guarded by the code the function
// update just deployed (Lambda refuses if $LATEST changed since). Lambda
// returns the last version again when nothing changed since it.
func (h *lambdaAlias) publish(ctx context.Context, desired planner.Attrs) (string, error) {
	in := &lambda.PublishVersionInput{
		FunctionName: aws.String(desired.String("function_name")),
		Description:  aws.String(releaseDescPrefix + desired.String("release_key")),
	}
	if sha := desired.String("code_sha256"); sha != "" {
		in.CodeSha256 = aws.String(sha)
	}
	out, err := h.api.PublishVersion(ctx, in)
	if err != nil && apiErrorCode(err) == "" && !errors.Is(err, context.Canceled) {
		// No Lambda error document: an endpoint without versions (the
		// embedded engine's kumo answers PublishVersion with an XML 400).
		return "", fmt.Errorf("publishing a version: this endpoint does not support Lambda versions, which a release block needs (AWS, LocalStack and moto do; see docs/releases.md): %w", err)
	}
	if err != nil {
		return "", fmt.Errorf("publishing a version: %w", lambdaError(err))
	}
	v := aws.ToString(out.Version)
	if v == "" || v == "$LATEST" {
		return "", fmt.Errorf("publishing a version: Lambda answered version %q", v)
	}
	return v, nil
}

func (h *lambdaAlias) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	fn, name := desired.String("function_name"), desired.String("name")
	id := fn + ":" + name
	if cur, err := h.get(ctx, fn, name); err != nil {
		return "", nil, err
	} else if cur != nil {
		// A create whose answer was lost: the alias is this function's
		// (evdeploy owns the function), so bring it to the spec.
		actual, err := h.Update(ctx, id, aliasAttrs(fn, cur), desired)
		return id, actual, err
	}
	v, err := h.publish(ctx, desired)
	if err != nil {
		return "", nil, err
	}
	_, err = h.api.CreateAlias(ctx, &lambda.CreateAliasInput{
		FunctionName:    aws.String(fn),
		Name:            aws.String(name),
		FunctionVersion: aws.String(v),
		Description:     aws.String(releaseDescPrefix + desired.String("release_key")),
	})
	if err != nil {
		return "", nil, lambdaError(err)
	}
	planner.ReleaseProgress(ctx, fmt.Sprintf("released v%s (first version)", v))
	if err := h.setProvisioned(ctx, fn, name, nil, desired); err != nil {
		return "", nil, err
	}
	actual, _, err := h.Read(ctx, id, desired)
	if err != nil {
		return "", nil, err
	}
	actual["rollout"] = nil
	return id, actual, nil
}

// rollout is a release in progress, recorded in state at every step.
type rollout struct {
	Stable, Candidate string
	Strategy          string
	Step              int // index into the strategy's weights
	StepStart         time.Time
	RevisionID        string
}

func (r *rollout) attr() map[string]any {
	return map[string]any{
		"stable": r.Stable, "candidate": r.Candidate, "strategy": r.Strategy,
		"step": int64(r.Step), "step_start": r.StepStart.UTC().Format(time.RFC3339Nano), "revision_id": r.RevisionID,
	}
}

func rolloutFrom(a planner.Attrs) *rollout {
	m, ok := a["rollout"].(map[string]any)
	if !ok {
		return nil
	}
	r := &rollout{}
	r.Stable, _ = m["stable"].(string)
	r.Candidate, _ = m["candidate"].(string)
	r.Strategy, _ = m["strategy"].(string)
	r.RevisionID, _ = m["revision_id"].(string)
	r.Step = int(planner.Attrs(m).Int("step"))
	if s, ok := m["step_start"].(string); ok {
		r.StepStart, _ = time.Parse(time.RFC3339Nano, s)
	}
	return r
}

// releaseWeights are the candidate's shares, step by step, before it takes
// all traffic: canary one step, linear one per `percent`, all at once none.
func releaseWeights(desired planner.Attrs) []float64 {
	p := desired.Int("percent")
	switch desired.String("strategy") {
	case "canary":
		return []float64{float64(p) / 100}
	case "linear":
		var w []float64
		for s := p; s < 100 && p > 0; s += p {
			w = append(w, float64(s)/100)
		}
		return w
	}
	return nil
}

// ReleaseError is a release that was rolled back: the alias is back on the
// stable version.
type ReleaseError struct {
	Stable, Candidate string
	Why               string
}

func (e *ReleaseError) Error() string {
	return fmt.Sprintf("release of v%s rolled back, all traffic on v%s: %s", e.Candidate, e.Stable, e.Why)
}

// routing returns the alias's routing configuration for a weight on one
// extra version, after the checks Lambda makes late (or emulators never):
// one extra version only, a published one (never $LATEST), a weight in 0–1.
func routing(candidate string, w float64) (*lambdatypes.AliasRoutingConfiguration, error) {
	if _, err := strconv.Atoi(candidate); err != nil {
		return nil, fmt.Errorf("cannot route to version %q: only a published version may take weighted traffic", candidate)
	}
	if w < 0 || w > 1 || math.IsNaN(w) {
		return nil, fmt.Errorf("weight %g of version %s is outside 0–1", w, candidate)
	}
	return &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{candidate: w}}, nil
}

func noRouting() *lambdatypes.AliasRoutingConfiguration {
	return &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}
}

// sameRuntimeSettings checks what Lambda requires of two versions an alias
// splits traffic between: the same execution role and dead-letter settings.
func (h *lambdaAlias) sameRuntimeSettings(ctx context.Context, fn, a, b string) error {
	conf := func(v string) (*lambda.GetFunctionConfigurationOutput, error) {
		return h.api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn), Qualifier: aws.String(v)})
	}
	ca, err := conf(a)
	if err != nil {
		return fmt.Errorf("reading version %s: %w", a, lambdaError(err))
	}
	cb, err := conf(b)
	if err != nil {
		return fmt.Errorf("reading version %s: %w", b, lambdaError(err))
	}
	if aws.ToString(ca.Role) != aws.ToString(cb.Role) {
		return fmt.Errorf("versions %s and %s have different execution roles (%s, %s); Lambda splits traffic only between versions with the same role", a, b, aws.ToString(ca.Role), aws.ToString(cb.Role))
	}
	dlq := func(c *lambda.GetFunctionConfigurationOutput) string {
		if c.DeadLetterConfig == nil {
			return ""
		}
		return aws.ToString(c.DeadLetterConfig.TargetArn)
	}
	if dlq(ca) != dlq(cb) {
		return fmt.Errorf("versions %s and %s have different dead-letter settings; Lambda splits traffic only between versions with the same dead-letter queue", a, b)
	}
	return nil
}

func (h *lambdaAlias) versionKey(ctx context.Context, fn, v string) (string, error) {
	c, err := h.api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn), Qualifier: aws.String(v)})
	if isLambdaNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", lambdaError(err)
	}
	return strings.TrimPrefix(aws.ToString(c.Description), releaseDescPrefix), nil
}

// revert points the alias back at stable with no weights: one UpdateAlias.
func (h *lambdaAlias) revert(ctx context.Context, fn, name, stable string) (string, error) {
	out, err := h.api.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(fn), Name: aws.String(name),
		FunctionVersion: aws.String(stable), RoutingConfig: noRouting(),
	})
	if err != nil {
		return "", fmt.Errorf("rolling back to v%s: %w", stable, lambdaError(err))
	}
	return aws.ToString(out.RevisionId), nil
}

func (h *lambdaAlias) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	fn, name, err := splitAliasID(id)
	if err != nil {
		return nil, err
	}
	// A step left in flight by a cancelled apply must still be recorded:
	// the calls below finish even when ctx ends; only waits end early.
	callCtx := context.WithoutCancel(ctx)
	cur, err := h.get(callCtx, fn, name)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("alias %s is gone", id)
	}
	stable, rev := aws.ToString(cur.FunctionVersion), aws.ToString(cur.RevisionId)
	key := desired.String("release_key")
	weights := releaseWeights(desired)
	rec := rolloutFrom(prior)

	// Resume, or revert, a rollout a killed apply left.
	candidate, step, stepStart := "", 0, time.Time{}
	var curWeight float64
	if cur.RoutingConfig != nil {
		for v, w := range cur.RoutingConfig.AdditionalVersionWeights {
			candidate, curWeight = v, w
		}
	}
	if candidate != "" {
		why := ""
		candKey, err := h.versionKey(callCtx, fn, candidate)
		if err != nil {
			return nil, err
		}
		switch {
		case rec != nil && rec.RevisionID != "" && rec.RevisionID != rev:
			why = "the alias was changed outside evdeploy during the rollout"
		case candKey != key:
			// The spec changed again: start over from the stable version.
			planner.ReleaseProgress(ctx, fmt.Sprintf("v%s is not the spec's code any more: back to v%s, releasing again", candidate, stable))
		default:
			if tripped, err := h.tripped(callCtx, fn, name, candidate, desired, rec); err != nil {
				return nil, err
			} else if tripped != "" {
				why = tripped
			}
		}
		if why != "" || candKey != key {
			if rev, err = h.revert(callCtx, fn, name, stable); err != nil {
				return nil, err
			}
			if why != "" {
				_ = planner.Checkpoint(ctx, planner.Attrs{"rollout": nil, "function_version": stable, "routing": nil, "revision_id": rev})
				return nil, &ReleaseError{Stable: stable, Candidate: candidate, Why: why}
			}
			candidate = ""
		} else {
			// Resume where the record says, else where the weight says.
			step = sort.SearchFloat64s(weights, curWeight)
			stepStart = time.Now()
			if rec != nil && rec.Candidate == candidate {
				step, stepStart = rec.Step, rec.StepStart
			}
			planner.ReleaseProgress(ctx, fmt.Sprintf("resuming the release of v%s at %s", candidate, pct(curWeight)))
		}
	}
	if candidate == "" {
		if candidate, err = h.publish(callCtx, desired); err != nil {
			return nil, err
		}
		if candidate == stable || stable == "$LATEST" {
			// Nothing new to shift to (the version already serves), or an
			// alias on $LATEST that nothing splits: move at once.
			weights = nil
		} else if err := h.sameRuntimeSettings(callCtx, fn, stable, candidate); err != nil {
			return nil, err
		}
	}

	alarms := desired.Strings("alarms")
	if len(weights) > 0 && len(alarms) > 0 {
		if _, err := h.alarmStates(callCtx, alarms); err != nil {
			return nil, err
		}
	}
	wait := time.Duration(desired.Int("wait_seconds")) * time.Second
	for i := step; i < len(weights); i++ {
		w := weights[i]
		resumed := i == step && stepStart != (time.Time{}) && math.Abs(curWeight-w) < 1e-9
		if !resumed {
			rc, err := routing(candidate, w)
			if err != nil {
				return nil, err
			}
			out, err := h.api.UpdateAlias(callCtx, &lambda.UpdateAliasInput{
				FunctionName: aws.String(fn), Name: aws.String(name), FunctionVersion: aws.String(stable),
				RoutingConfig: rc, RevisionId: aws.String(rev),
			})
			if err != nil {
				return nil, fmt.Errorf("shifting %s to v%s: %w", pct(w), candidate, lambdaError(err))
			}
			rev, stepStart = aws.ToString(out.RevisionId), time.Now()
		}
		planner.ReleaseProgress(ctx, fmt.Sprintf("v%s takes %s of traffic (v%s the rest) for %s", candidate, pct(w), stable, time.Until(stepStart.Add(wait)).Round(time.Second)))
		r := &rollout{Stable: stable, Candidate: candidate, Strategy: desired.String("strategy"), Step: i, StepStart: stepStart, RevisionID: rev}
		if err := planner.Checkpoint(ctx, planner.Attrs{"rollout": r.attr(), "function_version": stable,
			"routing": candidate + "=" + strconv.FormatFloat(w, 'f', -1, 64), "revision_id": rev}); err != nil {
			return nil, err
		}
		why, err := h.watch(ctx, fn, name, candidate, desired, r, w, stepStart.Add(wait), i, len(weights))
		if err != nil {
			return nil, err
		}
		if why != "" {
			rev, err := h.revert(callCtx, fn, name, stable)
			if err != nil {
				return nil, err
			}
			_ = planner.Checkpoint(ctx, planner.Attrs{"rollout": nil, "function_version": stable, "routing": nil, "revision_id": rev})
			planner.ReleaseProgress(ctx, fmt.Sprintf("rolled back to v%s: %s", stable, why))
			return nil, &ReleaseError{Stable: stable, Candidate: candidate, Why: why}
		}
	}
	in := &lambda.UpdateAliasInput{
		FunctionName: aws.String(fn), Name: aws.String(name), FunctionVersion: aws.String(candidate),
		RoutingConfig: noRouting(), Description: aws.String(releaseDescPrefix + key),
	}
	if len(weights) > 0 {
		in.RevisionId = aws.String(rev)
	}
	if _, err := h.api.UpdateAlias(callCtx, in); err != nil {
		return nil, fmt.Errorf("moving all traffic to v%s: %w", candidate, lambdaError(err))
	}
	if candidate != stable {
		planner.ReleaseProgress(ctx, fmt.Sprintf("released v%s: 100%% (was v%s)", candidate, stable))
	}
	if err := h.setProvisioned(callCtx, fn, name, prior, desired); err != nil {
		return nil, err
	}
	if err := h.prune(callCtx, fn, int(desired.Int("keep_versions"))); err != nil {
		return nil, err
	}
	actual, _, err := h.Read(callCtx, id, desired)
	if err != nil {
		return nil, err
	}
	actual["rollout"] = nil
	return actual, nil
}

func pct(w float64) string { return strconv.FormatFloat(w*100, 'f', -1, 64) + "%" }

// watch waits until deadline, checking the alarms and the candidate's error
// rate every poll; it returns what tripped ("" when nothing did).
func (h *lambdaAlias) watch(ctx context.Context, fn, name, candidate string, desired planner.Attrs, r *rollout, w float64, deadline time.Time, step, steps int) (string, error) {
	for {
		left := time.Until(deadline).Round(time.Second)
		if left < 0 {
			left = 0
		}
		states := ""
		if alarms := desired.Strings("alarms"); len(alarms) > 0 {
			states = ", alarms " + strings.Join(alarms, ", ")
		}
		planner.ReleaseStatus(ctx, fmt.Sprintf("v%s at %s (step %d of %d), %s left%s", candidate, pct(w), step+1, steps, left, states))
		why, err := h.tripped(ctx, fn, name, candidate, desired, r)
		if err != nil || why != "" {
			return why, err
		}
		if left <= 0 {
			return "", nil
		}
		t := time.NewTimer(min(h.poll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return "", ctx.Err()
		case <-t.C:
		}
	}
}

// tripped reports an alarm in ALARM or, with max_errors, a candidate error
// rate above it since the rollout's step started.
func (h *lambdaAlias) tripped(ctx context.Context, fn, name, candidate string, desired planner.Attrs, r *rollout) (string, error) {
	if alarms := desired.Strings("alarms"); len(alarms) > 0 {
		states, err := h.alarmStates(ctx, alarms)
		if err != nil {
			return "", err
		}
		for _, a := range alarms {
			if states[a] == string(cwtypes.StateValueAlarm) {
				return fmt.Sprintf("alarm %s is in ALARM", a), nil
			}
		}
	}
	max := desired.String("max_errors")
	if max == "" {
		return "", nil
	}
	limit, err := strconv.ParseFloat(max, 64)
	if err != nil {
		return "", fmt.Errorf("max_errors %q: %w", max, err)
	}
	since := time.Now().Add(-time.Hour)
	if r != nil && !r.StepStart.IsZero() {
		since = r.StepStart
	}
	errs, err := h.sum(ctx, "Errors", fn, name, candidate, since)
	if err != nil {
		return "", err
	}
	inv, err := h.sum(ctx, "Invocations", fn, name, candidate, since)
	if err != nil {
		return "", err
	}
	if inv > 0 && errs/inv > limit {
		return fmt.Sprintf("error rate of v%s is %s (%g errors in %g invocations), above max_errors %s", candidate, pct(errs/inv), errs, inv, pct(limit)), nil
	}
	return "", nil
}

// alarmStates reads the alarms' states; an alarm that does not exist is an
// error (a typo would otherwise watch nothing).
func (h *lambdaAlias) alarmStates(ctx context.Context, names []string) (map[string]string, error) {
	out, err := h.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: names})
	if err != nil {
		return nil, fmt.Errorf("reading alarms: %w", classify(err))
	}
	states := map[string]string{}
	for _, a := range out.MetricAlarms {
		states[aws.ToString(a.AlarmName)] = string(a.StateValue)
	}
	for _, a := range out.CompositeAlarms {
		states[aws.ToString(a.AlarmName)] = string(a.StateValue)
	}
	var missing []string
	for _, n := range names {
		if _, ok := states[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("release alarms not found in CloudWatch: %s", strings.Join(missing, ", "))
	}
	return states, nil
}

// sum adds up a Lambda metric of the candidate version invoked through the
// alias (dimensions FunctionName, Resource = fn:alias, ExecutedVersion) since.
func (h *lambdaAlias) sum(ctx context.Context, metric, fn, alias, version string, since time.Time) (float64, error) {
	end := time.Now().Add(time.Minute)
	out, err := h.cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace:  aws.String("AWS/Lambda"),
		MetricName: aws.String(metric),
		Dimensions: []cwtypes.Dimension{
			{Name: aws.String("FunctionName"), Value: aws.String(fn)},
			{Name: aws.String("Resource"), Value: aws.String(fn + ":" + alias)},
			{Name: aws.String("ExecutedVersion"), Value: aws.String(version)},
		},
		StartTime:  aws.Time(since.Add(-time.Second).Truncate(time.Second)),
		EndTime:    aws.Time(end),
		Period:     aws.Int32(int32(max(60, end.Sub(since).Round(time.Minute).Seconds()+60))),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		return 0, fmt.Errorf("reading %s of v%s: %w", metric, version, classify(err))
	}
	total := 0.0
	for _, d := range out.Datapoints {
		total += aws.ToFloat64(d.Sum)
	}
	return total, nil
}

// setProvisioned applies provisioned_concurrency to the alias, only ever
// when no weights are set (Lambda allocates it per version).
func (h *lambdaAlias) setProvisioned(ctx context.Context, fn, name string, prior, desired planner.Attrs) error {
	pc, set := desired["provisioned_concurrency"]
	if !set || planner.Equal(pc, prior["provisioned_concurrency"]) {
		return nil
	}
	if pc == nil {
		_, err := h.api.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String(fn), Qualifier: aws.String(name)})
		if err == nil || isLambdaNotFound(err) || hasCode(err, "ProvisionedConcurrencyConfigNotFoundException") {
			return nil
		}
		return fmt.Errorf("removing provisioned concurrency: %w", lambdaError(err))
	}
	_, err := h.api.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String(fn), Qualifier: aws.String(name),
		ProvisionedConcurrentExecutions: aws.Int32(int32(desired.Int("provisioned_concurrency"))),
	})
	if err != nil {
		return fmt.Errorf("setting provisioned concurrency: %w", lambdaError(err))
	}
	return nil
}

// prune deletes published versions beyond the newest keep that no alias
// uses (Lambda's code storage is a quota).
func (h *lambdaAlias) prune(ctx context.Context, fn string, keep int) error {
	versions, err := h.versions(ctx, fn)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	p := lambda.NewListAliasesPaginator(h.api, &lambda.ListAliasesInput{FunctionName: aws.String(fn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing aliases: %w", lambdaError(err))
		}
		for _, a := range page.Aliases {
			used[aws.ToString(a.FunctionVersion)] = true
			if a.RoutingConfig != nil {
				for v := range a.RoutingConfig.AdditionalVersionWeights {
					used[v] = true
				}
			}
		}
	}
	kept := 0
	for i := len(versions) - 1; i >= 0; i-- {
		v := strconv.Itoa(versions[i])
		if used[v] {
			continue
		}
		if kept < keep {
			kept++
			continue
		}
		_, err := h.api.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(fn), Qualifier: aws.String(v)})
		if err != nil && !isLambdaNotFound(err) {
			return fmt.Errorf("pruning version %s: %w", v, lambdaError(err))
		}
	}
	return nil
}

func (h *lambdaAlias) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	fn, name, err := splitAliasID(id)
	if err != nil {
		return err
	}
	_, err = h.api.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String(fn), Name: aws.String(name)})
	if err != nil && !isLambdaNotFound(err) {
		return lambdaError(err)
	}
	// The versions go too (with the function, when it goes as well).
	if err := h.prune(ctx, fn, 0); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Rollback points a released function's alias back at the version before
// the one it serves, at once (one UpdateAlias), and returns both versions.
// The alias's release key is cleared, so the next apply releases the spec's
// code again.
func Rollback(ctx context.Context, cfg aws.Config, function, alias string) (from, to string, err error) {
	h := newLambdaAlias(newClients(cfg))
	cur, err := h.get(ctx, function, alias)
	if err != nil {
		return "", "", err
	}
	if cur == nil {
		return "", "", fmt.Errorf("%s has no alias %q", function, alias)
	}
	from = aws.ToString(cur.FunctionVersion)
	if cur.RoutingConfig != nil && len(cur.RoutingConfig.AdditionalVersionWeights) > 0 {
		// A rollout in progress: its stable version is the previous one.
		to = from
		for v := range cur.RoutingConfig.AdditionalVersionWeights {
			from = v
		}
	} else {
		versions, err := h.versions(ctx, function)
		if err != nil {
			return "", "", err
		}
		n, _ := strconv.Atoi(from)
		for _, v := range versions {
			if v < n {
				to = strconv.Itoa(v)
			}
		}
		if to == "" {
			return "", "", fmt.Errorf("%s:%s serves v%s and no earlier version is kept", function, alias, from)
		}
	}
	_, err = h.api.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(function), Name: aws.String(alias), FunctionVersion: aws.String(to),
		RoutingConfig: noRouting(), Description: aws.String("evdeploy rollback from v" + from),
	})
	if err != nil {
		return "", "", lambdaError(err)
	}
	return from, to, nil
}

// qualifiedName and qualifierOf give FunctionName and Qualifier for a
// function named "name" or "name:qualifier".
func qualifiedName(fn string) *string { n, _ := splitQualifier(fn); return aws.String(n) }
func qualifierOf(fn string) *string   { _, q := splitQualifier(fn); return q }
