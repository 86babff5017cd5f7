package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"

	"github.com/evdeploy/evdeploy/planner"
	"github.com/evdeploy/evdeploy/spec"
)

func init() { registerVerb(newCmdMessages) }

// MessagesOptions are messages's flags.
type MessagesOptions struct {
	Queue string
	DLQ   bool
	Max   int
	JSON  bool
}

func newCmdMessages(f *Factory) *cobra.Command {
	opts := &MessagesOptions{}
	cmd := &cobra.Command{
		Use:   "messages QUEUE",
		Short: "Print a queue's (or its DLQ's) messages without consuming them",
		Long: `messages prints up to --max messages of a queue of this stage (by its block name,
"orders", or address, "queue.orders"), or of its dead-letter queue with --dlq.
Messages are received with a short visibility timeout and made visible again at
once: nothing is consumed, but each message's receive count grows by one (SQS
counts every receive; a message near its queue's max_receives may move to the
DLQ sooner).`,
		Example: `  evdeploy messages orders --dlq
  evdeploy messages queue.orders --max 50 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Queue = args[0]
			return messagesRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DLQ, "dlq", false, "read the queue's dead-letter queue")
	cmd.Flags().IntVar(&opts.Max, "max", 10, "print at most N messages")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

// deployedQueue is a queue block's queues as this stage deployed them.
type deployedQueue struct {
	Block            spec.Addr
	URL, ARN, Name   string
	DLQURL, DLQARN   string
	DLQName          string
	FIFO, HasDLQDecl bool
}

// resolveBlock turns "orders" or "queue.orders" into an address of kind.
func resolveBlock(arg, kind string) (spec.Addr, error) {
	if k, name, ok := strings.Cut(arg, "."); ok {
		if k != kind {
			return spec.Addr{}, fmt.Errorf("%s is %s %s; this command takes a %s (like %s.%s)", arg, article(k), k, kind, kind, name)
		}
		return spec.Addr{Kind: kind, Name: name}, nil
	}
	return spec.Addr{Kind: kind, Name: arg}, nil
}

func article(kind string) string {
	if kind != "" && strings.ContainsRune("aeiou", rune(kind[0])) {
		return "an"
	}
	return "a"
}

// findQueue resolves QUEUE against the spec and state.
func findQueue(ctx context.Context, f *Factory, arg string) (*spec.App, *deployedQueue, error) {
	addr, err := resolveBlock(arg, spec.KindQueue)
	if err != nil {
		return nil, nil, err
	}
	app, _, err := loadApp(f)
	if err != nil {
		return nil, nil, err
	}
	var q *spec.Queue
	var known []string
	for _, x := range app.Queues {
		known = append(known, x.Addr.Name)
		if x.Addr == addr {
			q = x
		}
	}
	if q == nil {
		return nil, nil, fmt.Errorf("the spec has no %s (queues: %s)", addr, strings.Join(known, ", "))
	}
	doc, err := readState(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	res := resources(doc)
	main, ok := res[planner.ResourceAddr{Block: addr.String(), Type: planner.TypeQueue, Name: "main"}.String()]
	if !ok {
		return nil, nil, fmt.Errorf("%s is not deployed in this stage: run apply first", addr)
	}
	dq := &deployedQueue{Block: addr, URL: main.ID, FIFO: q.FIFO, HasDLQDecl: q.DeadLetter != nil}
	dq.ARN, _ = main.Attrs["arn"].(string)
	dq.Name, _ = main.Attrs["name"].(string)
	if dlq, ok := res[planner.ResourceAddr{Block: addr.String(), Type: planner.TypeQueue, Name: "dlq"}.String()]; ok {
		dq.DLQURL = dlq.ID
		dq.DLQARN, _ = dlq.Attrs["arn"].(string)
		dq.DLQName, _ = dlq.Attrs["name"].(string)
	}
	return app, dq, nil
}

// PeekedMessage is one message as messages prints it.
type PeekedMessage struct {
	ID           string            `json:"id"`
	ReceiveCount string            `json:"receive_count"`
	SentAt       string            `json:"sent_at,omitempty"`
	GroupID      string            `json:"group_id,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Body         string            `json:"body"`
}

func messagesRun(ctx context.Context, f *Factory, opts *MessagesOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.Max < 1 {
		return fmt.Errorf("--max must be at least 1")
	}
	app, q, err := findQueue(ctx, f, opts.Queue)
	if err != nil {
		return err
	}
	url, which := q.URL, q.Block.String()
	if opts.DLQ {
		if q.DLQURL == "" {
			return fmt.Errorf("%s has no dead-letter queue (add a dead_letter block)", q.Block)
		}
		url, which = q.DLQURL, q.Block.String()+" (DLQ)"
	}
	cfg, _, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	c := sqs.NewFromConfig(cfg)
	msgs, err := peek(ctx, c, url, opts.Max)
	if err != nil {
		return fmt.Errorf("%s: %w", which, err)
	}
	if opts.JSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"queue": which, "messages": msgs})
	}
	fmt.Fprintf(f.IO.ErrOut, "%s: %d message(s) shown, none consumed; each one's receive count grew by one.\n", which, len(msgs))
	tw := tabwriter.NewWriter(f.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVES\tSENT\tBODY")
	for _, m := range msgs {
		body := strings.ReplaceAll(m.Body, "\n", " ")
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.ReceiveCount, m.SentAt, body)
	}
	return tw.Flush()
}

// peekVisibility is how long peeked messages stay hidden if making them
// visible again fails (the command dies): short, so consumers see them soon.
const peekVisibility = 20

// peek receives up to max messages, keeping them hidden while it collects
// (so each is received once), then makes every one visible again.
func peek(ctx context.Context, c *sqs.Client, url string, max int) ([]PeekedMessage, error) {
	var out []PeekedMessage
	var handles []string
	seen := map[string]bool{}
	defer func() {
		// Visible again at once, even when the context is done.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for i := 0; i < len(handles); i += 10 {
			var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
			for j, h := range handles[i:min(i+10, len(handles))] {
				entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), ReceiptHandle: aws.String(h), VisibilityTimeout: 0})
			}
			_, _ = c.ChangeMessageVisibilityBatch(rctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: entries})
		}
	}()
	empty := 0
	for len(out) < max && empty < 2 {
		r, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url),
			MaxNumberOfMessages: int32(min(10, max-len(out))), VisibilityTimeout: peekVisibility, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"}})
		if err != nil {
			return out, err
		}
		if len(r.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range r.Messages {
			handles = append(handles, aws.ToString(m.ReceiptHandle))
			id := aws.ToString(m.MessageId)
			if seen[id] {
				continue
			}
			seen[id] = true
			pm := PeekedMessage{ID: id, Body: aws.ToString(m.Body), ReceiveCount: m.Attributes["ApproximateReceiveCount"], GroupID: m.Attributes["MessageGroupId"]}
			if ms, err := parseMillis(m.Attributes["SentTimestamp"]); err == nil {
				pm.SentAt = ms.UTC().Format(time.RFC3339)
			}
			for k, v := range m.MessageAttributes {
				if pm.Attributes == nil {
					pm.Attributes = map[string]string{}
				}
				pm.Attributes[k] = aws.ToString(v.StringValue)
			}
			out = append(out, pm)
		}
	}
	return out, nil
}

func parseMillis(s string) (time.Time, error) {
	var ms int64
	if _, err := fmt.Sscan(s, &ms); err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}
