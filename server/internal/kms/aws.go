package kms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// AWSConfig configures the AWS KMS backend.
type AWSConfig struct {
	Endpoint   string // empty: AWS's endpoint for Region; set for local-kms and VPC endpoints
	Region     string
	AccessKey  string // empty: the SDK's default credential chain
	SecretKey  string
	DefaultKey string // required: key id, ARN, alias ("alias/x") or alias name ("x")
	HTTPClient *http.Client
}

// AWS seals data keys with AWS KMS: GenerateDataKey (AES_256) with the
// encryption context, Decrypt and ReEncrypt with the same context.
type AWS struct {
	c   *awskms.Client
	def string
}

var (
	_ KMS       = (*AWS)(nil)
	_ Manager   = (*AWS)(nil)
	_ Rotator   = (*AWS)(nil)
	_ Rewrapper = (*AWS)(nil)
)

// NewAWS returns an AWS KMS backend. It does not contact AWS (Check does).
func NewAWS(ctx context.Context, cfg AWSConfig) (*AWS, error) {
	if cfg.DefaultKey == "" {
		return nil, errors.New("aws: a default key is required")
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRetryMaxAttempts(2)}
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	if cfg.AccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, awsconfig.WithHTTPClient(cfg.HTTPClient))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	if ac.Region == "" {
		return nil, errors.New("aws: a region is required (CAIRN_KMS_AWS_REGION or AWS_REGION)")
	}
	c := awskms.NewFromConfig(ac, func(o *awskms.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &AWS{c: c, def: awsKeyID(cfg.DefaultKey)}, nil
}

var uuidRE = regexp.MustCompile(`^(mrk-)?[0-9a-fA-F-]{32,36}$`)

// awsKeyID turns a key name into something AWS KMS accepts: ARNs, aliases and
// key ids as they are, a bare name as "alias/<name>".
func awsKeyID(id string) string {
	if strings.HasPrefix(id, "arn:") || strings.HasPrefix(id, "alias/") || uuidRE.MatchString(id) {
		return id
	}
	return "alias/" + id
}

func (a *AWS) key(keyID string) string {
	if keyID == "" {
		return a.def
	}
	return awsKeyID(keyID)
}

// DefaultKey is the default key (id, ARN or alias).
func (a *AWS) DefaultKey() string { return a.def }

func awsErr(err error, key string) error {
	var nf *types.NotFoundException
	var dis *types.DisabledException
	var st *types.KMSInvalidStateException
	var ic *types.InvalidCiphertextException
	var ik *types.IncorrectKeyException
	var ae *types.AlreadyExistsException
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("%w: aws %q", ErrKeyNotFound, key)
	case errors.As(err, &dis), errors.As(err, &st):
		return fmt.Errorf("%w: aws %q", ErrKeyDisabled, key)
	case errors.As(err, &ic), errors.As(err, &ik):
		return fmt.Errorf("%w: aws %q", ErrDecrypt, key)
	case errors.As(err, &ae):
		return fmt.Errorf("%w: aws %q", ErrKeyExists, key)
	}
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorFault() == smithy.FaultClient {
		return fmt.Errorf("aws: %s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Errorf("%w: aws: %v", ErrUnavailable, err)
}

// GenerateDataKey asks KMS for an AES_256 data key bound to enc.
func (a *AWS) GenerateKey(ctx context.Context, keyID string, enc Context) (DataKey, error) {
	key := a.key(keyID)
	out, err := a.c.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{
		KeyId: aws.String(key), KeySpec: types.DataKeySpecAes256, EncryptionContext: enc,
	})
	if err != nil {
		return DataKey{}, awsErr(err, key)
	}
	if len(out.Plaintext) != DataKeySize {
		return DataKey{}, fmt.Errorf("%w: aws returned a %d-byte data key", ErrUnavailable, len(out.Plaintext))
	}
	return DataKey{KeyID: aws.ToString(out.KeyId), Plaintext: out.Plaintext, Ciphertext: out.CiphertextBlob}, nil
}

// Decrypt asks KMS to decrypt a data key.
func (a *AWS) Decrypt(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	key := a.key(keyID)
	out, err := a.c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: ciphertext, EncryptionContext: enc, KeyId: aws.String(key)})
	if err != nil {
		return nil, awsErr(err, key)
	}
	if len(out.Plaintext) != DataKeySize {
		return nil, fmt.Errorf("%w: aws returned a %d-byte data key", ErrDecrypt, len(out.Plaintext))
	}
	return out.Plaintext, nil
}

// Rewrap re-encrypts a data key under the key's current material (ReEncrypt):
// the data key never leaves KMS.
func (a *AWS) Rewrap(ctx context.Context, keyID string, ciphertext []byte, enc Context) ([]byte, error) {
	key := a.key(keyID)
	out, err := a.c.ReEncrypt(ctx, &awskms.ReEncryptInput{
		CiphertextBlob: ciphertext, SourceKeyId: aws.String(key), SourceEncryptionContext: enc,
		DestinationKeyId: aws.String(key), DestinationEncryptionContext: enc,
	})
	if err != nil {
		return nil, awsErr(err, key)
	}
	return out.CiphertextBlob, nil
}

// CreateKey creates a symmetric key with the alias alias/<name>.
func (a *AWS) CreateKey(ctx context.Context, name string) (KeyInfo, error) {
	if !validName(name) || strings.HasPrefix(name, "arn:") {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	alias := awsKeyID(name)
	if _, err := a.KeyStatus(ctx, name); err == nil {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrKeyExists, name)
	}
	out, err := a.c.CreateKey(ctx, &awskms.CreateKeyInput{Description: aws.String("Cairn SSE key " + name)})
	if err != nil {
		return KeyInfo{}, awsErr(err, name)
	}
	if _, err := a.c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
		return KeyInfo{}, awsErr(err, alias)
	}
	return awsInfo(name, out.KeyMetadata), nil
}

// KeyStatus describes a key.
func (a *AWS) KeyStatus(ctx context.Context, name string) (KeyInfo, error) {
	key := a.key(name)
	out, err := a.c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(key)})
	if err != nil {
		return KeyInfo{}, awsErr(err, key)
	}
	return awsInfo(name, out.KeyMetadata), nil
}

func awsInfo(name string, m *types.KeyMetadata) KeyInfo {
	info := KeyInfo{Name: name, Backend: "aws"}
	if m != nil {
		info.ID, info.Enabled = aws.ToString(m.Arn), m.Enabled
		if m.CreationDate != nil {
			info.Created = *m.CreationDate
		}
	}
	return info
}

// ListKeys lists the keys that have aliases (other than AWS-managed ones).
func (a *AWS) ListKeys(ctx context.Context) ([]KeyInfo, error) {
	var out []KeyInfo
	p := awskms.NewListAliasesPaginator(a.c, &awskms.ListAliasesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsErr(err, "")
		}
		for _, al := range page.Aliases {
			name := strings.TrimPrefix(aws.ToString(al.AliasName), "alias/")
			if strings.HasPrefix(name, "aws/") || al.TargetKeyId == nil {
				continue
			}
			out = append(out, KeyInfo{Name: name, ID: aws.ToString(al.TargetKeyId), Enabled: true, Backend: "aws"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RotateKey rotates the key's material now (RotateKeyOnDemand); KMS keeps the
// old material for decryption.
func (a *AWS) RotateKey(ctx context.Context, name string) (KeyInfo, error) {
	info, err := a.KeyStatus(ctx, name)
	if err != nil {
		return info, err
	}
	if _, err := a.c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(info.ID)}); err != nil {
		var api smithy.APIError
		if errors.As(err, &api) && (api.ErrorCode() == "UnsupportedOperationException" || api.ErrorCode() == "UnknownOperationException") {
			return info, fmt.Errorf("%w: %s", ErrNotSupported, api.ErrorMessage())
		}
		var st interface{ HTTPStatusCode() int }
		if errors.As(err, &st) && st.HTTPStatusCode() == http.StatusNotImplemented { // emulators
			return info, fmt.Errorf("%w: RotateKeyOnDemand", ErrNotSupported)
		}
		return info, awsErr(err, name)
	}
	return info, nil
}
