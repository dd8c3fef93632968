package main

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/cairn-io/cairn/server"
)

// devKMSSecret derives the built-in KMS master key of --dev servers without
// CAIRN_KMS_MASTER_KEY. It is public: data encrypted with it is not protected.
const devKMSSecret = "cairn-dev-kms-master-key: never use in production"

// kmsFlags registers the KMS flags and returns a function that builds the KMS
// configuration from them and the environment:
//
//	CAIRN_KMS_BACKEND         builtin (default) | vault | aws | gcp | azure
//	CAIRN_KMS_MASTER_KEY      builtin: base64 of 32 bytes, or a file holding that (or 32 raw bytes)
//	CAIRN_KMS_DEFAULT_KEY     key of SSE-S3 and of SSE-KMS requests naming none
//	CAIRN_KMS_KEYS            builtin: comma-separated key names created at start
//	CAIRN_KMS_VAULT_ADDR, CAIRN_KMS_VAULT_TOKEN (or VAULT_ADDR, VAULT_TOKEN), CAIRN_KMS_VAULT_MOUNT, CAIRN_KMS_VAULT_NAMESPACE
//	CAIRN_KMS_AWS_ENDPOINT, CAIRN_KMS_AWS_REGION, CAIRN_KMS_AWS_ACCESS_KEY, CAIRN_KMS_AWS_SECRET_KEY (else the AWS SDK's chain)
//	CAIRN_KMS_GCP_KEYRING, CAIRN_KMS_GCP_ENDPOINT, CAIRN_KMS_GCP_CREDENTIALS (else application default credentials)
//	CAIRN_KMS_AZURE_VAULT_URL (credentials: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, managed identity, …)
//	CAIRN_SSE_C_ALLOW_HTTP    true: accept SSE-C keys over plain HTTP (tests only)
func kmsFlags(fs *flag.FlagSet) func(dev bool, log *slog.Logger) (server.KMSConfig, error) {
	backend := fs.String("kms-backend", os.Getenv("CAIRN_KMS_BACKEND"), "KMS for SSE-S3/SSE-KMS: builtin, vault, aws, gcp or azure (see CAIRN_KMS_* in the README)")
	return func(dev bool, log *slog.Logger) (server.KMSConfig, error) {
		c := server.KMSConfig{
			Backend:               *backend,
			DefaultKey:            os.Getenv("CAIRN_KMS_DEFAULT_KEY"),
			VaultAddress:          envOr("CAIRN_KMS_VAULT_ADDR", os.Getenv("VAULT_ADDR")),
			VaultToken:            envOr("CAIRN_KMS_VAULT_TOKEN", os.Getenv("VAULT_TOKEN")),
			VaultMount:            os.Getenv("CAIRN_KMS_VAULT_MOUNT"),
			VaultNamespace:        os.Getenv("CAIRN_KMS_VAULT_NAMESPACE"),
			AWSEndpoint:           os.Getenv("CAIRN_KMS_AWS_ENDPOINT"),
			AWSRegion:             os.Getenv("CAIRN_KMS_AWS_REGION"),
			AWSAccessKey:          os.Getenv("CAIRN_KMS_AWS_ACCESS_KEY"),
			AWSSecretKey:          os.Getenv("CAIRN_KMS_AWS_SECRET_KEY"),
			GCPKeyRing:            os.Getenv("CAIRN_KMS_GCP_KEYRING"),
			GCPEndpoint:           os.Getenv("CAIRN_KMS_GCP_ENDPOINT"),
			GCPCredentialsFile:    os.Getenv("CAIRN_KMS_GCP_CREDENTIALS"),
			AzureVaultURL:         os.Getenv("CAIRN_KMS_AZURE_VAULT_URL"),
			AllowHTTPCustomerKeys: os.Getenv("CAIRN_SSE_C_ALLOW_HTTP") == "true",
		}
		if v := os.Getenv("CAIRN_KMS_KEYS"); v != "" {
			for _, k := range strings.Split(v, ",") {
				if k = strings.TrimSpace(k); k != "" {
					c.Keys = append(c.Keys, k)
				}
			}
		}
		if c.Backend != "" && c.Backend != "builtin" {
			return c, nil
		}
		mk, err := masterKey(os.Getenv("CAIRN_KMS_MASTER_KEY"))
		if err != nil {
			return c, fmt.Errorf("CAIRN_KMS_MASTER_KEY: %w", err)
		}
		switch {
		case mk != nil:
			c.MasterKey = mk
		case dev:
			sum := sha256.Sum256([]byte(devKMSSecret))
			c.MasterKey = sum[:]
			log.Warn("!!! SSE: the built-in KMS runs with the PUBLIC development master key (--dev without CAIRN_KMS_MASTER_KEY): " +
				"encrypted objects are NOT protected. Set CAIRN_KMS_MASTER_KEY (base64 of 32 random bytes: `head -c32 /dev/urandom | base64`) for real data.")
		default:
			log.Info("SSE: no KMS configured (CAIRN_KMS_MASTER_KEY or CAIRN_KMS_BACKEND); SSE-S3 and SSE-KMS are off, SSE-C works")
		}
		return c, nil
	}
}

// masterKey reads CAIRN_KMS_MASTER_KEY: base64 of 32 bytes, or the path of a
// file holding that or 32 raw bytes. "" is no key.
func masterKey(v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v)); err == nil && len(b) == 32 {
		return b, nil
	}
	raw, err := os.ReadFile(v)
	if err != nil {
		return nil, errors.New("neither base64 of 32 bytes nor a readable file")
	}
	if len(raw) == 32 {
		return raw, nil
	}
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw))); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, fmt.Errorf("the file %s holds neither 32 bytes nor base64 of 32 bytes", v)
}
