package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/evdeploy/evdeploy/state"
)

// S3StateStore is the AWS side of the S3 state backend: state.ObjectStore on
// one bucket, with S3 conditional writes (If-None-Match: * for the lock,
// If-Match for the document) and S3's error codes mapped to state's sentinels.
type S3StateStore struct {
	client s3StateAPI
	bucket string
}

// s3StateAPI is the part of the S3 client the store uses.
type s3StateAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opts ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// NewS3StateStore stores objects in bucket through cfg's endpoint (path-style
// when cfg has a custom endpoint, as for the resource clients).
func NewS3StateStore(cfg aws.Config, bucket string) *S3StateStore {
	return &S3StateStore{client: newClients(cfg).s3, bucket: bucket}
}

// NewS3StateBackend is the state backend of `backend "s3" { bucket, key }`.
func NewS3StateBackend(cfg aws.Config, bucket, key string) *state.S3 {
	return state.NewS3(NewS3StateStore(cfg, bucket), bucket, key)
}

var (
	_ state.ObjectStore = (*S3StateStore)(nil)
	_ state.Lister      = (*S3StateStore)(nil)
	_ state.Header      = (*S3StateStore)(nil)
)

// Head returns the object's ETag (HeadObject): the S3 backend checks beside
// each change object that the document is still the one it continues.
func (s *S3StateStore) Head(ctx context.Context, key string) (string, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return "", s.mapError("head", key, err)
	}
	return aws.ToString(out.ETag), nil
}

// List returns the keys under prefix (ListObjectsV2, 1,000 a page): the S3
// backend finds its change objects with it.
func (s *S3StateStore) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.mapError("list", prefix, err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil
}

func (s *S3StateStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, "", s.mapError("get", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("s3://%s/%s: get: %w", s.bucket, key, err)
	}
	return data, aws.ToString(out.ETag), nil
}

func (s *S3StateStore) Put(ctx context.Context, key string, data []byte, cond state.PutCondition) (string, error) {
	in := &s3.PutObjectInput{
		Bucket:      &s.bucket,
		Key:         &key,
		Body:        bytes.NewReader(data),
		ContentType: aws.String("application/json"),
	}
	if cond.IfNoneMatch != "" {
		in.IfNoneMatch = aws.String(cond.IfNoneMatch)
	}
	if cond.IfMatch != "" {
		in.IfMatch = aws.String(cond.IfMatch)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		return "", s.mapError("put", key, err)
	}
	return aws.ToString(out.ETag), nil
}

func (s *S3StateStore) Delete(ctx context.Context, key string) error {
	// DeleteObject of an absent key succeeds on S3, as ObjectStore requires.
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return s.mapError("delete", key, err)
	}
	return nil
}

// mapError turns S3's answers into state's sentinels, matching typed errors,
// error codes and HTTP statuses (never message text):
//   - NoSuchKey / 404 on the key → state.ErrNotExist (but NoSuchBucket is a
//     configuration error and stays one);
//   - PreconditionFailed / 412 → state.ErrPreconditionFailed, and so is
//     409 ConditionalRequestConflict, S3's answer to a conditional write racing
//     another one on the same key: the other writer won.
func (s *S3StateStore) mapError(op, key string, err error) error {
	where := fmt.Sprintf("s3://%s/%s: %s", s.bucket, key, op)
	var noKey *types.NoSuchKey
	var notFound *types.NotFound
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case hasCode(err, "NoSuchBucket"):
		return fmt.Errorf("%s: bucket %s does not exist (create it, or fix backend \"s3\" { bucket }): %w", where, s.bucket, err)
	case errors.As(err, &noKey), errors.As(err, &notFound), hasCode(err, "NoSuchKey", "NotFound"), status == http.StatusNotFound:
		return fmt.Errorf("%s: %w (%v)", where, state.ErrNotExist, err)
	case hasCode(err, "PreconditionFailed", "ConditionalRequestConflict"), status == http.StatusPreconditionFailed:
		return fmt.Errorf("%s: %w (%v)", where, state.ErrPreconditionFailed, err)
	}
	return fmt.Errorf("%s: %w", where, classify(err))
}
