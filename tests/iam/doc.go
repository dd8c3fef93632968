// Package iam tests access control end to end: users, groups, access keys and
// policies set up through the admin API, bucket policies and public access
// blocks, exercised with aws-sdk-go-v2 against in-process servers.
package iam
