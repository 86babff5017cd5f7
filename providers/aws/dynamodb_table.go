package aws

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/evdeploy/evdeploy/planner"
)

// dynamoTableAPI is the part of the DynamoDB API the table handler uses.
type dynamoTableAPI interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTable(context.Context, *dynamodb.UpdateTableInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	TagResource(context.Context, *dynamodb.TagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
	UntagResource(context.Context, *dynamodb.UntagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.UntagResourceOutput, error)
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	UpdateContinuousBackups(context.Context, *dynamodb.UpdateContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
}

// dynamoDBTable manages aws_dynamodb_table, id = table name.
type dynamoDBTable struct {
	api dynamoTableAPI
	// wait bounds each wait for the table to become ACTIVE or to disappear.
	wait time.Duration
}

func newDynamoDBTable(c *clients) planner.Handler {
	return &dynamoDBTable{api: c.ddb, wait: 10 * time.Minute}
}

func (h *dynamoDBTable) Schema() planner.Schema {
	return planner.Schema{
		Type:      "aws_dynamodb_table",
		ForceNew:  []string{"name", "hash_key", "hash_key_type", "range_key", "range_key_type"},
		Computed:  []string{"arn", "stream_arn"},
		HoldsData: true,
	}
}

func (h *dynamoDBTable) Read(ctx context.Context, id string, _ planner.Attrs) (planner.Attrs, bool, error) {
	out, err := h.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(id)})
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	t := out.Table
	if t.TableStatus == ddbtypes.TableStatusDeleting {
		return nil, false, nil
	}
	arn := aws.ToString(t.TableArn)
	attrs := planner.Attrs{"name": aws.ToString(t.TableName), "arn": arn}
	types := map[string]string{}
	for _, d := range t.AttributeDefinitions {
		types[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	for _, k := range t.KeySchema {
		name := aws.ToString(k.AttributeName)
		prefix := "hash_key"
		if k.KeyType == ddbtypes.KeyTypeRange {
			prefix = "range_key"
		}
		attrs[prefix] = name
		if typ, ok := types[name]; ok {
			attrs[prefix+"_type"] = typ
		}
	}
	// A table created before on-demand existed has no BillingModeSummary: it
	// is provisioned.
	mode := string(ddbtypes.BillingModeProvisioned)
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode != "" {
		mode = string(t.BillingModeSummary.BillingMode)
	}
	attrs["billing_mode"] = mode
	if mode == string(ddbtypes.BillingModeProvisioned) && t.ProvisionedThroughput != nil {
		attrs["read_capacity"] = ptrOr(t.ProvisionedThroughput.ReadCapacityUnits, 0)
		attrs["write_capacity"] = ptrOr(t.ProvisionedThroughput.WriteCapacityUnits, 0)
	}
	attrs["indexes"] = readIndexes(t.GlobalSecondaryIndexes, types)
	attrs["stream_view_type"] = "" // "" = no stream, as docs/resources.md fixes
	if s := t.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		attrs["stream_view_type"] = string(s.StreamViewType)
		if a := aws.ToString(t.LatestStreamArn); a != "" {
			attrs["stream_arn"] = a
		}
	}

	ttl, err := h.api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(id)})
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	attrs["ttl_attribute"] = ""
	if d := ttl.TimeToLiveDescription; d != nil &&
		(d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling) {
		attrs["ttl_attribute"] = aws.ToString(d.AttributeName)
	}

	pitr, err := h.api.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(id)})
	if hasCode(err, "ResourceNotFoundException", "TableNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	if d := pitr.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil {
		attrs["point_in_time_recovery"] = d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == ddbtypes.PointInTimeRecoveryStatusEnabled
	}

	tags, err := h.tags(ctx, arn)
	if hasCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	setMap(attrs, "tags", tags)
	return attrs, true, nil
}

func (h *dynamoDBTable) tags(ctx context.Context, arn string) (map[string]string, error) {
	tags := map[string]string{}
	var token *string
	for {
		out, err := h.api.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn), NextToken: token})
		if err != nil {
			return nil, classify(err)
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if token = out.NextToken; token == nil {
			return tags, nil
		}
	}
}

// readIndexes is the `indexes` attribute for the table's global secondary
// indexes. An index being deleted is already gone as far as the plan goes.
func readIndexes(gsis []ddbtypes.GlobalSecondaryIndexDescription, types map[string]string) map[string]any {
	out := map[string]any{}
	for _, g := range gsis {
		if g.IndexStatus == ddbtypes.IndexStatusDeleting {
			continue
		}
		m := map[string]any{}
		for _, k := range g.KeySchema {
			name := aws.ToString(k.AttributeName)
			prefix := "hash_key"
			if k.KeyType == ddbtypes.KeyTypeRange {
				prefix = "range_key"
			}
			m[prefix] = name
			if typ, ok := types[name]; ok {
				m[prefix+"_type"] = typ
			}
		}
		if p := g.Projection; p != nil {
			m["projection"] = string(p.ProjectionType)
			if p.ProjectionType == ddbtypes.ProjectionTypeInclude {
				m["non_key_attributes"] = stringsAttr(slices.Sorted(slices.Values(p.NonKeyAttributes)))
			}
		}
		out[aws.ToString(g.IndexName)] = m
	}
	return out
}

// ddbIndex is one entry of the `indexes` attribute.
type ddbIndex struct {
	name                string
	hashKey, hashType   string
	rangeKey, rangeType string
	projection          ddbtypes.ProjectionType
	nonKey              []string
}

func desiredIndexes(a planner.Attrs) map[string]ddbIndex {
	out := map[string]ddbIndex{}
	m, _ := a["indexes"].(map[string]any)
	for name, v := range m {
		x, _ := v.(map[string]any)
		ia := planner.Attrs(x)
		out[name] = ddbIndex{
			name: name, hashKey: ia.String("hash_key"), hashType: ia.String("hash_key_type"),
			rangeKey: ia.String("range_key"), rangeType: ia.String("range_key_type"),
			projection: ddbtypes.ProjectionType(ia.String("projection")), nonKey: ia.Strings("non_key_attributes"),
		}
	}
	return out
}

func (x ddbIndex) keySchema() []ddbtypes.KeySchemaElement {
	ks := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(x.hashKey), KeyType: ddbtypes.KeyTypeHash}}
	if x.rangeKey != "" {
		ks = append(ks, ddbtypes.KeySchemaElement{AttributeName: aws.String(x.rangeKey), KeyType: ddbtypes.KeyTypeRange})
	}
	return ks
}

func (x ddbIndex) projectionSpec() *ddbtypes.Projection {
	p := &ddbtypes.Projection{ProjectionType: x.projection}
	if p.ProjectionType == "" {
		p.ProjectionType = ddbtypes.ProjectionTypeAll
	}
	if p.ProjectionType == ddbtypes.ProjectionTypeInclude {
		p.NonKeyAttributes = x.nonKey
	}
	return p
}

// attributeDefinitions lists the type of every key attribute the table's
// key schema and the given indexes use, once each (DynamoDB rejects
// definitions no key uses).
func attributeDefinitions(desired planner.Attrs, indexes []ddbIndex) []ddbtypes.AttributeDefinition {
	var out []ddbtypes.AttributeDefinition
	seen := map[string]bool{}
	add := func(name, typ string) {
		if name == "" || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeType(typ)})
	}
	add(desired.String("hash_key"), desired.String("hash_key_type"))
	add(desired.String("range_key"), desired.String("range_key_type"))
	for _, x := range indexes {
		add(x.hashKey, x.hashType)
		add(x.rangeKey, x.rangeType)
	}
	return out
}

// sortedIndexes returns the indexes in name order, so calls are deterministic.
func sortedIndexes(m map[string]ddbIndex) []ddbIndex {
	out := make([]ddbIndex, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// ddbThroughput is the provisioned capacity desired asks for, nil on demand.
func ddbThroughput(desired planner.Attrs) (ddbtypes.BillingMode, *ddbtypes.ProvisionedThroughput, error) {
	mode := ddbtypes.BillingMode(desired.String("billing_mode"))
	switch mode {
	case "", ddbtypes.BillingModePayPerRequest:
		return ddbtypes.BillingModePayPerRequest, nil, nil
	case ddbtypes.BillingModeProvisioned:
		r, w := desired.Int("read_capacity"), desired.Int("write_capacity")
		if r < 1 || w < 1 {
			return "", nil, fmt.Errorf("billing_mode PROVISIONED needs read_capacity and write_capacity of at least 1 (got %d, %d)", r, w)
		}
		return mode, &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}, nil
	}
	return "", nil, fmt.Errorf("billing_mode %q: want PAY_PER_REQUEST or PROVISIONED", mode)
}

func (h *dynamoDBTable) Create(ctx context.Context, desired planner.Attrs) (string, planner.Attrs, error) {
	name := desired.String("name")
	mode, pt, err := ddbThroughput(desired)
	if err != nil {
		return "", nil, err
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: mode,
		KeySchema: []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(desired.String("hash_key")), KeyType: ddbtypes.KeyTypeHash},
		},
		ProvisionedThroughput: pt,
	}
	if rk := desired.String("range_key"); rk != "" {
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(rk), KeyType: ddbtypes.KeyTypeRange})
	}
	indexes := sortedIndexes(desiredIndexes(desired))
	in.AttributeDefinitions = attributeDefinitions(desired, indexes)
	for _, x := range indexes {
		// An index of a provisioned table has the table's capacity.
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(x.name), KeySchema: x.keySchema(), Projection: x.projectionSpec(), ProvisionedThroughput: pt,
		})
	}
	if v := desired.String("stream_view_type"); v != "" {
		in.StreamSpecification = &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(v)}
	}
	for k, v := range desired.StringMap("tags") {
		in.Tags = append(in.Tags, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if _, err := h.api.CreateTable(ctx, in); err != nil {
		if hasCode(err, "ResourceInUseException") {
			return "", nil, fmt.Errorf("table %q: %w", name, planner.ErrAlreadyExists)
		}
		return "", nil, classify(err)
	}
	// The table exists from here on: errors still return its id.
	if err := h.waitActive(ctx, name); err != nil {
		return name, nil, err
	}
	if ttl := desired.String("ttl_attribute"); ttl != "" {
		if err := h.setTTL(ctx, name, ttl, true); err != nil {
			return name, nil, err
		}
	}
	if desired.Bool("point_in_time_recovery") {
		if err := h.setPITR(ctx, name, true); err != nil {
			return name, nil, err
		}
	}
	actual, ok, err := h.Read(ctx, name, nil)
	if err != nil {
		return name, nil, err
	}
	if !ok {
		return name, nil, fmt.Errorf("table %q disappeared right after it was created", name)
	}
	return name, actual, nil
}

// waitActive waits for the table and each of its indexes to be ACTIVE, and
// for a deleted index to be gone: DynamoDB takes the next index change only
// then (an index backfills while the table is already ACTIVE).
func (h *dynamoDBTable) waitActive(ctx context.Context, name string) error {
	return waitFor(ctx, "table "+name+" and its indexes to become ACTIVE", 2*time.Second, h.wait, func(ctx context.Context) (bool, error) {
		out, err := h.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if hasCode(err, "ResourceNotFoundException") {
			return false, nil // not visible yet
		}
		if err != nil {
			return false, classify(err)
		}
		if out.Table.TableStatus != ddbtypes.TableStatusActive {
			return false, nil
		}
		for _, g := range out.Table.GlobalSecondaryIndexes {
			if g.IndexStatus != "" && g.IndexStatus != ddbtypes.IndexStatusActive {
				return false, nil
			}
		}
		return true, nil
	})
}

func (h *dynamoDBTable) setPITR(ctx context.Context, name string, enabled bool) error {
	_, err := h.api.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String(name),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(enabled)},
	})
	if err != nil {
		return fmt.Errorf("setting point-in-time recovery: %w", classify(err))
	}
	return nil
}

func (h *dynamoDBTable) setTTL(ctx context.Context, name, attr string, enabled bool) error {
	_, err := h.api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(enabled)},
	})
	if err != nil {
		return fmt.Errorf("setting TTL on %s: %w", attr, classify(err))
	}
	return nil
}

// Update applies billing, stream, TTL and tag changes. DynamoDB takes one kind
// of change per UpdateTable call and only on an ACTIVE table, so each is a
// separate call followed by a wait.
func (h *dynamoDBTable) Update(ctx context.Context, id string, prior, desired planner.Attrs) (planner.Attrs, error) {
	mode, pt, err := ddbThroughput(desired)
	if err != nil {
		return nil, err
	}
	priorMode, priorPT, _ := ddbThroughput(prior)

	// Indexes: DynamoDB adds or removes one per UpdateTable call, and takes
	// the next only when the last is done. A changed index (keys or
	// projection) is removed, then added again. Removals go first so the
	// billing change below has fewer indexes to carry along.
	before, after := desiredIndexes(prior), desiredIndexes(desired)
	var add []ddbIndex
	for _, x := range sortedIndexes(before) {
		if y, keep := after[x.name]; keep && reflect.DeepEqual(x, y) {
			continue
		}
		if err := h.update(ctx, &dynamodb.UpdateTableInput{
			TableName:                   aws.String(id),
			GlobalSecondaryIndexUpdates: []ddbtypes.GlobalSecondaryIndexUpdate{{Delete: &ddbtypes.DeleteGlobalSecondaryIndexAction{IndexName: aws.String(x.name)}}},
		}); err != nil {
			return nil, fmt.Errorf("removing index %s: %w", x.name, err)
		}
		delete(before, x.name)
	}
	for _, y := range sortedIndexes(after) {
		if _, has := before[y.name]; !has {
			add = append(add, y)
		}
	}

	if mode != priorMode || (pt != nil && (priorPT == nil || *pt.ReadCapacityUnits != *priorPT.ReadCapacityUnits || *pt.WriteCapacityUnits != *priorPT.WriteCapacityUnits)) {
		in := &dynamodb.UpdateTableInput{TableName: aws.String(id), BillingMode: mode, ProvisionedThroughput: pt}
		if pt != nil {
			// A provisioned table's indexes need capacity too, in the same call.
			for _, x := range sortedIndexes(before) {
				in.GlobalSecondaryIndexUpdates = append(in.GlobalSecondaryIndexUpdates, ddbtypes.GlobalSecondaryIndexUpdate{
					Update: &ddbtypes.UpdateGlobalSecondaryIndexAction{IndexName: aws.String(x.name), ProvisionedThroughput: pt},
				})
			}
		}
		if err := h.update(ctx, in); err != nil {
			return nil, err
		}
	}

	// Each call lists the key attributes of every index the table will then
	// have (moto replaces the definitions with the list given).
	live := sortedIndexes(before)
	for _, y := range add {
		live = append(live, y)
		if err := h.update(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(id),
			AttributeDefinitions: attributeDefinitions(desired, live),
			GlobalSecondaryIndexUpdates: []ddbtypes.GlobalSecondaryIndexUpdate{{Create: &ddbtypes.CreateGlobalSecondaryIndexAction{
				IndexName: aws.String(y.name), KeySchema: y.keySchema(), Projection: y.projectionSpec(), ProvisionedThroughput: pt,
			}}},
		}); err != nil {
			return nil, fmt.Errorf("adding index %s: %w", y.name, err)
		}
	}

	if from, to := prior.Bool("point_in_time_recovery"), desired.Bool("point_in_time_recovery"); from != to {
		if err := h.setPITR(ctx, id, to); err != nil {
			return nil, err
		}
	}

	// A stream's view type cannot be changed in place: disable, then enable
	// (the table gets a new stream ARN).
	from, to := prior.String("stream_view_type"), desired.String("stream_view_type")
	if from != to {
		if from != "" {
			if err := h.update(ctx, &dynamodb.UpdateTableInput{
				TableName: aws.String(id), StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)},
			}); err != nil {
				return nil, err
			}
		}
		if to != "" {
			if err := h.update(ctx, &dynamodb.UpdateTableInput{
				TableName:           aws.String(id),
				StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewType(to)},
			}); err != nil {
				return nil, err
			}
		}
	}

	// TTL has one attribute at a time: disable the old before enabling a new
	// one. (AWS refuses a second TTL change on a table within an hour.)
	if from, to := prior.String("ttl_attribute"), desired.String("ttl_attribute"); from != to {
		if from != "" {
			if err := h.setTTL(ctx, id, from, false); err != nil {
				return nil, err
			}
		}
		if to != "" {
			if err := h.setTTL(ctx, id, to, true); err != nil {
				return nil, err
			}
		}
	}

	arn := prior.String("arn")
	if arn == "" {
		out, err := h.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(id)})
		if err != nil {
			return nil, classify(err)
		}
		arn = aws.ToString(out.Table.TableArn)
	}
	set, remove := tagDiff(prior.StringMap("tags"), desired.StringMap("tags"))
	if len(remove) > 0 {
		if _, err := h.api.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: remove}); err != nil {
			return nil, classify(err)
		}
	}
	if len(set) > 0 {
		var tags []ddbtypes.Tag
		for k, v := range set {
			tags = append(tags, ddbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		if _, err := h.api.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags}); err != nil {
			return nil, classify(err)
		}
	}

	actual, ok, err := h.Read(ctx, id, prior)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("table %q disappeared during update", id)
	}
	return actual, nil
}

func (h *dynamoDBTable) update(ctx context.Context, in *dynamodb.UpdateTableInput) error {
	if _, err := h.api.UpdateTable(ctx, in); err != nil {
		return classify(err)
	}
	return h.waitActive(ctx, aws.ToString(in.TableName))
}

func (h *dynamoDBTable) Delete(ctx context.Context, id string, _ planner.Attrs) error {
	_, err := h.api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(id)})
	if hasCode(err, "ResourceNotFoundException") {
		return nil
	}
	if err != nil {
		return classify(err)
	}
	w := dynamodb.NewTableNotExistsWaiter(h.api, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Second, 20*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(id)}, h.wait); err != nil {
		return fmt.Errorf("waiting for table %s to be deleted: %w", id, classify(err))
	}
	return nil
}
