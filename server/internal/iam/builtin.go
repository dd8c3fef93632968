package iam

// Built-in policies, always present, never changed or deleted. They mirror the
// canned policies S3-compatible servers ship:
//
//	readwrite  every S3 action on every bucket
//	readonly   s3:Get* and s3:List* on every bucket (reads, listings, configuration reads)
//	writeonly  uploads (PutObject, multipart) and aborting them, nothing else
//	admin      everything: every S3 action and the admin API (consoleAdmin's equivalent)
const (
	PolicyReadWrite = "readwrite"
	PolicyReadOnly  = "readonly"
	PolicyWriteOnly = "writeonly"
	PolicyAdmin     = "admin"
)

// BuiltinPolicies returns the built-in policy documents by name. The result is a
// new map on every call.
func BuiltinPolicies() map[string]string {
	return map[string]string{
		PolicyReadWrite: `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}
  ]
}`,
		PolicyReadOnly: `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": ["arn:aws:s3:::*"]}
  ]
}`,
		PolicyWriteOnly: `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"], "Resource": ["arn:aws:s3:::*"]}
  ]
}`,
		PolicyAdmin: `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["admin:*"], "Resource": ["*"]},
    {"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}
  ]
}`,
	}
}
