// Package tls proves Cairn's TLS: a server started with --certs-dir serves HTTPS
// that the AWS SDK, the aws cli and boto3 trust through a CA bundle, picks up a
// renewed certificate without restart, and answers plain HTTP cleanly.
package tls
