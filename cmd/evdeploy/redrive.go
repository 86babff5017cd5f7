package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
)

func init() { registerVerb(newCmdRedrive) }

// RedriveOptions are redrive's flags.
type RedriveOptions struct {
	Queue string
	Max   int // 0: all
}

func newCmdRedrive(f *Factory) *cobra.Command {
	opts := &RedriveOptions{}
	cmd := &cobra.Command{
		Use:   "redrive QUEUE",
		Short: "Move a queue's dead-letter messages back to the queue",
		Long: `redrive moves the messages of a queue's DLQ back to the queue (by block name,
"orders", or address, "queue.orders"), once the bug that sent them there is
fixed and applied. On AWS it starts an SQS message move task and follows its
progress. Where the service has none (emulators), or with --max, it moves them
itself: receive, send to the queue, and delete from the DLQ only what the send
accepted — at least once, never lost; a kill in the middle duplicates at most
the batch in flight. It prints how many moved.`,
		Example: `  evdeploy redrive orders
  evdeploy redrive queue.orders --max 10 --target local`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Queue = args[0]
			return redriveRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().IntVar(&opts.Max, "max", 0, "move at most N messages (default: all)")
	return cmd
}

func redriveRun(ctx context.Context, f *Factory, opts *RedriveOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.Max < 0 {
		return fmt.Errorf("--max must not be negative")
	}
	app, q, err := findQueue(ctx, f, opts.Queue)
	if err != nil {
		return err
	}
	if q.DLQURL == "" {
		return fmt.Errorf("%s has no dead-letter queue to redrive (it has no dead_letter block, or the DLQ is not deployed)", q.Block)
	}
	cfg, _, err := f.AWSConfig(ctx, app.Region)
	if err != nil {
		return err
	}
	c := sqs.NewFromConfig(cfg)
	if opts.Max == 0 {
		moved, err := moveTask(ctx, c, q, f.IO.ErrOut)
		if err == nil {
			fmt.Fprintf(f.IO.Out, "%s: moved %d message(s) from the DLQ back to the queue\n", q.Block, moved)
			return nil
		}
		if !errors.Is(err, errNoMoveTask) {
			return fmt.Errorf("%s: %w", q.Block, err)
		}
		fmt.Fprintf(f.IO.ErrOut, "%s: the service has no SQS message move task; moving the messages in batches (receive, send, then delete)\n", q.Block)
	}
	moved, err := redriveBatches(ctx, c, q, opts.Max)
	fmt.Fprintf(f.IO.Out, "%s: moved %d message(s) from the DLQ back to the queue\n", q.Block, moved)
	if err != nil {
		return fmt.Errorf("%s: %w (the messages not moved are still in the DLQ)", q.Block, err)
	}
	return nil
}

var errNoMoveTask = errors.New("StartMessageMoveTask is not available")

// moveTask redrives with SQS's own message move task and waits for it.
func moveTask(ctx context.Context, c *sqs.Client, q *deployedQueue, progress io.Writer) (int64, error) {
	out, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(q.DLQARN), DestinationArn: aws.String(q.ARN)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			code := ae.ErrorCode()
			if code == "InvalidAction" || code == "UnknownOperationException" || code == "UnsupportedOperation" ||
				strings.Contains(code, "NotImplemented") || strings.Contains(strings.ToLower(ae.ErrorMessage()), "not implemented") {
				return 0, errNoMoveTask
			}
		}
		return 0, fmt.Errorf("start message move task: %w", err)
	}
	handle := aws.ToString(out.TaskHandle)
	last := int64(-1)
	for {
		tasks, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(q.DLQARN), MaxResults: aws.Int32(10)})
		if err != nil {
			return 0, fmt.Errorf("follow message move task: %w", err)
		}
		for _, t := range tasks.Results {
			if aws.ToString(t.TaskHandle) != handle && len(tasks.Results) > 1 {
				continue
			}
			moved := t.ApproximateNumberOfMessagesMoved
			if moved != last {
				fmt.Fprintf(progress, "%s: %d of ~%d moved (%s)\n", q.Block, moved, aws.ToInt64(t.ApproximateNumberOfMessagesToMove), aws.ToString(t.Status))
				last = moved
			}
			switch aws.ToString(t.Status) {
			case "COMPLETED":
				return moved, nil
			case "FAILED", "CANCELLED":
				return moved, fmt.Errorf("message move task %s: %s", strings.ToLower(aws.ToString(t.Status)), aws.ToString(t.FailureReason))
			}
			break
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("interrupted; the move task goes on in SQS: %w", ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// redriveVisibility hides a batch while it is moved; a batch whose send
// failed comes back to the DLQ after it.
const redriveVisibility = 60

// redriveBatches moves messages 10 at a time: receive from the DLQ, send to
// the queue, and delete from the DLQ only the messages the send accepted.
func redriveBatches(ctx context.Context, c *sqs.Client, q *deployedQueue, max int) (int, error) {
	moved, empty := 0, 0
	for (max == 0 || moved < max) && empty < 2 {
		n := 10
		if max > 0 {
			n = min(n, max-moved)
		}
		r, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.DLQURL),
			MaxNumberOfMessages: int32(n), VisibilityTimeout: redriveVisibility, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"}})
		if err != nil {
			return moved, fmt.Errorf("receive from the DLQ: %w", err)
		}
		if len(r.Messages) == 0 {
			empty++ // an empty answer can be a short poll's: ask twice
			continue
		}
		empty = 0
		entries := make([]sqstypes.SendMessageBatchRequestEntry, len(r.Messages))
		for i, m := range r.Messages {
			e := sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: m.Body}
			if len(m.MessageAttributes) > 0 {
				e.MessageAttributes = m.MessageAttributes
			}
			if q.FIFO {
				e.MessageGroupId = aws.String(m.Attributes["MessageGroupId"])
				// The original id: a retry of this batch is deduplicated.
				e.MessageDeduplicationId = m.MessageId
			}
			entries[i] = e
		}
		sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
		if err != nil {
			return moved, fmt.Errorf("send to the queue: %w", err)
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for _, s := range sent.Successful {
			i, _ := strconv.Atoi(aws.ToString(s.Id))
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: s.Id, ReceiptHandle: r.Messages[i].ReceiptHandle})
		}
		if len(del) > 0 {
			d, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(q.DLQURL), Entries: del})
			if err != nil {
				// Sent but still in the DLQ: a later redrive sends them again.
				return moved, fmt.Errorf("delete moved messages from the DLQ (they were sent; they may be delivered twice): %w", err)
			}
			moved += len(d.Successful)
		}
		if len(sent.Failed) > 0 {
			f := sent.Failed[0]
			return moved, fmt.Errorf("the queue refused %d message(s) (%s: %s)", len(sent.Failed), aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	return moved, nil
}
