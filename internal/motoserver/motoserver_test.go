package motoserver

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestMain(m *testing.M) {
	// As a helper child (TestKilledBinaryLeavesNoServer), start a server,
	// report its pid and wait to be killed.
	if os.Getenv("MOTOSERVER_HELPER") == "1" {
		if _, err := ensure(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(3)
		}
		os.Stdout.WriteString("pid " + strconv.Itoa(cur.cmd.Process.Pid) + "\n")
		select {}
	}
	os.Exit(Main(m))
}

// The server answers real AWS API calls, is shared by later calls, and Reset
// wipes what was made.
func TestServerAnswersAndResets(t *testing.T) {
	u := URL(t)
	if u2 := URL(t); u2 != u {
		t.Fatalf("second URL = %q, want the shared %q", u2, u)
	}
	c := sqs.NewFromConfig(Config(t))
	if _, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("motoserver-test")}); err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	if n := queues(t, c); n != 1 {
		t.Fatalf("queues after create = %d, want 1", n)
	}
	Reset(t)
	if n := queues(t, c); n != 0 {
		t.Fatalf("queues after Reset = %d, want 0", n)
	}
}

func queues(t *testing.T, c *sqs.Client) int {
	t.Helper()
	out, err := c.ListQueues(t.Context(), &sqs.ListQueuesInput{})
	if err != nil {
		t.Fatalf("ListQueues: %v", err)
	}
	return len(out.QueueUrls)
}

// Without moto_server on PATH the start fails with the install command, so
// tests that need moto fail rather than skip.
func TestMissingMotoNamesTheInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := start()
	if err == nil || !strings.Contains(err.Error(), InstallHint) {
		t.Fatalf("start without moto_server: err = %v, want one containing %q", err, InstallHint)
	}
}
