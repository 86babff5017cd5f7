package aws

import (
	"testing"

	"github.com/evdeploy/evdeploy/internal/motoserver"
)

// The settings kumo cannot change (see docs/testing.md) are tested on moto,
// a second emulator written independently of kumo: the same test bodies run
// with onKumo false, so nothing is skipped.

func TestMotoDynamoDBTableIndexes(t *testing.T) {
	testTableIndexes(t, motoserver.Config(t), false)
}

func TestMotoS3BucketSettings(t *testing.T) {
	testS3BucketLifecycle(t, motoserver.Config(t))
}
