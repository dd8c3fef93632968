package iam

import (
	"testing"
)

// Policy evaluation, table-driven, with the examples of AWS's documentation
// ("IAM JSON policy elements", "Policy evaluation logic", "Amazon S3 bucket policy
// examples", "IAM identity-based policy examples"), adapted to bucket names and
// the S3 actions Cairn knows.

// Documents used by several cases.
const (
	// IAM JSON policy elements: Variables and tags — each user works in a
	// folder named after them.
	docUserFolder = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Action": ["s3:ListBucket"], "Effect": "Allow", "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket"],
	     "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}},
	    {"Action": ["s3:GetObject", "s3:PutObject"], "Effect": "Allow",
	     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"]}
	  ]
	}`
	// Amazon S3: Allows IAM users access to their S3 home directory, programmatically
	// and in the console.
	docHomeDirectory = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "AllowRootAndHomeListingOfCompanyBucket", "Action": ["s3:ListBucket"], "Effect": "Allow",
	     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket"],
	     "Condition": {"StringEquals": {"s3:prefix": ["", "home/", "home/${aws:username}/"], "s3:delimiter": ["/"]}}},
	    {"Sid": "AllowListingOfUserFolder", "Action": ["s3:ListBucket"], "Effect": "Allow",
	     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket"],
	     "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}},
	    {"Sid": "AllowAllS3ActionsInUserFolder", "Effect": "Allow", "Action": ["s3:*"],
	     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"]}
	  ]
	}`
	// Bucket policy examples: granting read-only permission to anonymous users.
	docPublicRead = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
	     "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket/*"]}
	  ]
	}`
	// Bucket policy examples: managing access based on specific IP addresses.
	docIPDeny = `{
	  "Version": "2012-10-17",
	  "Id": "S3PolicyId1",
	  "Statement": [
	    {"Sid": "IPAllow", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
	     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket/*"],
	     "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}
	  ]
	}`
	// Bucket policy examples: allowing IPv4 and IPv6 addresses.
	docIPMixed = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "AllowIPmix", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
	     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket/*"],
	     "Condition": {
	       "IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:DB8:1234:5678::/64"]},
	       "NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678:ABCD::/80"]}
	     }}
	  ]
	}`
	// Bucket policy examples: enforcing HTTPS (aws:SecureTransport).
	docRequireTLS = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "RestrictToTLSRequestsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
	     "Resource": ["arn:aws:s3:::amzn-s3-demo-bucket", "arn:aws:s3:::amzn-s3-demo-bucket/*"],
	     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
	  ]
	}`
	// AWS: Allows access based on date and time.
	docDateWindow = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
	     "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
	                   "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}}
	  ]
	}`
	// IAM JSON policy elements: NotResource — deny everything outside Payroll.
	docNotResource = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::hrbucket/*"]},
	    {"Effect": "Deny", "Action": "s3:*",
	     "NotResource": ["arn:aws:s3:::hrbucket/Payroll", "arn:aws:s3:::hrbucket/Payroll/*"]}
	  ]
	}`
	// IAM JSON policy elements: NotAction — allow everything except deleting.
	docNotAction = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "NotAction": ["s3:DeleteObject", "s3:DeleteBucket"], "Resource": "*"}
	  ]
	}`
	// Identity-based policy examples: s3:max-keys limits listings.
	docMaxKeys = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
	     "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}}}
	  ]
	}`
	docAllowAllS3 = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}`
	docDenyDelete = `{"Version": "2012-10-17", "Statement": [
	    {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}]}`
	docAllowReadOnly = `{"Version": "2012-10-17", "Statement": [
	    {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}`
	// Bucket policy naming a user (cross-principal grant within the account).
	docBucketAllowsCarlos = `{"Version": "2012-10-17", "Statement": [
	    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/carlos"},
	     "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}]}`
	docBucketDeniesCarlos = `{"Version": "2012-10-17", "Statement": [
	    {"Effect": "Deny", "Principal": {"AWS": ["arn:aws:iam::111122223333:user/carlos"]},
	     "Action": "s3:*", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}]}`
	docStringNotEquals = `{"Version": "2012-10-17", "Statement": [
	    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
	    {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
	     "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}]}`
	docIfExists = `{"Version": "2012-10-17", "Statement": [
	    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
	     "Condition": {"StringLikeIfExists": {"s3:delimiter": "/"}}}]}`
	docNull = `{"Version": "2012-10-17", "Statement": [
	    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
	     "Condition": {"Null": {"s3:delimiter": "true"}}}]}`
	docVersion2008 = `{"Version": "2008-10-17", "Statement": [
	    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*"}]}`
	docLiteralStar = `{"Version": "2012-10-17", "Statement": [
	    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${*}/x"}]}`
)

const bkt = "amzn-s3-demo-bucket"

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy: %v\n%s", err, doc)
	}
	return p
}

func mustParseBucket(t *testing.T, doc, bucket string) *Policy {
	t.Helper()
	p, err := ParseBucketPolicy([]byte(doc), bucket)
	if err != nil {
		t.Fatalf("ParseBucketPolicy: %v\n%s", err, doc)
	}
	return p
}

func TestEvaluateAWSExamples(t *testing.T) {
	alice := Requester{User: "alice"}
	carlos := Requester{User: "carlos"}
	anon := Requester{Anonymous: true}
	ctx := func(kv ...string) Context {
		c := Context{}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i]] = append(c[kv[i]], kv[i+1])
		}
		return c
	}
	userCtx := func(user string, kv ...string) Context {
		return ctx(append([]string{KeyUsername, user}, kv...)...)
	}
	cases := []struct {
		name     string
		identity []string // identity policy documents
		session  string   // inline key policy
		bucket   string   // bucket policy of bkt
		who      Requester
		action   string
		resource string
		ctx      Context
		want     Decision
	}{
		// Variables: ${aws:username} in resources and conditions.
		{"user folder: own object", []string{docUserFolder}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "alice/photo.jpg"), userCtx("alice"), Allowed},
		{"user folder: upload own", []string{docUserFolder}, "", "", alice, "s3:PutObject", ResourceARN(bkt, "alice/a/b"), userCtx("alice"), Allowed},
		{"user folder: other's object", []string{docUserFolder}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "bob/photo.jpg"), userCtx("alice"), DenyImplicit},
		{"user folder: name prefix is not a folder", []string{docUserFolder}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "alicebob/x"), userCtx("alice"), DenyImplicit},
		{"user folder: delete not granted", []string{docUserFolder}, "", "", alice, "s3:DeleteObject", ResourceARN(bkt, "alice/x"), userCtx("alice"), DenyImplicit},
		{"user folder: list own prefix", []string{docUserFolder}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyPrefix, "alice/"), Allowed},
		{"user folder: list other prefix", []string{docUserFolder}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyPrefix, "bob/"), DenyImplicit},
		{"user folder: list without prefix", []string{docUserFolder}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyPrefix, ""), DenyImplicit},
		{"user folder: other bucket", []string{docUserFolder}, "", "", alice, "s3:GetObject", ResourceARN("other", "alice/x"), userCtx("alice"), DenyImplicit},
		{"user folder: no username resolves nothing", []string{docUserFolder}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "/x"), ctx(), DenyImplicit},

		// Home directory (console example): root listing with delimiter, own folder.
		{"home: list root with delimiter", []string{docHomeDirectory}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyPrefix, "", KeyDelimiter, "/"), Allowed},
		{"home: list home/ with delimiter", []string{docHomeDirectory}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyPrefix, "home/", KeyDelimiter, "/"), Allowed},
		{"home: list root without delimiter", []string{docHomeDirectory}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyPrefix, ""), DenyImplicit},
		{"home: list inside own folder", []string{docHomeDirectory}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyPrefix, "home/alice/2024/"), Allowed},
		{"home: list other user's folder", []string{docHomeDirectory}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyPrefix, "home/bob/", KeyDelimiter, "/"), DenyImplicit},
		{"home: any action in own folder", []string{docHomeDirectory}, "", "", alice, "s3:DeleteObject", ResourceARN(bkt, "home/alice/x"), userCtx("alice"), Allowed},
		{"home: nothing in other folder", []string{docHomeDirectory}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "home/bob/x"), userCtx("alice"), DenyImplicit},

		// Public read bucket policy: anonymous reads, no anonymous writes or listings.
		{"public read: anonymous GET", nil, "", docPublicRead, anon, "s3:GetObject", ResourceARN(bkt, "index.html"), ctx(), Allowed},
		{"public read: anonymous PUT", nil, "", docPublicRead, anon, "s3:PutObject", ResourceARN(bkt, "index.html"), ctx(), DenyImplicit},
		{"public read: anonymous list", nil, "", docPublicRead, anon, "s3:ListBucket", ResourceARN(bkt, ""), ctx(), DenyImplicit},
		{"public read: user without policies reads too", nil, "", docPublicRead, alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), Allowed},
		{"no bucket policy: anonymous denied", nil, "", "", anon, "s3:GetObject", ResourceARN(bkt, "x"), ctx(), DenyImplicit},
		{"identity policies never apply to anonymous", []string{docAllowAllS3}, "", "", anon, "s3:GetObject", ResourceARN(bkt, "x"), ctx(), DenyImplicit},

		// IP address conditions.
		{"ip deny: inside range", []string{docAllowAllS3}, "", docIPDeny, alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice", KeySourceIP, "192.0.2.77"), Allowed},
		{"ip deny: outside range", []string{docAllowAllS3}, "", docIPDeny, alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice", KeySourceIP, "198.51.100.1"), DenyExplicit},
		{"ip deny: unknown source ip", []string{docAllowAllS3}, "", docIPDeny, alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyExplicit},
		{"ip mix: allowed v4", nil, "", docIPMixed, anon, "s3:GetObject", ResourceARN(bkt, "x"), ctx(KeySourceIP, "192.0.2.1"), Allowed},
		{"ip mix: allowed v6", nil, "", docIPMixed, anon, "s3:GetObject", ResourceARN(bkt, "x"), ctx(KeySourceIP, "2001:db8:1234:5678::1"), Allowed},
		{"ip mix: excluded v6 block", nil, "", docIPMixed, anon, "s3:GetObject", ResourceARN(bkt, "x"), ctx(KeySourceIP, "2001:db8:1234:5678:abcd::1"), DenyImplicit},
		{"ip mix: outside", nil, "", docIPMixed, anon, "s3:GetObject", ResourceARN(bkt, "x"), ctx(KeySourceIP, "203.0.113.5"), DenyImplicit},

		// aws:SecureTransport.
		{"tls required: plain http denied", []string{docAllowAllS3}, "", docRequireTLS, alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice", KeySecureTransport, "false"), DenyExplicit},
		{"tls required: https allowed", []string{docAllowAllS3}, "", docRequireTLS, alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice", KeySecureTransport, "true"), Allowed},

		// Dates.
		{"date window: inside", []string{docDateWindow}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice", KeyCurrentTime, "2020-05-01T12:00:00Z"), Allowed},
		{"date window: before", []string{docDateWindow}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice", KeyCurrentTime, "2020-03-31T23:59:59Z"), DenyImplicit},
		{"date window: after", []string{docDateWindow}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice", KeyCurrentTime, "2020-07-01T00:00:00Z"), DenyImplicit},

		// NotResource / NotAction.
		{"not resource: payroll allowed", []string{docNotResource}, "", "", alice, "s3:GetObject", ResourceARN("hrbucket", "Payroll/jan.csv"), userCtx("alice"), Allowed},
		{"not resource: elsewhere denied", []string{docNotResource}, "", "", alice, "s3:GetObject", ResourceARN("hrbucket", "Reviews/x"), userCtx("alice"), DenyExplicit},
		{"not action: get allowed", []string{docNotAction}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), Allowed},
		{"not action: delete not allowed", []string{docNotAction}, "", "", alice, "s3:DeleteObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyImplicit},

		// Numeric condition.
		{"max-keys: 10 allowed", []string{docMaxKeys}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyMaxKeys, "10"), Allowed},
		{"max-keys: 1000 denied", []string{docMaxKeys}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyMaxKeys, "1000"), DenyImplicit},
		{"max-keys: absent denied", []string{docMaxKeys}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice"), DenyImplicit},

		// Deny wins, across policies.
		{"deny overrides allow in another identity policy", []string{docAllowAllS3, docDenyDelete}, "", "", alice, "s3:DeleteObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyExplicit},
		{"deny of delete leaves get", []string{docAllowAllS3, docDenyDelete}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), Allowed},
		{"bucket policy deny overrides identity allow", []string{docAllowAllS3}, "", docBucketDeniesCarlos, carlos, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("carlos"), DenyExplicit},
		{"bucket policy deny of carlos spares alice", []string{docAllowAllS3}, "", docBucketDeniesCarlos, alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), Allowed},
		{"bucket policy allow grants a user without identity policies", nil, "", docBucketAllowsCarlos, carlos, "s3:PutObject", ResourceARN(bkt, "x"), userCtx("carlos"), Allowed},
		{"bucket policy allow for carlos does not grant alice", nil, "", docBucketAllowsCarlos, alice, "s3:PutObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyImplicit},
		{"bucket policy allow for carlos does not grant anonymous", nil, "", docBucketAllowsCarlos, anon, "s3:GetObject", ResourceARN(bkt, "x"), ctx(), DenyImplicit},
		{"no policy at all", nil, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyImplicit},

		// Session (inline key) policies restrict.
		{"session: both allow", []string{docAllowAllS3}, docAllowReadOnly, "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), Allowed},
		{"session: identity allows, session does not", []string{docAllowAllS3}, docAllowReadOnly, "", alice, "s3:PutObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyImplicit},
		{"session: session allows, identity does not", []string{docAllowReadOnly}, docAllowAllS3, "", alice, "s3:PutObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyImplicit},
		{"session: session deny wins", []string{docAllowAllS3}, docDenyDelete, "", alice, "s3:DeleteObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyExplicit},
		{"session: bucket grant still limited by session", nil, docAllowReadOnly, docBucketAllowsCarlos, carlos, "s3:PutObject", ResourceARN(bkt, "x"), userCtx("carlos"), DenyImplicit},

		// Missing keys: negated operators are true, IfExists and Null.
		{"StringNotEquals with absent key applies (deny)", []string{docStringNotEquals}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyExplicit},
		{"StringNotEquals with matching key does not apply", []string{docStringNotEquals}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice", "aws:sourcevpce", "vpce-1a2b3c4d"), Allowed},
		{"IfExists: absent key passes", []string{docIfExists}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice"), Allowed},
		{"IfExists: present key must match", []string{docIfExists}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyDelimiter, "|"), DenyImplicit},
		{"Null true: absent", []string{docNull}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice"), Allowed},
		{"Null true: present", []string{docNull}, "", "", alice, "s3:ListBucket", ResourceARN(bkt, ""), userCtx("alice", KeyDelimiter, "/"), DenyImplicit},

		// Versions and escapes.
		{"2008 policy: variables are literal", []string{docVersion2008}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "alice/x"), userCtx("alice"), DenyImplicit},
		{"2008 policy: literal text matches", []string{docVersion2008}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "${aws:username}/x"), userCtx("alice"), Allowed},
		{"${*} is a literal star", []string{docLiteralStar}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "*/x"), userCtx("alice"), Allowed},
		{"${*} is not a wildcard", []string{docLiteralStar}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "abc/x"), userCtx("alice"), DenyImplicit},

		// Action matching is case-insensitive, wildcards work.
		{"action case", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"S3:getobject","Resource":"*"}}`}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "x"), userCtx("alice"), Allowed},
		{"action wildcard Get* excludes Put", []string{docAllowReadOnly}, "", "", alice, "s3:PutObject", ResourceARN(bkt, "x"), userCtx("alice"), DenyImplicit},
		{"resource wildcard ?", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/log-?.txt"}}`}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "log-1.txt"), userCtx("alice"), Allowed},
		{"resource wildcard ? is one character", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/log-?.txt"}}`}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "log-12.txt"), userCtx("alice"), DenyImplicit},
		{"resource is case-sensitive", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/Docs/*"}}`}, "", "", alice, "s3:GetObject", ResourceARN(bkt, "docs/x"), userCtx("alice"), DenyImplicit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Action: tc.action, Resource: tc.resource, Requester: tc.who, Context: tc.ctx}
			for _, d := range tc.identity {
				in.Identity = append(in.Identity, mustParse(t, d))
			}
			if tc.session != "" {
				in.Session = mustParse(t, tc.session)
			}
			if tc.bucket != "" {
				in.Bucket = mustParseBucket(t, tc.bucket, bucketOf(tc.resource))
			}
			if got := Evaluate(in); got != tc.want {
				t.Errorf("Evaluate = %s, want %s", got, tc.want)
			}
		})
	}
}

// bucketOf returns the bucket of an S3 ARN (for parsing the bucket policy).
func bucketOf(arn string) string {
	rest := arn[len("arn:aws:s3:::"):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return rest[:i]
		}
	}
	return rest
}

func TestBuiltinPolicies(t *testing.T) {
	parsed := map[string]*Policy{}
	for name, doc := range BuiltinPolicies() {
		parsed[name] = mustParse(t, doc)
	}
	user := Requester{User: "u"}
	cases := []struct {
		policy, action, resource string
		want                     Decision
	}{
		{PolicyReadWrite, "s3:PutObject", ResourceARN("b", "k"), Allowed},
		{PolicyReadWrite, "s3:DeleteBucket", ResourceARN("b", ""), Allowed},
		{PolicyReadWrite, "s3:ListAllMyBuckets", ResourceARN("", ""), Allowed},
		{PolicyReadWrite, "admin:CreateUser", "*", DenyImplicit},
		{PolicyReadOnly, "s3:GetObject", ResourceARN("b", "k"), Allowed},
		{PolicyReadOnly, "s3:ListBucket", ResourceARN("b", ""), Allowed},
		{PolicyReadOnly, "s3:PutObject", ResourceARN("b", "k"), DenyImplicit},
		{PolicyReadOnly, "s3:DeleteObject", ResourceARN("b", "k"), DenyImplicit},
		{PolicyWriteOnly, "s3:PutObject", ResourceARN("b", "k"), Allowed},
		{PolicyWriteOnly, "s3:GetObject", ResourceARN("b", "k"), DenyImplicit},
		{PolicyWriteOnly, "s3:ListBucket", ResourceARN("b", ""), DenyImplicit},
		{PolicyAdmin, "admin:CreateUser", "*", Allowed},
		{PolicyAdmin, "s3:DeleteBucket", ResourceARN("b", ""), Allowed},
	}
	for _, tc := range cases {
		got := Evaluate(Input{Action: tc.action, Resource: tc.resource, Requester: user,
			Identity: []*Policy{parsed[tc.policy]}, Context: Context{KeyUsername: {"u"}}})
		if got != tc.want {
			t.Errorf("%s: %s on %s = %s, want %s", tc.policy, tc.action, tc.resource, got, tc.want)
		}
	}
}

func TestIsPublic(t *testing.T) {
	cases := []struct {
		name, doc string
		want      bool
	}{
		{"public read", docPublicRead, true},
		{"deny only", docIPDeny, false},
		{"named user", docBucketAllowsCarlos, false},
		{"allow * pinned to a /24", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}`, false},
		{"allow * with a /0", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}]}`, true},
		{"allow * pinned to a vpce", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}}]}`, false},
		{"allow * with a wildcard vpce", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"StringLike":{"aws:SourceVpce":"vpce-*"}}}]}`, true},
	}
	for _, tc := range cases {
		if got := IsPublic(mustParseBucket(t, tc.doc, bkt)); got != tc.want {
			t.Errorf("%s: IsPublic = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMatchWildcard(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"a*", "abc", true},
		{"a*c", "abc", true},
		{"a*c", "abd", false},
		{"*.txt", "dir/file.txt", true},
		{"*.txt", "file.txt.gz", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true}, // ? is one character, not one byte
		{"a??c", "aéc", false},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"home/" + quotedStar + "/x", "home/*/x", true},
		{"home/" + quotedStar + "/x", "home/abc/x", false},
		{"a" + quotedQuestion, "a?", true},
		{"a" + quotedQuestion, "ab", false},
		{"*" + quotedStar, "abc*", true},
		{"*" + quotedStar, "abc", false},
	}
	for _, tc := range cases {
		if got := matchWildcard(tc.pattern, tc.s); got != tc.want {
			t.Errorf("matchWildcard(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
